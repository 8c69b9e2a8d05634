package mdc

import (
	"context"
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
	n := NewNaming(PresetSOFA, Rename(KeyTraceID, "tid"), Rename("", "x"), Rename("k", ""),
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
