package tracegrpc_test

import (
	"context"
	"fmt"
	"net"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
)

// A traced server: its handler's context carries the server span, whose ids are in the MDC. A
// SOFARPC caller's ids (here sent by hand) are kept, as SOFARPC keeps them.
func ExampleServerOptions() {
	tracer := trace.New("inventory") // add trace.WithReporter(digestReporter) to write rpc-server lines
	srv := grpc.NewServer(tracegrpc.ServerOptions(tracer)...)
	testpb.RegisterTestServiceServer(srv, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
		traceID, _ := mdc.Get(ctx, mdc.KeyTraceID)
		spanID, _ := mdc.Get(ctx, mdc.KeySpanID)
		fmt.Println("handler:", traceID, spanID)
		return &testpb.SimpleResponse{}, nil
	}})
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(lis)
	defer srv.Stop()

	conn, _ := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	defer conn.Close()
	ctx := metadata.AppendToOutgoingContext(context.Background(),
		"sofa-traceid", "0a0fe9071584361415996100161966", "sofa-rpcid", "0.1")
	_, err := testpb.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{})
	fmt.Println("error:", err)
	// Output:
	// handler: 0a0fe9071584361415996100161966 0.1
	// error: <nil>
}

// A traced client: each call is a client span, a child of the span of the call's context, and its
// context travels in the call's metadata.
func ExampleNewClientHandler() {
	tracer := trace.New("orders")
	srv := grpc.NewServer()
	testpb.RegisterTestServiceServer(srv, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		fmt.Println("server got rpcId", md.Get("sofa-rpcid"), "from", md.Get("tri-trace-current-app"))
		return &testpb.SimpleResponse{}, nil
	}})
	lis, _ := net.Listen("tcp", "127.0.0.1:0")
	go srv.Serve(lis)
	defer srv.Stop()

	conn, _ := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(tracegrpc.NewClientHandler(tracer, tracegrpc.WithRemoteApp("inventory"))))
	defer conn.Close()
	ctx, span := tracer.Start(context.Background(), "checkout") // span id 0
	_, err := testpb.NewTestServiceClient(conn).UnaryCall(ctx, &testpb.SimpleRequest{})
	span.Finish()
	fmt.Println("error:", err)
	// Output:
	// server got rpcId [0.1] from [orders]
	// error: <nil>
}
