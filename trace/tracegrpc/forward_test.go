package tracegrpc_test

import (
	"context"
	"testing"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
)

// TestForwardedMetadata: a gateway that forwards its incoming metadata to its own outgoing call (the
// usual proxy code, metadata.NewOutgoingContext(ctx, incoming)) still sends its client span's
// context: the next server reads the gateway's client span (0.1.1, and for an unsampled caller
// nothing stale), not the ids the gateway received (0.1), which would give the next server span the
// gateway's own server span id.
func TestForwardedMetadata(t *testing.T) {
	for _, sampled := range []bool{true, false} {
		name := "sampled"
		if !sampled {
			name = "unsampled"
		}
		t.Run(name, func(t *testing.T) {
			var sampler []trace.Option
			if !sampled {
				sampler = append(sampler, trace.WithSampler(trace.NeverSample()))
			}
			front, gw, back := newApp(t, "front", sampler...), newApp(t, "gateway"), newApp(t, "back")
			backAddr, stopBack := serve(t, &service{}, tracegrpc.ServerOptions(back.tracer)...)
			backClient, closeBack := dial(t, backAddr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(gw.tracer)))
			gwAddr, stopGW := serve(t, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
				md, _ := metadata.FromIncomingContext(ctx)
				return backClient.UnaryCall(metadata.NewOutgoingContext(ctx, md), in)
			}}, tracegrpc.ServerOptions(gw.tracer)...)
			gwClient, closeGW := dial(t, gwAddr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(front.tracer)))
			ctx, root := front.tracer.Start(context.Background(), "checkout")
			if _, err := gwClient.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
				t.Fatal(err)
			}
			root.Finish()
			closeGW()
			stopGW()
			closeBack()
			stopBack()
			front.close(t)
			gw.close(t)
			back.close(t)
			if !sampled {
				// No digest line for an unsampled trace; the stat lines count the back server's span.
				if n := len(back.lines(t, layout.StatFileName(layout.LogTypeRPCServer), false)); n != 1 {
					t.Fatalf("back server: %d stat lines, want 1", n)
				}
				if recs := back.records(t, layout.LogTypeRPCServer, false); len(recs) != 0 {
					t.Fatalf("back server wrote a digest line of an unsampled trace: %s", recs[0].Raw)
				}
				return
			}
			gwServer, gwCall := one(t, gw, layout.LogTypeRPCServer), one(t, gw, layout.LogTypeRPCClient)
			backServer := one(t, back, layout.LogTypeRPCServer)
			if gwServer.SpanID != "0.1" || gwCall.SpanID != "0.1.1" || backServer.SpanID != "0.1.1" ||
				backServer.TraceID != gwServer.TraceID || backServer.TraceID != root.Context().TraceID() {
				t.Fatalf("gateway server %s, its call %s, back server %s (trace %s, want %s)", gwServer.SpanID, gwCall.SpanID,
					backServer.SpanID, backServer.TraceID, root.Context().TraceID())
			}
		})
	}
}
