package tracegrpc_test

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	otelprop "go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/test/bufconn"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/internal/cputime"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
)

// discardExporter is an OpenTelemetry exporter that drops every batch.
type discardExporter struct{}

func (discardExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discardExporter) Shutdown(context.Context) error                             { return nil }

// BenchmarkUnary measures one unary call with a small message over bufconn (an in-memory connection,
// so that the network does not drown the instrumentation): bare, traced by tracemdc on both sides
// (a digest reporter writing the rpc-client and rpc-server lines to files, flushed before the timer
// stops), and traced by otelgrpc on both sides (the OpenTelemetry SDK with a BatchSpanProcessor to
// an exporter that drops the spans). Besides ns/op each row reports cpu-ns/op, the process's CPU
// time per call (all goroutines: the reporters' consumers and the BatchSpanProcessor's too; see
// internal/cputime); compare either with benchratio's -unit. The other rows tell the
// costs apart: tracemdc_prompt is tracemdc with digest.Prompt reporters (the consumer woken for
// each span, written one line a write, as before digest.Config.Wait), tracemdc_noreporter the
// instrumentation without a reporter, and floor what any tracer on stats handlers that propagates
// pays before its first span (no-op handlers on both sides, one header with a new value per call).
// The goal is tracemdc's added time at most half of otelgrpc's, with fewer added allocations:
//
//	go run ../../internal/cmd/benchratio -pkg . -zero Unary/bare -base Unary/otelgrpc -new Unary/tracemdc
//	go run ../../internal/cmd/benchratio -pkg . -zero Unary/bare -base Unary/otelgrpc -new Unary/tracemdc -unit cpu-ns/op
func BenchmarkUnary(b *testing.B) {
	var reps []*digest.Reporter // the digest reporters of the benchmark running: flushed before its timer stops
	tracer := func(b *testing.B, app string, wait digest.Wait) *trace.Tracer {
		rep := benchReporter(b, wait)
		reps = append(reps, rep)
		return trace.New(app, trace.WithReporter(rep))
	}
	for _, bc := range []struct {
		name  string
		setup func(b *testing.B) ([]grpc.ServerOption, []grpc.DialOption)
	}{
		{"bare", func(*testing.B) ([]grpc.ServerOption, []grpc.DialOption) { return nil, nil }},
		{"tracemdc", func(b *testing.B) ([]grpc.ServerOption, []grpc.DialOption) {
			srv, cli := tracer(b, "inventory", digest.Batched), tracer(b, "orders", digest.Batched)
			return tracegrpc.ServerOptions(srv), []grpc.DialOption{grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli, tracegrpc.WithRemoteApp("inventory")))}
		}},
		{"tracemdc_prompt", func(b *testing.B) ([]grpc.ServerOption, []grpc.DialOption) {
			srv, cli := tracer(b, "inventory", digest.Prompt), tracer(b, "orders", digest.Prompt)
			return tracegrpc.ServerOptions(srv), []grpc.DialOption{grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli, tracegrpc.WithRemoteApp("inventory")))}
		}},
		{"tracemdc_noreporter", func(b *testing.B) ([]grpc.ServerOption, []grpc.DialOption) {
			// The instrumentation alone, its spans dropped: what the digest reporter adds is the rest.
			srv, cli := trace.New("inventory"), trace.New("orders")
			return tracegrpc.ServerOptions(srv), []grpc.DialOption{grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli, tracegrpc.WithRemoteApp("inventory")))}
		}},
		{"floor", func(*testing.B) ([]grpc.ServerOption, []grpc.DialOption) {
			// What any tracer built on stats handlers that propagates pays before its first span: a
			// handler on each side (gRPC then makes its stats events, and copies the incoming metadata
			// for the server's), and one header with a new value per call, as a traceparent.
			return []grpc.ServerOption{grpc.StatsHandler(nopHandler{})},
				[]grpc.DialOption{grpc.WithStatsHandler(nopHandler{}), grpc.WithUnaryInterceptor(traceparentHeader())}
		}},
		{"otelgrpc", func(b *testing.B) ([]grpc.ServerOption, []grpc.DialOption) {
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(discardExporter{}))
			b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			opts := []otelgrpc.Option{otelgrpc.WithTracerProvider(tp), otelgrpc.WithPropagators(otelprop.TraceContext{})}
			return []grpc.ServerOption{grpc.StatsHandler(otelgrpc.NewServerHandler(opts...))},
				[]grpc.DialOption{grpc.WithStatsHandler(otelgrpc.NewClientHandler(opts...))}
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			reps = reps[:0]
			sopts, dopts := bc.setup(b)
			lis := bufconn.Listen(1 << 20)
			srv := grpc.NewServer(sopts...)
			testpb.RegisterTestServiceServer(srv, &service{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				_ = srv.Serve(lis)
			}()
			conn, err := grpc.NewClient("passthrough:///bufconn", append(dopts,
				grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))...)
			if err != nil {
				b.Fatal(err)
			}
			client := testpb.NewTestServiceClient(conn)
			req := &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("reserve A-1, qty 1")}}
			ctx := context.Background()
			if _, err := client.UnaryCall(ctx, req); err != nil { // connect before timing
				b.Fatal(err)
			}
			b.ReportAllocs()
			cpu0 := cputime.Process()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := client.UnaryCall(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			for _, rep := range reps {
				rep.Flush() // every line written, in the time and CPU measured
			}
			b.StopTimer()
			cputime.ReportPerOp(b, cpu0)
			_ = conn.Close()
			srv.Stop()
			<-done
		})
	}
}

// nopHandler is a gRPC stats handler that does nothing.
type nopHandler struct{}

func (nopHandler) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (nopHandler) HandleRPC(context.Context, stats.RPCStats)                         {}
func (nopHandler) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (nopHandler) HandleConn(context.Context, stats.ConnStats)                       {}

// traceparentHeader returns a client interceptor adding a traceparent header with a new trace id
// to every call.
func traceparentHeader() grpc.UnaryClientInterceptor {
	var n atomic.Uint64
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		tp := fmt.Sprintf("00-4bf92f3577b34da6%016x-00f067aa0ba902b7-01", n.Add(1))
		return invoker(metadata.AppendToOutgoingContext(ctx, "traceparent", tp), method, req, reply, cc, opts...)
	}
}

// benchReporter returns a digest reporter writing to files under a temporary root, closed when b
// ends.
func benchReporter(b *testing.B, wait digest.Wait) *digest.Reporter {
	rep, err := digest.New(digest.Config{Root: b.TempDir(), Wait: wait})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = rep.Close() })
	return rep
}
