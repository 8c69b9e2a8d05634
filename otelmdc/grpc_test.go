package otelmdc_test

import (
	"context"
	"net"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// stockDesc is a one-method gRPC service written by hand (wrapper messages as request and answer):
// "ok" is reserved, "missing" is a NotFound status, "slow" waits for the caller's deadline.
var stockDesc = grpc.ServiceDesc{
	ServiceName: "shop.Stock",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Reserve", Handler: func(_ any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		switch in.Value {
		case "missing":
			return nil, status.Error(codes.NotFound, "no such item")
		case "slow":
			<-ctx.Done()
			return nil, status.FromContextError(ctx.Err()).Err()
		}
		return wrapperspb.String("reserved"), nil
	}}},
}

// TestProcessorOtelgrpc: the spans of a real otelgrpc (contrib v0.72.0, semantic conventions 1.43:
// rpc.system.name, a fully-qualified rpc.method, rpc.response.status_code as a code name) go to the
// rpc-client and rpc-server digest files with service, method, protocol, the caller's ids, and the
// result codes tracegrpc gives the same statuses (layout.GRPCResultCode): 00 for OK, 01 for NotFound,
// 03 for DeadlineExceeded. Before, such spans were written in the generic layout to span-digest.log.
func TestProcessorOtelgrpc(t *testing.T) {
	orders := newService(t, "orders", sdktrace.AlwaysSample())
	stock := newService(t, "stock", sdktrace.AlwaysSample())
	prop := otelgrpc.WithPropagators(propagation.TraceContext{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.StatsHandler(otelgrpc.NewServerHandler(otelgrpc.WithTracerProvider(stock.tp), prop)))
	srv.RegisterService(&stockDesc, struct{}{})
	go func() { _ = srv.Serve(ln) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelgrpc.WithTracerProvider(orders.tp), prop)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	want := map[string]string{"ok": layout.CodeSuccess, "missing": layout.CodeBizError, "slow": layout.CodeTimeout}
	for _, item := range []string{"ok", "missing", "slow"} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if item == "slow" {
			ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
		}
		err := conn.Invoke(ctx, "/shop.Stock/Reserve", wrapperspb.String(item), new(wrapperspb.StringValue))
		cancel()
		if got := layout.GRPCResultCode(uint32(status.Code(err))); got != want[item] {
			t.Fatalf("%s: %v (result code %s)", item, err, got)
		}
	}
	_ = conn.Close()
	srv.Stop()
	if err := orders.tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := stock.tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if g := orders.lines(t, "span-digest.log"); len(g) != 0 {
		t.Errorf("gRPC client spans in the generic layout: %v", g)
	}
	clients := byID(orders.lines(t, "rpc-client-digest.log"))
	servers := stock.lines(t, "rpc-server-digest.log")
	if len(clients) != 3 {
		t.Fatalf("%d rpc-client lines, want 3", len(clients))
	}
	codesSeen := map[string]int{}
	for _, cl := range clients {
		if cl["service"] != "shop.Stock" || cl["method"] != "Reserve" || cl["protocol"] != "grpc" || cl["span.kind"] != "client" ||
			cl["local.app"] != "orders" || cl["remote.ip"] != ln.Addr().String() {
			t.Errorf("client line %v", cl)
		}
		codesSeen[cl["result.code"].(string)]++
	}
	if codesSeen[layout.CodeSuccess] != 1 || codesSeen[layout.CodeBizError] != 1 || codesSeen[layout.CodeTimeout] != 1 {
		t.Errorf("client result codes %v, want one each of 00, 01, 03", codesSeen)
	}
	serverCodes := map[string]int{}
	for _, sl := range servers {
		cl := clients[sl["parent.span.id"].(string)]
		if cl == nil || sl["tracerId"] != cl["tracerId"] || sl["service"] != "shop.Stock" || sl["method"] != "Reserve" ||
			sl["protocol"] != "grpc" || sl["span.kind"] != "server" || sl["local.app"] != "stock" {
			t.Errorf("server line %v, its client's %v", sl, cl)
			continue
		}
		if cl["result.code"] != layout.CodeTimeout && sl["result.code"] != cl["result.code"] {
			t.Errorf("server result code %v, client's %v", sl["result.code"], cl["result.code"])
		}
		serverCodes[sl["result.code"].(string)]++
	}
	if len(servers) != 3 || serverCodes[layout.CodeSuccess] != 1 || serverCodes[layout.CodeBizError] != 1 {
		t.Errorf("%d rpc-server lines, codes %v", len(servers), serverCodes)
	}
}
