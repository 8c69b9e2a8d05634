package mdc

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestPresets(t *testing.T) {
	for _, tc := range []struct {
		p           Preset
		trace, span string
	}{
		{PresetDefault, "traceId", "spanId"},
		{PresetSOFA, "SOFA-TraceId", "SOFA-SpanId"},
		{PresetOTel, "trace_id", "span_id"},
		{PresetECS, "trace.id", "span.id"},
	} {
		n := NewNaming(tc.p)
		if f, ok := n.Field(KeyTraceID); !ok || f != tc.trace {
			t.Errorf("%v trace = %q", tc.p, f)
		}
		if f, ok := n.Field(KeySpanID); !ok || f != tc.span {
			t.Errorf("%v span = %q", tc.p, f)
		}
		if f, _ := n.Field("user"); f != "user" {
			t.Errorf("%v user = %q", tc.p, f)
		}
		if n.Preset() != tc.p || tc.p.String() == "Preset(?)" {
			t.Errorf("preset %v", tc.p)
		}
	}
	var nilNaming *Naming
	if f, _ := nilNaming.Field(KeyTraceID); f != "traceId" || nilNaming.GroupName() != "" {
		t.Fatal("nil Naming is not the default")
	}
	if Preset(42).String() != "Preset(?)" {
		t.Fatal("unknown preset name")
	}
}

func TestRenameAllowDenyGroup(t *testing.T) {
	n := NewNaming(PresetSOFA, Rename(KeyTraceID, "tid"),
		Allow(KeyTraceID, KeySpanID, "user", "secret"), Deny("secret"), Group("mdc"), nil)
	for key, want := range map[string]string{KeyTraceID: "tid", KeySpanID: "SOFA-SpanId", "user": "user"} {
		if f, ok := n.Field(key); !ok || f != want {
			t.Errorf("%s -> %q %v, want %q", key, f, ok, want)
		}
	}
	for _, key := range []string{"secret", "other", ""} {
		if _, ok := n.Field(key); ok {
			t.Errorf("%q rendered", key)
		}
	}
	if n.GroupName() != "mdc" {
		t.Fatal("group")
	}
	ctx := WithPairs(context.Background(), Pair{KeyTraceID, "t"}, Pair{"secret", "s"}, Pair{"user", "u"}, Pair{KeySpanID, "0"})
	got := n.Fields(From(ctx))
	eq(t, got, Pair{"tid", "t"}, Pair{"user", "u"}, Pair{"SOFA-SpanId", "0"})
}

func TestFieldsFirstWinsOnSameFieldName(t *testing.T) {
	n := NewNaming(PresetDefault, Rename("legacyTrace", "traceId"))
	ctx := WithPairs(context.Background(), Pair{KeyTraceID, "new"}, Pair{"legacyTrace", "old"})
	eq(t, n.Fields(From(ctx)), Pair{"traceId", "new"})
}

