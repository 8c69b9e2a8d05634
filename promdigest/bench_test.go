package promdigest_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/promdigest"
	"github.com/tracemdc/tracemdc/trace"
)

// BenchmarkPipeline measures starting and finishing an http-server span with a reporter writing real
// digest files in a temporary directory (Block policy, as digest's BenchmarkPipeline/block), without
// and with a registered Metrics as its Observer; the time includes Close (the drain). The ratio of
// metrics to digest_only is the cost of the metrics, which run on the reporter's consumer goroutine.
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range []struct {
		name    string
		metrics bool
	}{{"digest_only", false}, {"metrics", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cfg := digest.Config{Root: b.TempDir(), Policy: digest.Block}
			if bc.metrics {
				m := promdigest.New()
				prometheus.NewRegistry().MustRegister(m)
				cfg.Observer = m
			}
			r, err := digest.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			tr := trace.New("bench-app", trace.WithReporter(r))
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, s := tr.Start(ctx, "GET /orders", trace.WithKind(trace.KindServer), trace.WithLogType(layout.LogTypeHTTPServer))
				s.SetTag(layout.FieldRequestURL, "http://shop.example.com/orders/42")
				s.SetTag(layout.FieldMethod, "GET")
				s.SetTagInt(layout.FieldReqSize, 0)
				s.SetTagInt(layout.FieldRespSize, 1234)
				s.SetResultCode("200")
				s.Finish()
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			if st := r.Stats(); st.Written != uint64(b.N) {
				b.Fatalf("stats %+v for %d spans", st, b.N)
			}
		})
	}
}

// TestPipelineAllocs: a span through the pipeline with the metrics allocates no more than without
// them, once the series exists (its first exemplar taken; the next waits a second of span time).
func TestPipelineAllocs(t *testing.T) {
	allocs := func(metrics bool) float64 {
		cfg := digest.Config{Root: t.TempDir(), Policy: digest.Block, StatInterval: -1}
		if metrics {
			m := promdigest.New()
			prometheus.NewRegistry().MustRegister(m)
			cfg.Observer = m
		}
		r, err := digest.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		tr := trace.New("alloc-app", trace.WithReporter(r))
		span := func() {
			_, s := tr.Start(context.Background(), "GET /orders", trace.WithKind(trace.KindServer), trace.WithLogType(layout.LogTypeHTTPServer))
			s.SetTag(layout.FieldRequestURL, "/orders")
			s.SetTag(layout.FieldMethod, "GET")
			s.SetResultCode("200")
			s.Finish()
		}
		for i := 0; i < 100; i++ {
			span()
		}
		r.Flush()
		return testing.AllocsPerRun(2000, span)
	}
	base, withMetrics := allocs(false), allocs(true)
	if withMetrics != base {
		t.Fatalf("%v allocs per span with metrics, %v without", withMetrics, base)
	}
}
