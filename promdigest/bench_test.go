package promdigest_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/promdigest"
	"github.com/tracemdc/tracemdc/trace"
)

// benchReporter makes a reporter writing real digest files in a temporary directory (Block policy,
// as digest's BenchmarkPipeline/block), with a registered Metrics as its Observer when metrics is set.
func benchReporter(tb testing.TB, metrics bool, statInterval time.Duration) *digest.Reporter {
	tb.Helper()
	cfg := digest.Config{Root: tb.TempDir(), Policy: digest.Block, StatInterval: statInterval}
	if metrics {
		m := promdigest.New()
		prometheus.NewRegistry().MustRegister(m)
		cfg.Observer = m
	}
	r, err := digest.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// serverSpan starts and finishes an http-server span as tracehttp's middleware makes it.
func serverSpan(tr *trace.Tracer) {
	_, s := tr.Start(context.Background(), "GET /orders", trace.WithKind(trace.KindServer), trace.WithLogType(layout.LogTypeHTTPServer))
	s.SetTag(layout.FieldRequestURL, "http://shop.example.com/orders/42")
	s.SetTag(layout.FieldMethod, "GET")
	s.SetTagInt(layout.FieldReqSize, 0)
	s.SetTagInt(layout.FieldRespSize, 1234)
	s.SetResultCode("200")
	s.Finish()
}

// BenchmarkPipeline measures a span finished into a reporter writing its digest file, without and
// with the metrics; the time includes Close (the drain). The ratio of metrics to digest_only is the
// cost of the metrics, which run on the reporter's consumer goroutine.
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range []struct {
		name    string
		metrics bool
	}{{"digest_only", false}, {"metrics", true}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			r := benchReporter(b, bc.metrics, 0)
			tr := trace.New("bench-app", trace.WithReporter(r))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				serverSpan(tr)
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
		r := benchReporter(t, metrics, -1)
		defer r.Close()
		tr := trace.New("alloc-app", trace.WithReporter(r))
		for i := 0; i < 100; i++ {
			serverSpan(tr)
		}
		r.Flush()
		return testing.AllocsPerRun(2000, func() { serverSpan(tr) })
	}
	base, withMetrics := allocs(false), allocs(true)
	if withMetrics != base {
		t.Fatalf("%v allocs per span with metrics, %v without", withMetrics, base)
	}
}

// BenchmarkObserveSpan measures Metrics.ObserveSpan alone, on an Observation a reporter made for an
// http-server span (kept: an Observation is a value), the series existing.
func BenchmarkObserveSpan(b *testing.B) {
	var kept digest.Observation
	r, err := digest.New(digest.Config{Output: io.Discard, OutputOnly: true, StatInterval: -1,
		Observer: digest.ObserverFunc(func(o digest.Observation) { kept = o })})
	if err != nil {
		b.Fatal(err)
	}
	serverSpan(trace.New("bench-app", trace.WithReporter(r)))
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	m := promdigest.New()
	m.ObserveSpan(kept)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.ObserveSpan(kept)
	}
}
