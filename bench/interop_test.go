package bench

import (
	"context"
	"net/http"
	"testing"

	b3prop "go.opentelemetry.io/contrib/propagators/b3"
	otelbaggage "go.opentelemetry.io/otel/baggage"
	otelprop "go.opentelemetry.io/otel/propagation"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// Interop with the OpenTelemetry Go propagators: what tracemdc injects in W3C mode OTel extracts with
// the same ids, and the reverse; the same for B3 (hex ids) against the contrib B3 propagator.

var interopBaggage = map[string]string{"mark": "T", "pct": "100%", "amp": "a&b", "eq": "k=v", "uni": "你好, wörld;"}

func w3cSpan(t *testing.T, sampled bool) (context.Context, *trace.Span) {
	t.Helper()
	sampler := trace.AlwaysSample()
	if !sampled {
		sampler = trace.NeverSample()
	}
	tr := trace.New("interop", trace.WithIDGenerator(trace.W3CIDGenerator()), trace.WithSampler(sampler))
	ctx, span := tr.Start(context.Background(), "call", trace.WithKind(trace.KindClient))
	for k, v := range interopBaggage {
		span.SetBaggageItem(k, v)
	}
	return ctx, span
}

func TestInteropW3CToOTel(t *testing.T) {
	for _, sampled := range []bool{true, false} {
		ctx, span := w3cSpan(t, sampled)
		h := http.Header{}
		if err := propagation.W3C().Inject(ctx, span.Context(), propagation.HeaderCarrier(h)); err != nil {
			t.Fatal(err)
		}
		span.Finish()
		otelCtx := otelprop.NewCompositeTextMapPropagator(otelprop.TraceContext{}, otelprop.Baggage{}).
			Extract(context.Background(), otelprop.HeaderCarrier(h))
		sc := oteltrace.SpanContextFromContext(otelCtx)
		if !sc.IsValid() || !sc.IsRemote() || sc.TraceID().String() != span.TraceID() || sc.SpanID().String() != span.SpanID() || sc.IsSampled() != sampled {
			t.Fatalf("OTel extracted %v from %v (want %s %s sampled %v)", sc, h, span.TraceID(), span.SpanID(), sampled)
		}
		bag := otelbaggage.FromContext(otelCtx)
		if bag.Len() != len(interopBaggage) {
			t.Fatalf("OTel baggage %v", bag)
		}
		for k, v := range interopBaggage {
			if got := bag.Member(k).Value(); got != v {
				t.Errorf("OTel baggage %s = %q, want %q", k, got, v)
			}
		}
	}
}

func TestInteropOTelToW3C(t *testing.T) {
	tid, _ := oteltrace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := oteltrace.SpanIDFromHex("00f067aa0ba902b7")
	ts, err := oteltrace.ParseTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	if err != nil {
		t.Fatal(err)
	}
	for _, flags := range []oteltrace.TraceFlags{oteltrace.FlagsSampled, 0} {
		osc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags, TraceState: ts})
		ctx := oteltrace.ContextWithSpanContext(context.Background(), osc)
		var members []otelbaggage.Member
		for k, v := range interopBaggage {
			m, err := otelbaggage.NewMemberRaw(k, v)
			if err != nil {
				t.Fatal(err)
			}
			members = append(members, m)
		}
		bag, err := otelbaggage.New(members...)
		if err != nil {
			t.Fatal(err)
		}
		ctx = otelbaggage.ContextWithBaggage(ctx, bag)
		h := http.Header{}
		otelprop.NewCompositeTextMapPropagator(otelprop.TraceContext{}, otelprop.Baggage{}).Inject(ctx, otelprop.HeaderCarrier(h))

		ourCtx, sc, err := propagation.Default().Extract(context.Background(), propagation.HeaderCarrier(h))
		if err != nil {
			t.Fatal(err)
		}
		if sc.TraceID() != tid.String() || sc.SpanID() != sid.String() || sc.Sampled() != flags.IsSampled() {
			t.Fatalf("extracted %s %s sampled %v from %v", sc.TraceID(), sc.SpanID(), sc.Sampled(), h)
		}
		for k, v := range interopBaggage {
			if got, _ := sc.BizBaggage().Get(k); got != v {
				t.Errorf("baggage %s = %q, want %q", k, got, v)
			}
		}
		// Our server span continues the trace, and its outbound call goes back to OTel intact.
		tr := trace.New("interop", trace.WithIDGenerator(trace.W3CIDGenerator()))
		ourCtx, span := tr.Start(ourCtx, "serve", trace.WithKind(trace.KindServer), trace.WithRemoteParent(sc))
		out := http.Header{}
		if err := propagation.W3C().Inject(ourCtx, span.Context(), propagation.HeaderCarrier(out)); err != nil {
			t.Fatal(err)
		}
		span.Finish()
		back := oteltrace.SpanContextFromContext(otelprop.TraceContext{}.Extract(context.Background(), otelprop.HeaderCarrier(out)))
		if back.TraceID() != tid || back.SpanID().String() != span.SpanID() || back.IsSampled() != flags.IsSampled() || back.TraceState().String() != ts.String() {
			t.Fatalf("round trip to OTel: %v (tracestate %q)", back, back.TraceState().String())
		}
	}
}

func TestInteropB3ToOTel(t *testing.T) {
	for _, sampled := range []bool{true, false} {
		ctx, span := w3cSpan(t, sampled)
		_, child := span.Tracer().Start(ctx, "child")
		h := http.Header{}
		if err := propagation.B3().Inject(ctx, child.Context(), propagation.HeaderCarrier(h)); err != nil {
			t.Fatal(err)
		}
		child.Finish()
		span.Finish()
		sc := oteltrace.SpanContextFromContext(b3prop.New().Extract(context.Background(), otelprop.HeaderCarrier(h)))
		if !sc.IsValid() || sc.TraceID().String() != child.TraceID() || sc.SpanID().String() != child.SpanID() || sc.IsSampled() != sampled {
			t.Fatalf("OTel B3 extracted %v from %v", sc, h)
		}
	}
}

func TestInteropOTelToB3(t *testing.T) {
	tid, _ := oteltrace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := oteltrace.SpanIDFromHex("00f067aa0ba902b7")
	// SOFA B3 is the multiple-header form; the single "b3" header is not part of it.
	for _, flags := range []oteltrace.TraceFlags{oteltrace.FlagsSampled, 0} {
		ctx := oteltrace.ContextWithSpanContext(context.Background(),
			oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: flags}))
		h := http.Header{}
		b3prop.New(b3prop.WithInjectEncoding(b3prop.B3MultipleHeader)).Inject(ctx, otelprop.HeaderCarrier(h))
		_, sc, err := propagation.B3().Extract(context.Background(), propagation.HeaderCarrier(h))
		if err != nil {
			t.Fatalf("extract %v: %v", h, err)
		}
		if sc.TraceID() != tid.String() || sc.SpanID() != sid.String() || sc.Sampled() != flags.IsSampled() {
			t.Fatalf("extracted %s %s sampled %v from %v", sc.TraceID(), sc.SpanID(), sc.Sampled(), h)
		}
	}
}
