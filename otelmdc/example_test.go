package otelmdc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/otelmdc"
	"github.com/tracemdc/tracemdc/slogmdc"
)

// fixedIDs makes the example's ids, which the SDK draws at random, the same on every run.
type fixedIDs struct{}

func (fixedIDs) NewIDs(context.Context) (oteltrace.TraceID, oteltrace.SpanID) {
	return oteltrace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		oteltrace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
}

func (fixedIDs) NewSpanID(context.Context, oteltrace.TraceID) oteltrace.SpanID {
	return oteltrace.SpanID{0x53, 0x99, 0x5c, 0x3f, 0x42, 0xcd, 0x8a, 0xd8}
}

// printExporter stands for an OTLP log exporter: it prints what the backend would receive.
type printExporter struct{}

func (printExporter) Export(_ context.Context, rs []sdklog.Record) error {
	for _, r := range rs {
		fmt.Printf("otel log record %q trace=%s span=%s\n", r.Body().AsString(), r.TraceID(), r.SpanID())
	}
	return nil
}
func (printExporter) Shutdown(context.Context) error   { return nil }
func (printExporter) ForceFlush(context.Context) error { return nil }

// The setup users of otelslog ask for: one slog logger whose lines go to stdout with the ids of the
// current OpenTelemetry span in them (under OpenTelemetry's names here), and to the OpenTelemetry
// logs pipeline through otelslog, which carries the same span context.
func Example() {
	tp := sdktrace.NewTracerProvider(sdktrace.WithIDGenerator(fixedIDs{}))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(printExporter{})))
	defer func() { _ = tp.Shutdown(context.Background()); _ = lp.Shutdown(context.Background()) }()

	defer mdc.AddSource(otelmdc.NewSource())() // the ids of the current OTel span, in every line
	stdout := slogmdc.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}),
		slogmdc.WithNaming(mdc.NewNaming(mdc.PresetOTel)))
	logger := slog.New(slog.NewMultiHandler(stdout, otelslog.NewHandler("shop", otelslog.WithLoggerProvider(lp))))

	ctx, span := tp.Tracer("shop").Start(context.Background(), "checkout")
	logger.InfoContext(ctx, "paid", "amount", 42)
	ctx, child := tp.Tracer("shop").Start(ctx, "charge card")
	logger.InfoContext(ctx, "charged")
	child.End()
	span.End()
	// Output:
	// {"level":"INFO","msg":"paid","amount":42,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}
	// otel log record "paid" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=00f067aa0ba902b7
	// {"level":"INFO","msg":"charged","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"53995c3f42cd8ad8"}
	// otel log record "charged" trace=4bf92f3577b34da6a3ce929d0e0e4736 span=53995c3f42cd8ad8
}

func noTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// Digest and stat files from OpenTelemetry spans: a digest reporter and the span processor, then the
// TracerProvider as usual. Shutdown closes the reporter, which writes every queued line.
func ExampleNewSpanProcessor() {
	root, _ := os.MkdirTemp("", "otelmdc-example")
	defer os.RemoveAll(root)

	rep, err := digest.New(digest.Config{Root: root})
	if err != nil {
		fmt.Println(err)
		return
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelmdc.NewSpanProcessor(rep, otelmdc.WithApp("shop"))),
		sdktrace.WithIDGenerator(fixedIDs{}))

	_, span := tp.Tracer("shop").Start(context.Background(), "GET /orders/{id}", oteltrace.WithSpanKind(oteltrace.SpanKindServer),
		oteltrace.WithAttributes(attribute.String("http.request.method", "GET"), attribute.String("url.scheme", "http"),
			attribute.String("server.address", "shop.example"), attribute.String("url.path", "/orders/42"),
			attribute.String("http.route", "/orders/{id}"), attribute.Int("http.response.status_code", 200)))
	span.End()
	_ = tp.Shutdown(context.Background())

	b, _ := os.ReadFile(filepath.Join(layout.DigestDir(root), "http-server-digest.log"))
	var line map[string]any
	_ = json.Unmarshal(b, &line)
	for _, k := range []string{"local.app", "traceId", "spanId", "span.kind", "result.code", "request.url", "method"} {
		fmt.Printf("%s=%v\n", k, line[k])
	}
	// Output:
	// local.app=shop
	// traceId=4bf92f3577b34da6a3ce929d0e0e4736
	// spanId=00f067aa0ba902b7
	// span.kind=server
	// result.code=200
	// request.url=http://shop.example/orders/42
	// method=GET
}
