package bench

import (
	"context"
	"errors"
	"net/http"
	"testing"

	b3prop "go.opentelemetry.io/contrib/propagators/b3"
	otelprop "go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestInteropB3SampledStates: the B3 sampling states OTel's contrib propagator writes (accept, deny,
// debug as X-B3-Flags: 1 without X-B3-Sampled, deferred as no sampled header) are read without error.
// An X-B3-Sampled OTel rejects (yes) costs the whole context there; here the ids are kept and the
// flag ignored (ErrSampledIgnored), and what is written on is a state OTel accepts.
func TestInteropB3SampledStates(t *testing.T) {
	const tid, sid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	cases := []struct {
		name    string
		h       http.Header
		sampled bool
	}{
		{"accept", http.Header{"X-B3-Sampled": {"1"}}, true},
		{"deny", http.Header{"X-B3-Sampled": {"0"}}, false},
		{"debug", http.Header{"X-B3-Flags": {"1"}}, true},
		{"deferred", http.Header{}, true}, // absent: sampled, SOFA's default
	}
	for _, c := range cases {
		c.h.Set("X-B3-TraceId", tid)
		c.h.Set("X-B3-SpanId", sid)
		otel := oteltrace.SpanContextFromContext(b3prop.New().Extract(context.Background(), otelprop.HeaderCarrier(c.h)))
		if !otel.IsValid() {
			t.Fatalf("%s: OTel rejects %v", c.name, c.h)
		}
		_, sc, err := propagation.B3().Extract(context.Background(), propagation.HeaderCarrier(c.h))
		if err != nil || sc.TraceID() != tid || sc.SpanID() != sid || sc.Sampled() != c.sampled {
			t.Fatalf("%s: extracted %s %s sampled %v, %v", c.name, sc.TraceID(), sc.SpanID(), sc.Sampled(), err)
		}
	}

	bad := http.Header{}
	bad.Set("X-B3-TraceId", tid)
	bad.Set("X-B3-SpanId", sid)
	bad.Set("X-B3-Sampled", "yes")
	if otel := oteltrace.SpanContextFromContext(b3prop.New().Extract(context.Background(), otelprop.HeaderCarrier(bad))); otel.IsValid() {
		t.Fatalf("OTel now accepts X-B3-Sampled: yes (%v): update this test's description", otel)
	}
	_, sc, err := propagation.B3().Extract(context.Background(), propagation.HeaderCarrier(bad))
	if !errors.Is(err, propagation.ErrSampledIgnored) || sc.TraceID() != tid || sc.SpanID() != sid || !sc.Sampled() {
		t.Fatalf("extracted %s %s sampled %v, %v", sc.TraceID(), sc.SpanID(), sc.Sampled(), err)
	}
	out := http.Header{}
	if err := propagation.B3().Inject(context.Background(), sc, propagation.HeaderCarrier(out)); err != nil {
		t.Fatal(err)
	}
	otel := oteltrace.SpanContextFromContext(b3prop.New().Extract(context.Background(), otelprop.HeaderCarrier(out)))
	if !otel.IsValid() || otel.TraceID().String() != tid || otel.SpanID().String() != sid || !otel.IsSampled() {
		t.Fatalf("OTel extracted %v from %v", otel, out)
	}
}
