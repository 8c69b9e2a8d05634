package tracegrpc_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
)

// one returns the only record of a digest file, failing otherwise.
func one(t *testing.T, a *app, logType string) *digestread.Record {
	t.Helper()
	recs := a.records(t, logType, false)
	if len(recs) != 1 {
		t.Fatalf("%s %s: %d lines, want 1", a.name, logType, len(recs))
	}
	return recs[0]
}

// TestResultCodes: each way a call ends gives its documented result code, on the client and (when the
// call reached it) on the server, and the error text follows on failure.
func TestResultCodes(t *testing.T) {
	for _, c := range []struct {
		name         string
		handler      func(ctx context.Context) error
		timeout      time.Duration
		client, srv  string
		clientErrHas string
	}{
		{"ok", func(context.Context) error { return nil }, 0, "00", "00", ""},
		{"deadline", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, 50 * time.Millisecond, "03", "03", "DeadlineExceeded"},
		{"plain error", func(context.Context) error { return errors.New("out of stock") }, 0, "01", "01", "out of stock"},
		{"not found", func(context.Context) error { return status.Error(codes.NotFound, "no such item") }, 0, "01", "01", "NotFound"},
		{"internal", func(context.Context) error { return status.Error(codes.Internal, "db down") }, 0, "02", "02", "Internal"},
		{"unavailable from handler", func(context.Context) error { return status.Error(codes.Unavailable, "downstream") }, 0, "02", "02", "Unavailable"},
		{"panic", func(context.Context) error { panic("boom") }, 0, "02", "02", tracegrpc.ErrHandlerPanicked},
	} {
		t.Run(c.name, func(t *testing.T) {
			cli, srv := newApp(t, "cli"), newApp(t, "srv")
			addr, stop := serve(t, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
				if err := c.handler(ctx); err != nil {
					return nil, err
				}
				return &testpb.SimpleResponse{}, nil
			}}, tracegrpc.ServerOptions(srv.tracer)...)
			client, closeConn := dial(t, addr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli.tracer)))
			ctx := context.Background()
			if c.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.timeout)
				defer cancel()
			}
			_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{})
			if (err == nil) != (c.client == "00") {
				t.Fatalf("call error %v", err)
			}
			closeConn()
			stop()
			cli.close(t)
			srv.close(t)
			cr, sr := one(t, cli, layout.LogTypeRPCClient), one(t, srv, layout.LogTypeRPCServer)
			if cr.ResultCode != c.client || sr.ResultCode != c.srv {
				t.Fatalf("client %s server %s, want %s %s\n%s\n%s", cr.ResultCode, sr.ResultCode, c.client, c.srv, cr.Raw, sr.Raw)
			}
			if e, _ := cr.Get(layout.FieldError); !strings.Contains(e, c.clientErrHas) {
				t.Errorf("client error %q, want it to hold %q", e, c.clientErrHas)
			}
			if c.name == "panic" {
				if e, _ := sr.Get(layout.FieldError); !strings.Contains(e, "boom") {
					t.Errorf("server error %q, want the panic value", e)
				}
				if st := srv.tracer.Stats(); st.Errors != 1 {
					t.Errorf("server tracer stats %+v, want the panic reported", st)
				}
				self, _ := os.ReadFile(filepath.Join(layout.DigestDir(srv.root), layout.SelfLogName))
				if !strings.Contains(string(self), "boom") || !strings.Contains(string(self), "goroutine") {
					t.Errorf("tracer-self.log lacks the panic and its stack:\n%s", self)
				}
			}
		})
	}
}

// TestResultCodesNoServer: a call that reaches no server is 02 when the address refuses connections
// and 04 when name resolution gives no address (SOFARPC's routing failure); no request went out.
func TestResultCodesNoServer(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := lis.Addr().String()
	lis.Close()

	empty := manual.NewBuilderWithScheme("empty")
	empty.InitialState(resolver.State{})
	for _, c := range []struct {
		name, target string
		opts         []grpc.DialOption
		code         string
	}{
		{"refused", refused, nil, "02"},
		{"no address", "empty:///inventory", []grpc.DialOption{grpc.WithResolvers(empty)}, "04"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cli := newApp(t, "cli")
			client, closeConn := dial(t, c.target, append(c.opts, grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli.tracer)))...)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := client.UnaryCall(ctx, &testpb.SimpleRequest{})
			if status.Code(err) != codes.Unavailable {
				t.Fatalf("call error %v, want Unavailable", err)
			}
			closeConn()
			cli.close(t)
			r := one(t, cli, layout.LogTypeRPCClient)
			if r.ResultCode != c.code {
				t.Fatalf("code %s, want %s: %s", r.ResultCode, c.code, r.Raw)
			}
			if _, ok := r.Get(layout.FieldRemoteIP); ok {
				t.Errorf("remote.ip of a call that had no connection: %s", r.Raw)
			}
		})
	}
}