// TestNamingByFieldName: Rename, Allow and Deny given the field name a line shows act on the key
// rendered under it, whatever the preset; on the code before, each was a silent no-op (Allow dropped
// every field).
func TestNamingByFieldName(t *testing.T) {
	ctx := WithPairs(context.Background(), Pair{KeyTraceID, "t"}, Pair{KeySpanID, "0.1"}, Pair{"user", "u"})
	for _, tc := range []struct {
		name string
		n    *Naming
		want []Pair
	}{
		{"allow otel field", NewNaming(PresetOTel, Allow("trace_id")), []Pair{{"trace_id", "t"}}},
		{"rename otel field", NewNaming(PresetOTel, Rename("trace_id", "tid")), []Pair{{"tid", "t"}, {"span_id", "0.1"}, {"user", "u"}}},
		{"deny sofa field", NewNaming(PresetSOFA, Deny("SOFA-SpanId")), []Pair{{"SOFA-TraceId", "t"}, {"user", "u"}}},
		{"allow ecs fields", NewNaming(PresetECS, Allow("span.id", "trace.id")), []Pair{{"trace.id", "t"}, {"span.id", "0.1"}}},
		{"allow the renamed field", NewNaming(PresetOTel, Rename("trace_id", "tid"), Allow("tid")), []Pair{{"tid", "t"}}},
		{"allow the preset name of a renamed id", NewNaming(PresetOTel, Rename(KeyTraceID, "tid"), Allow("trace_id")), []Pair{{"tid", "t"}}},
		{"allow before the rename", NewNaming(PresetDefault, Allow("userId"), Rename("user", "userId")), []Pair{{"userId", "u"}}},
		{"deny a rename target", NewNaming(PresetDefault, Rename("user", "userId"), Deny("userId")), []Pair{{"traceId", "t"}, {"spanId", "0.1"}}},
		{"keys still work", NewNaming(PresetOTel, Allow(KeySpanID), Rename(KeySpanID, "sid")), []Pair{{"sid", "0.1"}}},
		{"a key spelled like a field", NewNaming(PresetOTel, Allow("user")), []Pair{{"user", "u"}}},
	} {
		if got := tc.n.Fields(From(ctx)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// An MDC key spelled like the preset's field name is matched too.
	lit := WithPairs(context.Background(), Pair{"trace_id", "literal"}, Pair{KeyTraceID, "t"})
	if got := NewNaming(PresetOTel, Rename("trace_id", "tid")).Fields(From(lit)); !slices.Equal(got, []Pair{{"tid", "literal"}}) {
		t.Errorf("literal key: %v", got)
	}
}

func TestRenameEmptyPanics(t *testing.T) {
	for _, o := range []NamingOption{Rename("", "x"), Rename("k", "")} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "mdc: Rename") {
					t.Errorf("recovered %v", r)
				}
			}()
			NewNaming(PresetDefault, o)
		}()
	}
}

func TestOwnKeys(t *testing.T) {
	o := NewOwnKeys("time", "level", "msg", "source", "", "msg")
	if got := o.Keys(); !slices.Equal(got, []string{"time", "level", "msg", "source"}) {
		t.Fatalf("keys %v", got)
	}
	for f, want := range map[string]string{"msg": "fields.msg", "time": "fields.time", "source": "fields.source",
		"spanId": "spanId", "traceId": "traceId", "": "", "fields.msg": "fields.msg", "msgs": "msgs", "sourcf": "sourcf"} {
		if got := o.Field(f); got != want {
			t.Errorf("Field(%q) = %q, want %q", f, got, want)
		}
	}
	var zero OwnKeys
	if zero.Has("msg") || zero.Field("msg") != "msg" {
		t.Fatal("zero OwnKeys is not empty")
	}
	if n := testing.AllocsPerRun(100, func() { _ = o.Has("spanId") || o.Has("msg") }); n != 0 {
		t.Fatalf("Has allocates %v", n)
	}
}

