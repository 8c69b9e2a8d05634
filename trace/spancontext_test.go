package trace

import (
	"errors"
	"strings"
	"testing"
)

func TestNewSpanContextIDs(t *testing.T) {
	sc, err := NewSpanContext(SpanContextConfig{TraceID: "0ad1348f1403169275002100356696", SpanID: "0.1", ParentID: "0", Sampled: true})
	if err != nil || !sc.IsValid() {
		t.Fatalf("valid config: %v, valid=%v", err, sc.IsValid())
	}
	if sc.TraceID() != "0ad1348f1403169275002100356696" || sc.SpanID() != "0.1" || sc.ParentID() != "0" || !sc.Sampled() {
		t.Fatalf("fields: %+v", sc)
	}
	if (SpanContext{}).IsValid() {
		t.Fatal("the zero SpanContext must not be valid")
	}
	bad := []struct {
		cfg    SpanContextConfig
		field  string
		reason string
	}{
		{SpanContextConfig{SpanID: "0"}, "traceId", "empty"},
		{SpanContextConfig{TraceID: "t"}, "spanId", "empty"},
		{SpanContextConfig{TraceID: strings.Repeat("a", MaxTraceIDLen+1), SpanID: "0"}, "traceId", "too long"},
		{SpanContextConfig{TraceID: "t", SpanID: strings.Repeat("1.", 300)}, "spanId", "too long"},
		{SpanContextConfig{TraceID: "t\n{\"forged\":1}", SpanID: "0"}, "traceId", "bad character"},
		{SpanContextConfig{TraceID: "t", SpanID: "0 1"}, "spanId", "bad character"},
		{SpanContextConfig{TraceID: "t", SpanID: "0.1", ParentID: "0\"x"}, "parentId", "bad character"},
	}
	for _, c := range bad {
		sc, err := NewSpanContext(c.cfg)
		var ie *IDError
		if sc.IsValid() || !errors.Is(err, ErrInvalidID) || !errors.As(err, &ie) || ie.Field != c.field || ie.Reason != c.reason {
			t.Errorf("%+v: got valid=%v err=%v, want %s %s", c.cfg, sc.IsValid(), err, c.field, c.reason)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Errorf("error message carries a raw newline: %q", err)
		}
	}
	// Ids at the limits are accepted, and a root may have no parent.
	if _, err := NewSpanContext(SpanContextConfig{TraceID: strings.Repeat("f", MaxTraceIDLen), SpanID: strings.Repeat("9", MaxSpanIDLen)}); err != nil {
		t.Fatalf("ids at the length limits: %v", err)
	}
}

func TestNewSpanContextBaggage(t *testing.T) {
	big := strings.Repeat("v", 1000)
	sc, err := NewSpanContext(SpanContextConfig{
		TraceID: "t", SpanID: "0",
		Biz: []Pair{{Key: "a", Value: "1"}, {Key: "", Value: "skipped"}, {Key: "b", Value: ""}, {Key: "big", Value: big}, {Key: "huge", Value: big}, {Key: "a", Value: "2"}, {Key: "c", Value: "3"}},
		Sys: []Pair{{Key: "zone", Value: "gz"}},
	})
	if !sc.IsValid() {
		t.Fatal("a baggage refusal must leave the context valid")
	}
	var be *BaggageError
	if !errors.Is(err, ErrBaggageLimit) || !errors.As(err, &be) || be.Key != "huge" || be.Sys || be.Reason != "size" || be.Limit != DefaultBaggageLimit {
		t.Fatalf("err = %v (%+v), want a biz size refusal of huge", err, be)
	}
	var keys []string
	for k, v := range sc.BizBaggage().All() {
		keys = append(keys, k+"="+v[:1])
	}
	if got := strings.Join(keys, ","); got != "a=2,big=v,c=3" {
		t.Fatalf("biz baggage %s, want a=2,big=v,c=3 (order of first set, repeat replaces)", got)
	}
	if sc.BizBaggage().Size() != 1+1+3+1000+1+1 || sc.BizBaggage().Len() != 3 {
		t.Fatalf("size %d len %d", sc.BizBaggage().Size(), sc.BizBaggage().Len())
	}
	if v, ok := sc.SysBaggage().Get("zone"); !ok || v != "gz" {
		t.Fatal("sys baggage")
	}

	// Exactly at the limit fits; one byte more does not. The limit is per baggage.
	items := []Pair{{Key: "k", Value: strings.Repeat("x", 1023)}}
	if _, err := NewSpanContext(SpanContextConfig{TraceID: "t", SpanID: "0", Biz: items, Sys: items}); err != nil {
		t.Fatalf("1024 bytes in each baggage: %v", err)
	}
	items[0].Value += "x"
	sc, err = NewSpanContext(SpanContextConfig{TraceID: "t", SpanID: "0", Biz: items, Sys: items})
	if sc.BizBaggage().Len() != 0 || sc.SysBaggage().Len() != 0 || countBaggageErrors(err) != 2 {
		t.Fatalf("1025 bytes: biz %d sys %d entries, %d errors (%v)", sc.BizBaggage().Len(), sc.SysBaggage().Len(), countBaggageErrors(err), err)
	}

	// A custom limit, and the entry cap.
	if _, err := NewSpanContext(SpanContextConfig{TraceID: "t", SpanID: "0", Biz: []Pair{{Key: "k", Value: "12345"}}, BizLimit: 5}); err == nil {
		t.Fatal("BizLimit 5 must refuse a 6-byte entry")
	}
	many := make([]Pair, MaxBaggageEntries+2)
	for i := range many {
		many[i] = Pair{Key: "k" + string(rune('A'+i)), Value: "v"}
	}
	sc, err = NewSpanContext(SpanContextConfig{TraceID: "t", SpanID: "0", Sys: many})
	if !errors.As(err, &be) || be.Reason != "entries" || !be.Sys || sc.SysBaggage().Len() != MaxBaggageEntries || countBaggageErrors(err) != 2 {
		t.Fatalf("entry cap: len %d, err %v", sc.SysBaggage().Len(), err)
	}
}

func TestLoadTestMarkFromRemote(t *testing.T) {
	for _, c := range []struct {
		mark string
		want bool
	}{{"T", true}, {"F", false}, {"", false}} {
		sc, _ := NewSpanContext(SpanContextConfig{TraceID: "t", SpanID: "0", Biz: []Pair{{Key: BaggageKeyLoadTest, Value: c.mark}}})
		if sc.IsLoadTest() != c.want {
			t.Errorf("mark=%q: IsLoadTest=%v", c.mark, sc.IsLoadTest())
		}
	}
}
