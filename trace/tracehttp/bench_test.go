package tracehttp_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

func benchTracer() *trace.Tracer {
	return trace.New("bench", trace.WithReporter(trace.ReporterFunc(func(*trace.FinishedSpan) {})))
}

// BenchmarkMiddleware serves one request through an httptest recorder: bare is the handler alone, mdc
// the same handler behind Middleware (extract B3 headers, a request scope, server span, ids in the MDC,
// tags, finish), mdc_noscope the same with WithRequestScope(false): the cost of the default scope is
// mdc over mdc_noscope.
func BenchmarkMiddleware(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	req := httptest.NewRequest("GET", "http://shop.example/pay", nil)
	req.Header.Set("X-B3-TraceId", sofaTrace)
	req.Header.Set("X-B3-SpanId", "0.1")
	req.Header.Set("X-B3-Sampled", "true")
	req.Header.Set("baggage-mark", "T")
	run := func(b *testing.B, h http.Handler) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, handler) })
	b.Run("mdc", func(b *testing.B) { run(b, tracehttp.Middleware(benchTracer())(handler)) })
	b.Run("mdc_noscope", func(b *testing.B) {
		run(b, tracehttp.Middleware(benchTracer(), tracehttp.WithRequestScope(false))(handler))
	})
}

// BenchmarkTransport sends one request through an in-process RoundTripper stub (no network) and reads
// and closes the body: bare is the stub alone, traced the stub behind Transport (client span, header
// injection into a copy of the request, body wrapper, finish).
func BenchmarkTransport(b *testing.B) {
	tr := benchTracer()
	ctx, parent := tr.Start(context.Background(), "parent")
	defer parent.Finish()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://inventory.local/items", nil)
	st := &stub{status: 200, body: "0123456789"}
	run := func(b *testing.B, rt http.RoundTripper) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			resp, err := rt.RoundTrip(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	b.Run("bare", func(b *testing.B) { run(b, st) })
	b.Run("traced", func(b *testing.B) { run(b, tracehttp.NewTransport(tr, st)) })
}