// TestVendorFormats checks the GoogleCloud and Datadog values against the vendors' documented
// formats, for W3C ids (as an OpenTelemetry span has them) and SOFA ids. The expected numbers were
// computed apart from this package (Python: int(hex, 16), FNV-1a 64 of the span id text).
func TestVendorFormats(t *testing.T) {
	w3c := WithPairs(context.Background(), Pair{KeyTraceID, "4bf92f3577b34da6a3ce929d0e0e4736"},
		Pair{KeySpanID, "00f067aa0ba902b7"}, Pair{KeySampled, "true"}, Pair{"user", "u"})
	sofa := WithPairs(context.Background(), Pair{KeyTraceID, "0ad1348f1403169275002100356696"},
		Pair{KeySpanID, "0.1"}, Pair{KeySampled, "false"})
	gcp := NewNaming(PresetOTel, GoogleCloud("my-project"))
	dd := NewNaming(PresetSOFA, Datadog())
	type field struct {
		name, value string
		isBool      bool
	}
	render := func(n *Naming, ctx context.Context) []field {
		var out []field
		for _, p := range From(ctx).Pairs(nil) {
			if f, ok := n.Field(p.Key); ok {
				v, b := n.Value(p.Key, p.Value)
				out = append(out, field{f, v, b})
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		n    *Naming
		ctx  context.Context
		want []field
	}{
		{"gcp w3c", gcp, w3c, []field{
			{"logging.googleapis.com/trace", "projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736", false},
			{"logging.googleapis.com/spanId", "00f067aa0ba902b7", false},
			{"logging.googleapis.com/trace_sampled", "true", true},
			{"user", "u", false}}},
		{"gcp sofa", gcp, sofa, []field{
			{"logging.googleapis.com/trace", "projects/my-project/traces/000ad1348f1403169275002100356696", false},
			{"logging.googleapis.com/spanId", "4e18dd181d0a2066", false},
			{"logging.googleapis.com/trace_sampled", "false", true}}},
		{"datadog w3c", dd, w3c, []field{
			{"dd.trace_id", "11803532876627986230", false},
			{"dd.span_id", "67667974448284343", false},
			{"sampled", "true", false},
			{"user", "u", false}}},
		{"datadog sofa", dd, sofa, []field{
			{"dd.trace_id", "10553341443550045846", false},
			{"dd.span_id", "5627490830035591270", false},
			{"sampled", "false", false}}},
	} {
		got := render(tc.n, tc.ctx)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
	gcpTrace := regexp.MustCompile(`^projects/[^/]+/traces/[0-9a-f]{32}$`)
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, id := range []string{"0ad1348f1403169275002100356696", "0ad1348f1403169275002100356696T", "4BF92F3577B34DA6A3CE929D0E0E4736", "x", "0.1.1.1"} {
		if v, _ := gcp.Value(KeyTraceID, id); !gcpTrace.MatchString(v) {
			t.Errorf("gcp trace of %q = %q", id, v)
		}
		if v, _ := gcp.Value(KeySpanID, id); !hex16.MatchString(v) {
			t.Errorf("gcp span of %q = %q", id, v)
		}
		for _, k := range []string{KeyTraceID, KeySpanID} {
			v, _ := dd.Value(k, id)
			if _, err := strconv.ParseUint(v, 10, 64); err != nil {
				t.Errorf("datadog %s of %q = %q: %v", k, id, v, err)
			}
		}
	}
	// Without a format, values are passed on as they are, with no allocation.
	if v, b := NewNaming(PresetOTel).Value(KeyTraceID, "t"); v != "t" || b {
		t.Fatal("value changed without a format")
	}
	var nilNaming *Naming
	if v, b := gcp.Value(KeySampled, "maybe"); nilNaming.Converts() || v != "maybe" || b {
		t.Fatal("nil naming converts, or a non-boolean sampled value was changed")
	}
	otel := NewNaming(PresetOTel)
	if n := testing.AllocsPerRun(100, func() { otel.Value(KeyTraceID, "t") }); n != 0 {
		t.Fatalf("allocs %v", n)
	}
}

// TestVendorFormatNames: the vendor field names resolve in Allow, Deny and Rename like a preset's.
func TestVendorFormatNames(t *testing.T) {
	ctx := WithPairs(context.Background(), Pair{KeyTraceID, "4bf92f3577b34da6a3ce929d0e0e4736"}, Pair{KeySpanID, "00f067aa0ba902b7"},
		Pair{KeySampled, "true"})
	n := NewNaming(PresetDefault, GoogleCloud("p"), Deny("logging.googleapis.com/spanId"), Rename("logging.googleapis.com/trace_sampled", "sampledFlag"))
	got := n.Fields(From(ctx))
	want := []Pair{{"logging.googleapis.com/trace", "4bf92f3577b34da6a3ce929d0e0e4736"}, {"sampledFlag", "true"}} // Fields shows raw values
	if !slices.Equal(got, want) {
		t.Fatalf("got %v", got)
	}
	if v, b := n.Value(KeySampled, "true"); v != "true" || !b {
		t.Fatal("renamed sampled field lost its boolean")
	}
	for _, bad := range []string{"", "a/b", "a b"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "mdc: GoogleCloud") {
					t.Errorf("GoogleCloud(%q): recovered %v", bad, r)
				}
			}()
			NewNaming(PresetDefault, GoogleCloud(bad))
		}()
	}
}