// TestUnknownMethod: a call to a service the server does not have gets a server span too (gRPC sends
// no End event for it), with 02 and the Unimplemented text; the client's is 02 as well.
func TestUnknownMethod(t *testing.T) {
	cli, srv := newApp(t, "cli"), newApp(t, "srv")
	addr, stop := serve(t, &service{}, tracegrpc.ServerOptions(srv.tracer)...)
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecureCreds()), grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli.tracer)))
	if err != nil {
		t.Fatal(err)
	}
	err = conn.Invoke(context.Background(), "/no.Such/Method", &testpb.Empty{}, &testpb.Empty{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("call error %v", err)
	}
	conn.Close()
	stop()
	cli.close(t)
	srv.close(t)
	cr, sr := one(t, cli, layout.LogTypeRPCClient), one(t, srv, layout.LogTypeRPCServer)
	if cr.ResultCode != "02" || sr.ResultCode != "02" || sr.SpanID != cr.SpanID || sr.URL != "no.Such/Method" {
		t.Fatalf("client %s\nserver %s", cr.Raw, sr.Raw)
	}
}

// TestInvokeTypes: client-streaming and bidirectional calls are client_stream and bi_stream on both
// sides, with the bytes of every message counted.
func TestInvokeTypes(t *testing.T) {
	cli, srv := newApp(t, "cli"), newApp(t, "srv")
	addr, stop := serve(t, &service{}, tracegrpc.ServerOptions(srv.tracer)...)
	client, closeConn := dial(t, addr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli.tracer)))
	ctx := context.Background()
	in, err := client.StreamingInputCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		if err := in.Send(&testpb.StreamingInputCallRequest{Payload: &testpb.Payload{Body: make([]byte, 100)}}); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := in.CloseAndRecv(); err != nil || out.GetAggregatedPayloadSize() != 400 {
		t.Fatalf("%v %v", out, err)
	}
	bidi, err := client.FullDuplexCall(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if err := bidi.Send(&testpb.StreamingOutputCallRequest{Payload: &testpb.Payload{Body: make([]byte, 10)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := bidi.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	if err := bidi.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := bidi.Recv(); err == nil {
		t.Fatal("stream not ended")
	}
	closeConn()
	stop()
	cli.close(t)
	srv.close(t)
	for _, a := range []struct {
		a       *app
		logType string
	}{{cli, layout.LogTypeRPCClient}, {srv, layout.LogTypeRPCServer}} {
		recs := a.a.records(t, a.logType, false)
		if len(recs) != 2 {
			t.Fatalf("%s: %d lines", a.logType, len(recs))
		}
		types := map[string]string{}
		for _, r := range recs {
			it, _ := r.Get(layout.FieldInvokeType)
			req, _ := r.Get(layout.FieldRPCReqSize)
			types[strings.TrimPrefix(r.URL, "grpc.testing.TestService/")] = it + " " + req
		}
		// 4 requests of 100 body bytes: 4 * (5 gRPC framing + 4 protobuf + 100); 2 of 10: 2 * (5 + 4 + 10).
		if types["StreamingInputCall"] != "client_stream 436" || types["FullDuplexCall"] != "bi_stream 38" {
			t.Errorf("%s: %v", a.logType, types)
		}
	}
}

// TestServerSpanModes: a SOFA caller id is kept by default, a W3C one gets a child; WithServerSpanMode
// decides for every caller.
func TestServerSpanModes(t *testing.T) {
	const tid = "0a0fe9071584361415996100161966"
	for _, c := range []struct {
		name       string
		md         []string
		opts       []tracegrpc.Option
		span, prnt string
	}{
		{"sofa keep", []string{"sofa-traceid", tid, "sofa-rpcid", "0.1"}, nil, "0.1", "0"},
		{"sofa child", []string{"sofa-traceid", tid, "sofa-rpcid", "0.1"}, []tracegrpc.Option{tracegrpc.WithServerSpanMode(trace.ServerSpanChild)}, "0.1.1", "0.1"},
		{"w3c child", []string{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, nil, "", "00f067aa0ba902b7"},
		{"w3c keep", []string{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, []tracegrpc.Option{tracegrpc.WithServerSpanMode(trace.ServerSpanKeep)}, "00f067aa0ba902b7", ""},
		{"b3 lower case", []string{"x-b3-traceid", tid, "x-b3-spanid", "0.2", "x-b3-sampled", "true", "baggage-user", "alice"}, nil, "0.2", "0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newApp(t, "srv")
			var got trace.SpanContext
			addr, _ := serve(t, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
				got = trace.SpanFromContext(ctx).Context()
				return &testpb.SimpleResponse{}, nil
			}}, grpc.StatsHandler(tracegrpc.NewServerHandler(srv.tracer, c.opts...)))
			client, _ := dial(t, addr)
			if _, err := client.UnaryCall(metadata.AppendToOutgoingContext(context.Background(), c.md...), &testpb.SimpleRequest{}); err != nil {
				t.Fatal(err)
			}
			if (c.span != "" && got.SpanID() != c.span) || got.ParentID() != c.prnt || (c.span == "" && (got.SpanID() == "00f067aa0ba902b7" || len(got.SpanID()) != 16)) {
				t.Fatalf("span %q parent %q, want %q %q", got.SpanID(), got.ParentID(), c.span, c.prnt)
			}
		})
	}
}

// TestFilter: a call the filter leaves out gets no span on either side and no metadata; others do.
func TestFilter(t *testing.T) {
	cli, srv := newApp(t, "cli"), newApp(t, "srv")
	skipEmpty := tracegrpc.WithFilter(func(m string) bool { return m != "/grpc.testing.TestService/EmptyCall" })
	var traced bool
	var md metadata.MD
	addr, stop := serve(t, &service{empty: func(ctx context.Context) {
		traced = trace.SpanFromContext(ctx).Context().IsValid()
		md, _ = metadata.FromIncomingContext(ctx)
	}}, tracegrpc.ServerOptions(srv.tracer, skipEmpty)...)
	client, closeConn := dial(t, addr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli.tracer, skipEmpty)))
	if _, err := client.EmptyCall(context.Background(), &testpb.Empty{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.UnaryCall(context.Background(), &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	closeConn()
	stop()
	cli.close(t)
	srv.close(t)
	if traced || len(md.Get("sofa-traceid")) != 0 || len(md.Get("tri-trace-current-app")) != 0 {
		t.Fatalf("filtered call traced %v, metadata %v", traced, md)
	}
	if c, s := one(t, cli, layout.LogTypeRPCClient), one(t, srv, layout.LogTypeRPCServer); c.URL != "grpc.testing.TestService/UnaryCall" || s.URL != c.URL {
		t.Fatalf("client %s\nserver %s", c.Raw, s.Raw)
	}
}

// TestStreamPanic: a streaming handler's panic is recovered by the stream interceptor: the client gets
// Internal, both spans 02, the server span the panic as its error.
func TestStreamPanic(t *testing.T) {
	cli, srv := newApp(t, "cli"), newApp(t, "srv")
	addr, stop := serve(t, &service{output: func(*testpb.StreamingOutputCallRequest, grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
		panic(errors.New("stream boom"))
	}}, tracegrpc.ServerOptions(srv.tracer)...)
	client, closeConn := dial(t, addr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(cli.tracer)))
	st, err := client.StreamingOutputCall(context.Background(), &testpb.StreamingOutputCallRequest{})
	if err == nil {
		_, err = st.Recv()
	}
	if status.Code(err) != codes.Internal {
		t.Fatalf("stream error %v, want Internal", err)
	}
	closeConn()
	stop()
	cli.close(t)
	srv.close(t)
	c, s := one(t, cli, layout.LogTypeRPCClient), one(t, srv, layout.LogTypeRPCServer)
	if e, _ := s.Get(layout.FieldError); c.ResultCode != "02" || s.ResultCode != "02" || !strings.Contains(e, "stream boom") {
		t.Fatalf("client %s\nserver %s", c.Raw, s.Raw)
	}
	if it, _ := s.Get(layout.FieldInvokeType); it != "server_stream" {
		t.Fatalf("invoke.type %q", it)
	}
}
