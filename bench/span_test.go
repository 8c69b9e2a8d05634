package bench

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/tracemdc/tracemdc/trace"
)

type nopReporter struct{}

func (nopReporter) Report(*trace.FinishedSpan) {}

// BenchmarkSpan compares starting and finishing a child span under a parent:
//   - tracemdc: the default tracer (SOFA ids, MDC extension on) with a no-op reporter;
//   - otel: the OpenTelemetry Go SDK tracer provider with AlwaysSample and no span processor.
func BenchmarkSpan(b *testing.B) {
	ctx := context.Background()
	b.Run("tracemdc", func(b *testing.B) {
		tr := trace.New("bench", trace.WithReporter(nopReporter{}))
		pctx, parent := tr.Start(ctx, "parent")
		defer parent.Finish()
		b.ReportAllocs()
		for b.Loop() {
			_, s := tr.Start(pctx, "child")
			s.Finish()
		}
	})
	b.Run("otel", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
		defer func() { _ = tp.Shutdown(ctx) }()
		tr := tp.Tracer("bench")
		pctx, parent := tr.Start(ctx, "parent")
		defer parent.End()
		b.ReportAllocs()
		for b.Loop() {
			_, s := tr.Start(pctx, "child")
			s.End()
		}
	})
}
