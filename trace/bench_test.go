package trace

import (
	"context"
	"testing"

	"github.com/tracemdc/tracemdc/mdc"
)

type nopReporter struct{}

func (nopReporter) Report(*FinishedSpan) {}

func BenchmarkStartFinish(b *testing.B) {
	ctx := context.Background()
	b.Run("root", func(b *testing.B) {
		tr := New("bench", WithoutMDC(), WithReporter(nopReporter{}))
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			_, s := tr.Start(ctx, "op")
			s.Finish()
		}
	})
	b.Run("child", func(b *testing.B) {
		benchChildren(b, New("bench", WithoutMDC(), WithReporter(nopReporter{})), ctx)
	})
	b.Run("child_mdc", func(b *testing.B) {
		benchChildren(b, New("bench", WithReporter(nopReporter{})), ctx)
	})
	b.Run("child_mdc_user", func(b *testing.B) { // the caller's MDC has one key of its own
		benchChildren(b, New("bench", WithReporter(nopReporter{})), mdc.With(ctx, "user", "alice"))
	})
}

// benchChildren starts and finishes children of one parent span started under ctx.
func benchChildren(b *testing.B, tr *Tracer, ctx context.Context) {
	pctx, parent := tr.Start(ctx, "parent")
	defer parent.Finish()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_, s := tr.Start(pctx, "op")
		s.Finish()
	}
}

func BenchmarkTraceID(b *testing.B) {
	g := SOFAIDGenerator()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		_ = g.TraceID()
	}
}
