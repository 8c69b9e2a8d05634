package otlp

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/internal/jaegertest"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// stockDesc is a one-method gRPC service (no generated code: wrapper messages as request and answer).
var stockDesc = grpc.ServiceDesc{
	ServiceName: "shop.Stock",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Reserve", Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		call := func(ctx context.Context, req any) (any, error) {
			return srv.(*stockServer).reserve(ctx, req.(*wrapperspb.StringValue))
		}
		if icpt == nil {
			return call(ctx, in)
		}
		return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/shop.Stock/Reserve"}, call)
	}}},
}

type stockServer struct{ tracer *trace.Tracer }

// reserve does its work in a local span, a child of the server span.
func (s *stockServer) reserve(ctx context.Context, item *wrapperspb.StringValue) (*wrapperspb.Int64Value, error) {
	_, span := s.tracer.Start(ctx, "db.update")
	span.SetTag("item", item.GetValue())
	span.Finish()
	return wrapperspb.Int64(41), nil
}

// A gRPC hop in the chain: frontend (HTTP) calls stock over gRPC with tracegrpc, whose server span
// keeps the caller's rpcId span id, as SOFARPC's does. Exported by OTLP, Jaeger gets four distinct
// spans: the server under the client span that shares its SOFA id, and the server's local child under
// the server, on every query.
func TestOTLPJaegerGRPCKeptID(t *testing.T) {
	j := jaegertest.Start(t)
	ef, es := newExporter(t, export.WithEndpointURL(j.OTLPURL())), newExporter(t, export.WithEndpointURL(j.OTLPURL()))
	front := trace.New("frontend", trace.WithReporter(ef))
	stock := trace.New("stock", trace.WithReporter(es))

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append(tracegrpc.ServerOptions(stock), grpc.WaitForHandlers(true))...)
	srv.RegisterService(&stockDesc, &stockServer{tracer: stock})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(tracegrpc.NewClientHandler(front, tracegrpc.WithRemoteApp("stock"))))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	h := tracehttp.Middleware(front)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(jaegertest.HeaderTraceID, trace.SpanFromContext(r.Context()).TraceID())
		if err := conn.Invoke(r.Context(), "/shop.Stock/Reserve", wrapperspb.String("book"), new(wrapperspb.Int64Value)); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
		}
	}))
	web := &http.Server{Handler: h}
	wl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = web.Serve(wl) }()
	defer web.Close()
	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("http://" + wl.Addr().String() + "/checkout")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	traceID := resp.Header.Get(jaegertest.HeaderTraceID)
	if resp.StatusCode != http.StatusOK || traceID == "" {
		t.Fatalf("checkout: %s, trace %q", resp.Status, traceID)
	}
	if n := closeAll(t, []*export.Exporter{ef, es}); n != 4 {
		t.Fatalf("%d spans exported, want 4", n)
	}

	root, client01 := idmap.SpanHex("0"), idmap.SpanHex("0.1")
	server, db := idmap.SpanHex("0.1/server"), idmap.SpanHex("0.1.1")
	want := []struct {
		id, parent, service, kind, origin string
	}{
		{root, "", "frontend", "server", "0"},
		{client01, root, "frontend", "client", "0.1"},
		{server, client01, "stock", "server", "0.1"},
		{db, server, "stock", "internal", "0.1.1"},
	}
	for query := 1; query <= 2; query++ { // the second sees what the first one's adjusting stored
		tr := j.WaitTrace(t, idmap.TraceHex(traceID), 4)
		if len(tr.Spans) != 4 {
			t.Fatalf("query %d: %d spans: %v", query, len(tr.Spans), describe(tr))
		}
		for _, w := range want {
			s, ok := tr.ByID(w.id)
			if !ok {
				t.Fatalf("query %d: no span %s (%s %s): %v", query, w.id, w.service, w.kind, describe(tr))
			}
			kind, _ := s.Tag("span.kind")
			origin, _ := s.Tag("origin.span.id")
			if s.Parent() != w.parent || tr.Service(s) != w.service || kind != w.kind || origin != w.origin {
				t.Errorf("query %d: span %s: parent %s service %s kind %s origin %s, want %s %s %s %s", query, w.id,
					s.Parent(), tr.Service(s), kind, origin, w.parent, w.service, w.kind, w.origin)
			}
		}
		if query == 1 {
			t.Logf("Jaeger trace %s: %v", idmap.TraceHex(traceID), describe(tr))
		}
	}
}
