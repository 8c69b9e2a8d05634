package otelmdc_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/cputime"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/otelmdc"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/zapmdc"
)

// lineContexts returns a context holding a recording OpenTelemetry SDK span and a context holding the
// same ids in tracemdc's MDC, so both kinds of line are the same line.
func lineContexts(tb testing.TB) (otelCtx, mdcCtx context.Context, end func()) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	otelCtx, span := tp.Tracer("bench").Start(context.Background(), "request")
	sc := span.SpanContext()
	mdcCtx = mdc.WithPairs(context.Background(), mdc.Pair{Key: mdc.KeyTraceID, Value: sc.TraceID().String()},
		mdc.Pair{Key: mdc.KeySpanID, Value: sc.SpanID().String()})
	return otelCtx, mdcCtx, func() { span.End(); _ = tp.Shutdown(context.Background()) }
}

// byHand is the slog handler users write today: it hex-encodes the span context of every record.
type byHand struct{ slog.Handler }

func (h byHand) Handle(ctx context.Context, r slog.Record) error {
	if sc := oteltrace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("traceId", sc.TraceID().String()), slog.String("spanId", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// countingSource counts the calls of the OpenTelemetry source it wraps.
type countingSource struct {
	mdc.Source
	n atomic.Int64
}

func (c *countingSource) Pairs(ctx context.Context) []mdc.Pair {
	c.n.Add(1)
	return c.Source.Pairs(ctx)
}

// BenchmarkSlogLine: one slog JSON line with the ids of an OpenTelemetry span through the source
// (otel_source), of tracemdc's MDC (tracemdc_mdc), and through a handler that hex-encodes the span
// context per line (otel_by_hand); disabled: a level below the handler's, with the source registered.
func BenchmarkSlogLine(b *testing.B) {
	otelCtx, mdcCtx, end := lineContexts(b)
	defer end()
	b.Run("otel_source", func(b *testing.B) {
		defer mdc.AddSource(otelmdc.NewSource())()
		l := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, nil)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(otelCtx, slog.LevelInfo, "request handled", slog.Int("n", i))
		}
	})
	b.Run("tracemdc_mdc", func(b *testing.B) {
		l := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, nil)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(mdcCtx, slog.LevelInfo, "request handled", slog.Int("n", i))
		}
	})
	b.Run("otel_by_hand", func(b *testing.B) {
		l := slog.New(byHand{slog.NewJSONHandler(io.Discard, nil)})
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(otelCtx, slog.LevelInfo, "request handled", slog.Int("n", i))
		}
	})
	b.Run("disabled", func(b *testing.B) {
		src := &countingSource{Source: otelmdc.NewSource()}
		defer mdc.AddSource(src)()
		l := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(otelCtx, slog.LevelInfo, "request handled", slog.Int("n", i))
		}
		if src.n.Load() != 0 {
			b.Fatalf("the source was called %d times for disabled lines", src.n.Load())
		}
	})
}

// BenchmarkZapLine: BenchmarkSlogLine's rows for zap (JSON encoder, production config).
func BenchmarkZapLine(b *testing.B) {
	otelCtx, mdcCtx, end := lineContexts(b)
	defer end()
	core := func(lvl zapcore.Level) zapcore.Core {
		return zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), lvl)
	}
	b.Run("otel_source", func(b *testing.B) {
		defer mdc.AddSource(otelmdc.NewSource())()
		l := zap.New(zapmdc.NewCore(core(zap.InfoLevel)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Info("request handled", zapmdc.Ctx(otelCtx), zap.Int("n", i))
		}
	})
	b.Run("tracemdc_mdc", func(b *testing.B) {
		l := zap.New(zapmdc.NewCore(core(zap.InfoLevel)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Info("request handled", zapmdc.Ctx(mdcCtx), zap.Int("n", i))
		}
	})
	b.Run("otel_by_hand", func(b *testing.B) {
		l := zap.New(core(zap.InfoLevel))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			sc := oteltrace.SpanContextFromContext(otelCtx)
			l.Info("request handled", zap.String("traceId", sc.TraceID().String()), zap.String("spanId", sc.SpanID().String()), zap.Int("n", i))
		}
	})
	b.Run("disabled", func(b *testing.B) {
		src := &countingSource{Source: otelmdc.NewSource()}
		defer mdc.AddSource(src)()
		l := zap.New(zapmdc.NewCore(core(zap.WarnLevel)))
		b.ReportAllocs()
		// Check is zap's allocation-free form for a level that may be off: Info(msg, fields...)
		// allocates its variadic slice whatever the core (zap's cost, as in zapmdc's BenchmarkCore).
		for i := 0; i < b.N; i++ {
			if ce := l.Check(zap.InfoLevel, "request handled"); ce != nil {
				ce.Write(zapmdc.Ctx(otelCtx), zap.Int("n", i))
			}
		}
		if src.n.Load() != 0 {
			b.Fatalf("the source was called %d times for disabled lines", src.n.Load())
		}
	})
}

