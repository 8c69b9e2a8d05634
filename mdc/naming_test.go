package mdc

import (
	"context"
	"fmt"
	"slices"
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
