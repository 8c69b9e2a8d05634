package bench

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/trace"
)

// BenchmarkPipeline compares the whole path from a finished span to a line in a file, lossless on
// both sides; the time includes the final drain (Close, Shutdown):
//   - tracemdc: an http-server span through the digest reporter (Block policy, default queue of
//     1024) into http-server-digest.log, one JSON line per span;
//   - otel_stdout: the same span through the OpenTelemetry SDK's batch span processor in blocking
//     mode (default queue of 2048, batches of 512) and the stdouttrace exporter (one JSON object a
//     line) writing to a file.
//
// Both write to a file in a temporary directory; afterwards the lines are counted, and a lost span
// fails the benchmark.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	b.Run("tracemdc", func(b *testing.B) {
		root := b.TempDir()
		r, err := digest.New(digest.Config{Root: root, Policy: digest.Block})
		if err != nil {
			b.Fatal(err)
		}
		tr := trace.New("bench-app", trace.WithReporter(r))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, s := tr.Start(ctx, "GET /orders", trace.WithKind(trace.KindServer), trace.WithLogType(digest.LogTypeHTTPServer))
			s.SetTag("request.url", "http://shop.example.com/orders/42")
			s.SetTag("method", "GET")
			s.SetTagInt("req.size.bytes", 0)
			s.SetTagInt("resp.size.bytes", 1234)
			s.SetResultCode("200")
			s.Finish()
		}
		if err := r.Close(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if n := countLines(b, filepath.Join(root, "tracelog", "http-server-digest.log")); n != b.N {
			b.Fatalf("%d lines for %d spans", n, b.N)
		}
	})
	b.Run("otel_stdout", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "spans.json")
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		exp, err := stdouttrace.New(stdouttrace.WithWriter(f))
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
			sdktrace.WithBatcher(exp, sdktrace.WithBlocking()))
		tr := tp.Tracer("bench-app")
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			_, s := tr.Start(ctx, "GET /orders", oteltrace.WithSpanKind(oteltrace.SpanKindServer))
			s.SetAttributes(
				attribute.String("url.full", "http://shop.example.com/orders/42"),
				attribute.String("http.request.method", "GET"),
				attribute.Int64("http.request.body.size", 0),
				attribute.Int64("http.response.body.size", 1234),
				attribute.Int("http.response.status_code", 200),
			)
			s.End()
		}
		if err := tp.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if n := countLines(b, path); n != b.N {
			b.Fatalf("%d lines for %d spans", n, b.N)
		}
	})
}

func countLines(b *testing.B, path string) int {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