// discardExporter is an OpenTelemetry exporter that counts and drops spans.
type discardExporter struct{ n atomic.Int64 }

func (e *discardExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.n.Add(int64(len(spans)))
	return nil
}
func (e *discardExporter) Shutdown(context.Context) error { return nil }

// serverSpan starts and ends one HTTP server span as otelhttp would, with its attributes.
func serverSpan(tr oteltrace.Tracer, i int) {
	_, s := tr.Start(context.Background(), "GET /orders/{id}", oteltrace.WithSpanKind(oteltrace.SpanKindServer),
		oteltrace.WithAttributes(attribute.String("http.request.method", "GET"), attribute.String("url.scheme", "http"),
			attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 8080),
			attribute.String("url.path", "/orders/42"), attribute.String("http.route", "/orders/{id}"),
			attribute.String("network.peer.address", "127.0.0.1"), attribute.Int("network.peer.port", 50000+i%1000)))
	s.SetAttributes(attribute.Int("http.response.status_code", 200), attribute.Int("http.response.body.size", 7))
	s.End()
}

// BenchmarkProcessor: an OpenTelemetry HTTP server span ended through the span processor into a
// digest file (digest; Block policy, so every span is written: the lines are counted) vs through the
// SDK's BatchSpanProcessor (default options) to an exporter that drops what it gets (batch_discard;
// exported/op says how many reached it). Both include the drain at Shutdown; cpu-ns/op is the
// process's CPU time per span (every goroutine: the reporter's consumer, the batch processor's).
func BenchmarkProcessor(b *testing.B) {
	b.Run("digest", func(b *testing.B) {
		root := b.TempDir()
		rep, err := digest.New(digest.Config{Root: root, Policy: digest.Block})
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelmdc.NewSpanProcessor(rep)))
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		cpu0 := cputime.Process()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			serverSpan(tr, i)
		}
		if err := tp.Shutdown(context.Background()); err != nil { // closes the reporter: every line written
			b.Fatal(err)
		}
		b.StopTimer()
		cputime.ReportPerOp(b, cpu0)
		if n := countLines(b, filepath.Join(layout.DigestDir(root), layout.DigestFileName(layout.LogTypeHTTPServer))); n != b.N {
			b.Fatalf("%d digest lines for %d spans", n, b.N)
		}
		b.ReportMetric(1, "written/op")
	})
	b.Run("batch_discard", func(b *testing.B) {
		exp := &discardExporter{}
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp))
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		cpu0 := cputime.Process()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			serverSpan(tr, i)
		}
		if err := tp.Shutdown(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cputime.ReportPerOp(b, cpu0)
		b.ReportMetric(float64(exp.n.Load())/float64(b.N), "exported/op")
	})
}

// countLines counts the lines of a file a chunk at a time (reading it whole would cost more than
// the spans it counts, in a measure of the process's CPU time).
func countLines(tb testing.TB, path string) int {
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := f.Read(buf)
		n += bytes.Count(buf[:k], []byte("\n"))
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
}
