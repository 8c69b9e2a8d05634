package tracegrpc_test

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
)

// Every log file the digest reporter opens starts a lumberjack goroutine that lumberjack never stops
// (see package rolling): the only goroutine allowed to outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// app is one traced application: a tracer whose digest reporter writes under a root of its own.
type app struct {
	name   string
	root   string
	rep    *digest.Reporter
	tracer *trace.Tracer
}

func newApp(t *testing.T, name string, opts ...trace.Option) *app {
	t.Helper()
	root := t.TempDir()
	rep, err := digest.New(digest.Config{Root: root, Policy: digest.Block, Location: time.UTC, StatInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rep.Close() })
	return &app{name: name, root: root, rep: rep, tracer: trace.New(name, append([]trace.Option{trace.WithReporter(rep)}, opts...)...)}
}

// close writes everything the app's reporter holds, stat lines included.
func (a *app) close(t *testing.T) {
	t.Helper()
	if err := a.rep.Close(); err != nil {
		t.Fatal(err)
	}
}

// lines returns the lines of one of the app's log files (tracelog/[shadow/]name), nil when it does not
// exist.
func (a *app) lines(t *testing.T, name string, shadow bool) []string {
	t.Helper()
	dir := layout.DigestDir(a.root)
	if shadow {
		dir = filepath.Join(dir, layout.ShadowDirName)
	}
	b, err := os.ReadFile(filepath.Join(dir, name))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// records parses the lines of one of the app's digest files with tracetail's reader; every line must
// be one valid JSON object.
func (a *app) records(t *testing.T, logType string, shadow bool) []*digestread.Record {
	t.Helper()
	var out []*digestread.Record
	for _, l := range a.lines(t, layout.DigestFileName(logType), shadow) {
		if !json.Valid([]byte(l)) {
			t.Fatalf("%s: not one JSON line: %q", a.name, l)
		}
		r, err := digestread.ParseLine([]byte(l), time.UTC)
		if err != nil {
			t.Fatalf("%s: %v: %s", a.name, err, l)
		}
		out = append(out, r)
	}
	return out
}

// service is a TestService whose methods the tests fill in.
type service struct {
	testpb.UnimplementedTestServiceServer
	empty  func(ctx context.Context)
	unary  func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error)
	output func(in *testpb.StreamingOutputCallRequest, ss grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error
	input  func(ss grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error
	duplex func(ss grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error
}

func (s *service) EmptyCall(ctx context.Context, in *testpb.Empty) (*testpb.Empty, error) {
	if s.empty != nil {
		s.empty(ctx)
	}
	return &testpb.Empty{}, nil
}

func (s *service) UnaryCall(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
	if s.unary == nil {
		return &testpb.SimpleResponse{Payload: in.GetPayload()}, nil
	}
	return s.unary(ctx, in)
}

func (s *service) StreamingOutputCall(in *testpb.StreamingOutputCallRequest, ss grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
	if s.output == nil {
		for _, p := range in.GetResponseParameters() {
			if err := ss.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: make([]byte, p.GetSize())}}); err != nil {
				return err
			}
		}
		return nil
	}
	return s.output(in, ss)
}

func (s *service) StreamingInputCall(ss grpc.ClientStreamingServer[testpb.StreamingInputCallRequest, testpb.StreamingInputCallResponse]) error {
	if s.input != nil {
		return s.input(ss)
	}
	n := 0
	for {
		in, err := ss.Recv()
		if err != nil {
			return ss.SendAndClose(&testpb.StreamingInputCallResponse{AggregatedPayloadSize: int32(n)})
		}
		n += len(in.GetPayload().GetBody())
	}
}

func (s *service) FullDuplexCall(ss grpc.BidiStreamingServer[testpb.StreamingOutputCallRequest, testpb.StreamingOutputCallResponse]) error {
	if s.duplex != nil {
		return s.duplex(ss)
	}
	for {
		in, err := ss.Recv()
		if err != nil {
			return nil
		}
		if err := ss.Send(&testpb.StreamingOutputCallResponse{Payload: in.GetPayload()}); err != nil {
			return err
		}
	}
}

// serve starts a real gRPC server with svc on a loopback port and returns its address. The server
// stops when the test ends, unless stop is called first; stop returns when every handler has.
func serve(t *testing.T, svc testpb.TestServiceServer, opts ...grpc.ServerOption) (addr string, stop func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(append([]grpc.ServerOption{grpc.WaitForHandlers(true)}, opts...)...)
	testpb.RegisterTestServiceServer(srv, svc)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	stop = func() {
		srv.Stop()
		<-done
	}
	t.Cleanup(stop)
	return lis.Addr().String(), stop
}

// dial connects to addr over loopback; the connection closes when the test ends, or with the returned
// close function.
func dial(t *testing.T, addr string, opts ...grpc.DialOption) (testpb.TestServiceClient, func()) {
	t.Helper()
	conn, err := grpc.NewClient(addr, append([]grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	closeConn := func() { _ = conn.Close() }
	t.Cleanup(closeConn)
	return testpb.NewTestServiceClient(conn), closeConn
}

// keys returns the keys of a record's line, in line order.
func keys(r *digestread.Record) []string {
	out := make([]string, len(r.Fields))
	for i, f := range r.Fields {
		out[i] = f.Key
	}
	return out
}

func insecureCreds() credentials.TransportCredentials { return insecure.NewCredentials() }
