package propagation_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestB3SingleHeader: the single "b3" header (OpenTelemetry's b3.New() default, Zipkin's compact form)
// is read when the X-B3-* id headers are absent; the multi headers win when both are there.
func TestB3SingleHeader(t *testing.T) {
	const w3cParent = "05e3ac9a4f6e3b90"
	ok := []struct {
		in                        string
		traceID, spanID, parentID string
		sampled                   bool
	}{
		{w3cTrace + "-" + w3cSpan, w3cTrace, w3cSpan, "", true},
		{w3cTrace + "-" + w3cSpan + "-1", w3cTrace, w3cSpan, "", true},
		{w3cTrace + "-" + w3cSpan + "-0", w3cTrace, w3cSpan, "", false},
		{w3cTrace + "-" + w3cSpan + "-d", w3cTrace, w3cSpan, "", true},
		{w3cTrace + "-" + w3cSpan + "-1-" + w3cParent, w3cTrace, w3cSpan, w3cParent, true},
		{"a3ce929d0e0e4736-" + w3cSpan + "-0", "a3ce929d0e0e4736", w3cSpan, "", false}, // 64-bit trace id
		{sofaTrace + "-0.1.2-1-0.1", sofaTrace, "0.1.2", "0.1", true},                  // SOFA ids, as the multi headers take them
	}
	for _, c := range ok {
		h := http.Header{"B3": {c.in}, "Baggage-Mark": {"T"}}
		_, sc, err := propagation.B3().Extract(context.Background(), propagation.HeaderCarrier(h))
		if err != nil || sc.TraceID() != c.traceID || sc.SpanID() != c.spanID || sc.ParentID() != c.parentID || sc.Sampled() != c.sampled {
			t.Errorf("b3: %q: got %+v, %v", c.in, describe(sc), err)
			continue
		}
		if v, _ := sc.BizBaggage().Get("mark"); v != "T" {
			t.Errorf("b3: %q: baggage-mark not read", c.in)
		}
		// Through the default propagator too, with a MapCarrier.
		_, sc, err = propagation.Default().Extract(context.Background(), propagation.MapCarrier{"b3": c.in})
		if err != nil || sc.TraceID() != c.traceID {
			t.Errorf("Default, b3: %q: got %+v, %v", c.in, describe(sc), err)
		}
	}
	// Sampling state alone (deny, accept, debug) carries no ids: no context, no error.
	for _, in := range []string{"0", "1", "d"} {
		_, sc, err := propagation.B3().Extract(context.Background(), propagation.MapCarrier{"b3": in})
		if sc.IsValid() || err != nil {
			t.Errorf("b3: %q: got %+v, %v", in, describe(sc), err)
		}
	}
	bad := []struct {
		in   string
		want error
	}{
		{w3cTrace, propagation.ErrMissingID},
		{w3cTrace + "-", propagation.ErrMissingID},
		{"-" + w3cSpan, propagation.ErrMissingID},
		{w3cTrace + "-" + w3cSpan + "-1-", propagation.ErrInvalidParentID},
		{w3cTrace + "-" + w3cSpan + "-1-" + w3cParent + "-x", propagation.ErrMalformedB3},
		{w3cTrace + "-bad span-1", propagation.ErrInvalidSpanID},
		{"x\"y-" + w3cSpan, propagation.ErrInvalidTraceID},
		{"2", propagation.ErrMalformedB3},
	}
	for _, c := range bad {
		_, sc, err := propagation.B3().Extract(context.Background(), propagation.MapCarrier{"b3": c.in})
		var pe *propagation.Error
		if sc.IsValid() || !errors.Is(err, c.want) || !errors.As(err, &pe) || pe.Field != propagation.HeaderB3Single {
			t.Errorf("b3: %q: got %+v, %v; want %v", c.in, describe(sc), err, c.want)
		}
	}
	// Multi headers win; the single header is not even checked then.
	m := propagation.MapCarrier{"x-b3-traceid": sofaTrace, "x-b3-spanid": "0.1", "b3": "garbage"}
	if _, sc, err := propagation.B3().Extract(context.Background(), m); err != nil || sc.TraceID() != sofaTrace {
		t.Errorf("multi and single: got %+v, %v", describe(sc), err)
	}
	// Inject still writes the multi-header form only.
	sc := newSC(t, w3cTrace, w3cSpan, "", true, nil, nil)
	out := propagation.MapCarrier{}
	if err := propagation.B3().Inject(context.Background(), sc, out); err != nil || out["b3"] != "" || out["x-b3-traceid"] != w3cTrace {
		t.Errorf("inject: %v, %v", out, err)
	}
}

func FuzzExtractB3Single(f *testing.F) {
	f.Add(w3cTrace+"-"+w3cSpan+"-1-05e3ac9a4f6e3b90", "T")
	f.Add(sofaTrace+"-0.1-d", "")
	f.Add("d", "x")
	f.Add("a--0-", "%zz")
	f.Fuzz(func(t *testing.T, b3, mark string) {
		p := propagation.B3()
		_, sc, err := p.Extract(context.Background(), propagation.MapCarrier{"b3": b3, "baggage-mark": mark})
		checkExtracted(t, p, sc, err)
		if sc.IsValid() && len(sc.TraceID()) > trace.MaxTraceIDLen {
			t.Fatalf("trace id of %d bytes", len(sc.TraceID()))
		}
	})
}
