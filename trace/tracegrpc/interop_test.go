package tracegrpc_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/baggage"
	otelprop "go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
)

// otelPeer is an OpenTelemetry SDK tracer provider recording its spans, with W3C propagation.
func otelPeer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder, []otelgrpc.Option) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, rec, []otelgrpc.Option{otelgrpc.WithTracerProvider(tp),
		otelgrpc.WithPropagators(otelprop.NewCompositeTextMapPropagator(otelprop.TraceContext{}, otelprop.Baggage{}))}
}

// TestInteropOTelClient: an otelgrpc client calling a tracemdc server with W3C ids stays one trace: the
// server span is a child of the otelgrpc client span (its parent id, an id of its own), in its digest
// line too, and the W3C baggage arrives as biz baggage.
func TestInteropOTelClient(t *testing.T) {
	tp, rec, oopts := otelPeer(t)
	srv := newApp(t, "srv", trace.WithIDGenerator(trace.W3CIDGenerator()))
	var got trace.SpanContext
	var user string
	addr, stop := serve(t, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
		got = trace.SpanFromContext(ctx).Context()
		user = trace.SpanFromContext(ctx).BaggageItem("user")
		return &testpb.SimpleResponse{}, nil
	}}, tracegrpc.ServerOptions(srv.tracer)...)
	client, closeConn := dial(t, addr, grpc.WithStatsHandler(otelgrpc.NewClientHandler(oopts...)))
	m, _ := baggage.NewMember("user", "alice")
	b, _ := baggage.New(m)
	ctx, parent := tp.Tracer("test").Start(baggage.ContextWithBaggage(context.Background(), b), "caller")
	if _, err := client.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	closeConn()
	stop()
	srv.close(t)
	var cs oteltrace.SpanContext
	for _, s := range rec.Ended() {
		if s.SpanKind() == oteltrace.SpanKindClient {
			cs = s.SpanContext()
		}
	}
	if !cs.IsValid() {
		t.Fatal("no otelgrpc client span")
	}
	if got.TraceID() != cs.TraceID().String() || got.ParentID() != cs.SpanID().String() || got.SpanID() == cs.SpanID().String() ||
		!propagation.IsW3CSpanID(got.SpanID()) {
		t.Fatalf("server span trace %s span %s parent %s; otelgrpc client trace %s span %s", got.TraceID(), got.SpanID(), got.ParentID(), cs.TraceID(), cs.SpanID())
	}
	if user != "alice" {
		t.Errorf("W3C baggage user=%q, want alice", user)
	}
	r := one(t, srv, layout.LogTypeRPCServer)
	if p, _ := r.Get(layout.FieldParentSpanID); r.TraceID != got.TraceID() || r.SpanID != got.SpanID() || p != got.ParentID() {
		t.Fatalf("digest line %s", r.Raw)
	}
}

// TestInteropOTelServer: a tracemdc client with W3C ids calling an otelgrpc server stays one trace: the
// otelgrpc server span's parent is the tracemdc client span.
func TestInteropOTelServer(t *testing.T) {
	_, rec, oopts := otelPeer(t)
	cli := newApp(t, "cli", trace.WithIDGenerator(trace.W3CIDGenerator()))
	addr, stop := serve(t, &service{}, grpc.StatsHandler(otelgrpc.NewServerHandler(oopts...)))
	client, closeConn := dial(t, addr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli.tracer)))
	ctx, parent := cli.tracer.Start(context.Background(), "caller")
	parent.SetBaggageItem("user", "alice")
	if _, err := client.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	parent.Finish()
	closeConn()
	stop()
	cli.close(t)
	r := one(t, cli, layout.LogTypeRPCClient)
	var ss sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		if s.SpanKind() == oteltrace.SpanKindServer {
			ss = s
		}
	}
	if ss == nil {
		t.Fatal("no otelgrpc server span")
	}
	if ss.SpanContext().TraceID().String() != parent.TraceID() || ss.Parent().SpanID().String() != r.SpanID || !ss.Parent().IsRemote() {
		t.Fatalf("otelgrpc server span trace %s parent %s; tracemdc client trace %s span %s", ss.SpanContext().TraceID(), ss.Parent().SpanID(), parent.TraceID(), r.SpanID)
	}
	if p, _ := r.Get(layout.FieldParentSpanID); p != parent.SpanID() {
		t.Fatalf("client line parent %q, want %q", p, parent.SpanID())
	}
}
