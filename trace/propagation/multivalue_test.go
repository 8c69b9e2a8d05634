package propagation_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestW3CCombinesHeaderFields: several tracestate or baggage header fields are one list (RFC 9110
// list semantics; W3C Trace Context: they MUST be combined), joined with ','.
func TestW3CCombinesHeaderFields(t *testing.T) {
	h := http.Header{
		"Traceparent": {"00-" + w3cTrace + "-" + w3cSpan + "-01"},
		"Tracestate":  {"rojo=00f067aa0ba902b7", "", "congo=t61rcWkgMzE"},
		"Baggage":     {"mark=T", "user=alice,zone=gz"},
	}
	ctx, sc, err := propagation.W3C().Extract(context.Background(), propagation.HeaderCarrier(h))
	if err != nil || !sc.IsValid() {
		t.Fatalf("extract: %v", err)
	}
	want := []trace.Pair{{Key: "mark", Value: "T"}, {Key: "user", Value: "alice"}, {Key: "zone", Value: "gz"}}
	if got := ordered(sc.BizBaggage()); !reflect.DeepEqual(got, want) {
		t.Fatalf("baggage %v", got)
	}
	child := newSC(t, w3cTrace, "b7ad6b7169203331", w3cSpan, true, nil, nil)
	out := http.Header{}
	if err := propagation.W3C().Inject(ctx, child, propagation.HeaderCarrier(out)); err != nil {
		t.Fatal(err)
	}
	if got := out.Values("Tracestate"); !reflect.DeepEqual(got, []string{"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}) {
		t.Fatalf("tracestate %q", got)
	}
	// Any carrier with a Values method is read the same way.
	vc := valuesCarrier{propagation.HeaderCarrier(h)}
	if _, sc, err = propagation.W3C().Extract(context.Background(), vc); err != nil || !reflect.DeepEqual(ordered(sc.BizBaggage()), want) {
		t.Fatalf("values carrier: %v %v", ordered(sc.BizBaggage()), err)
	}
	// Combined, tracestate is still held to 512 characters (then dropped whole, as before).
	long := http.Header{"Traceparent": h["Traceparent"], "Tracestate": {"a=" + repeat('x', 300), "b=" + repeat('y', 300)}}
	ctx, _, _ = propagation.W3C().Extract(context.Background(), propagation.HeaderCarrier(long))
	out = http.Header{}
	_ = propagation.W3C().Inject(ctx, child, propagation.HeaderCarrier(out))
	if out.Get("Tracestate") != "" {
		t.Fatalf("tracestate over 512 characters carried: %d bytes", len(out.Get("Tracestate")))
	}
}

func repeat(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// valuesCarrier hides HeaderCarrier's type but keeps its Values method.
type valuesCarrier struct{ h propagation.HeaderCarrier }

func (c valuesCarrier) Get(key string) string                { return c.h.Get(key) }
func (c valuesCarrier) Set(key, value string)                { c.h.Set(key, value) }
func (c valuesCarrier) Range(f func(key, value string) bool) { c.h.Range(f) }
func (c valuesCarrier) Values(key string) []string           { return http.Header(c.h).Values(key) }
