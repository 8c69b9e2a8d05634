package otlp

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	sdkresource "go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/internal/cputime"
	"github.com/tracemdc/tracemdc/trace"
)

// countingSink is an OTLP/HTTP server that takes every request, counts the spans in it and
// discards it, reading it into a reused buffer.
type countingSink struct {
	srv   *httptest.Server
	spans atomic.Int64
	bad   atomic.Int64
}

func newCountingSink(b *testing.B) *countingSink {
	s := &countingSink{}
	var bufs sync.Pool
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf, _ := bufs.Get().(*bytes.Buffer)
		if buf == nil {
			buf = new(bytes.Buffer)
		}
		defer bufs.Put(buf)
		buf.Reset()
		_, err := buf.ReadFrom(r.Body)
		n, ok := countSpans(buf.Bytes())
		if err != nil || !ok {
			s.bad.Add(1)
			http.Error(w, "unreadable", http.StatusBadRequest)
			return
		}
		s.spans.Add(int64(n))
		w.Header().Set("Content-Type", ContentType)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(s.srv.Close)
	return s
}

// countSpans counts the spans of an ExportTraceServiceRequest by walking its wire form
// (resource_spans = 1, scope_spans = 2, spans = 2) without decoding the spans: the sink must cost
// both exporters the same, and little.
func countSpans(b []byte) (int, bool) {
	n := 0
	ok := each(b, 1, func(rs []byte) bool {
		return each(rs, 2, func(ss []byte) bool {
			return each(ss, 2, func([]byte) bool { n++; return true })
		})
	})
	return n, ok
}

// each calls fn with every length-delimited field number num of the message b.
func each(b []byte, num protowire.Number, fn func([]byte) bool) bool {
	for len(b) > 0 {
		f, typ, l := protowire.ConsumeTag(b)
		if l < 0 {
			return false
		}
		b = b[l:]
		if f == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(b)
			if l < 0 || !fn(v) {
				return false
			}
			b = b[l:]
			continue
		}
		l = protowire.ConsumeFieldValue(f, typ, b)
		if l < 0 {
			return false
		}
		b = b[l:]
	}
	return true
}

// BenchmarkExport measures a server span with three tags, from its start to its delivery to an
// OTLP/HTTP sink on 127.0.0.1 (protobuf, no compression), through tracemdc's tracer and OTLP
// exporter and through the OpenTelemetry SDK with its BatchSpanProcessor and the official
// otlptracehttp exporter. Both send the same content (W3C ids, a server span with three attributes,
// one resource), are set to lose nothing (Block; WithBlocking) and deliver every span: the sink
// counts them and the run fails otherwise. The flush at the end is timed. Each row also reports
// cpu-ns/op, the process's CPU time per span (the exporter's goroutines, the sink and the GC
// included: the same sink for both): on a shared machine the wall time mostly measures how long the
// goroutines waited for a core, the CPU time what a span cost.
//
//	go run ../../internal/cmd/benchratio -pkg . -base Export/otel_batch_otlp -new Export/tracemdc_otlp -unit cpu-ns/op
func BenchmarkExport(b *testing.B) {
	b.Run("tracemdc_otlp", func(b *testing.B) {
		sink := newCountingSink(b)
		e, err := New(export.WithEndpointURL(sink.srv.URL+"/v1/traces"), export.WithPolicy(asyncwriter.Block))
		if err != nil {
			b.Fatal(err)
		}
		// W3C ids, as the SDK's: the same wire content on both sides (with SOFA ids the exporter adds
		// origin.span.id, a fourth attribute).
		tr := trace.New("shop", trace.WithReporter(e), trace.WithIDGenerator(trace.W3CIDGenerator()))
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cputime.Process()
		for i := 0; i < b.N; i++ {
			_, s := tr.Start(ctx, "GET /checkout", trace.WithKind(trace.KindServer))
			s.SetTags(trace.String("method", "GET"), trace.String("request.url", "http://shop/checkout"),
				trace.Int("resp.size.bytes", 512))
			s.Finish()
		}
		e.Flush()
		b.StopTimer()
		cputime.ReportPerOp(b, cpu0)
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
		if got, st := sink.spans.Load(), e.Stats(); got != int64(b.N) || st.Exported != uint64(b.N) || sink.bad.Load() != 0 {
			b.Fatalf("sink counted %d spans, exporter %+v, want %d", got, st, b.N)
		}
	})
	b.Run("otel_batch_otlp", func(b *testing.B) {
		sink := newCountingSink(b)
		ctx := context.Background()
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(sink.srv.URL+"/v1/traces"))
		if err != nil {
			b.Fatal(err)
		}
		tp := sdktrace.NewTracerProvider(
			sdktrace.WithBatcher(exp, sdktrace.WithBlocking()),
			sdktrace.WithResource(sdkresource.NewSchemaless(attribute.String("service.name", "shop"))),
		)
		tr := tp.Tracer("bench")
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 := cputime.Process()
		for i := 0; i < b.N; i++ {
			_, s := tr.Start(ctx, "GET /checkout", oteltrace.WithSpanKind(oteltrace.SpanKindServer))
			s.SetAttributes(attribute.String("method", "GET"), attribute.String("request.url", "http://shop/checkout"),
				attribute.Int("resp.size.bytes", 512))
			s.End()
		}
		if err := tp.ForceFlush(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		cputime.ReportPerOp(b, cpu0)
		if err := tp.Shutdown(ctx); err != nil {
			b.Fatal(err)
		}
		if got := sink.spans.Load(); got != int64(b.N) || sink.bad.Load() != 0 {
			b.Fatalf("sink counted %d spans, want %d", got, b.N)
		}
	})
}
