// Command quickstart is the gRPC half of the tracemdc demo: an HTTP service that calls another over
// gRPC, traced end to end, and the trace read back from the digest logs, HTTP and RPC spans in one tree.
// It lives in the gRPC module (the main module does not require gRPC); run it from there:
//
//	cd trace/tracegrpc && go run ./examples/quickstart            # logs in a new temporary directory
//	cd trace/tracegrpc && go run ./examples/quickstart -logs DIR  # DIR must be absent or empty
//
// Two services listen on loopback ports chosen by the system, in one process:
//
//	client ──HTTP──► orders (net/http, tracehttp) ──gRPC──► inventory (tracegrpc)
//	                                                 Reserve: unary
//	                                                 Levels:  a server stream
//
// Each has its own tracer, digest reporter (under DIR/<service>/tracelog/) and slog logger writing
// DIR/<service>.log with the ids from the MDC. Orders reserves the item (unary), then reads the stock
// levels of the warehouses (a server stream). The demo sends five checkouts; one item is out of stock
// (inventory answers NotFound: result code 01, orders answers 409). Then it prints the tree of one
// checkout and of the failed one, as tracetail -tree shows them, with their log lines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
	"github.com/tracemdc/tracemdc/tracetree"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// outOfStock is the item inventory has none of.
const outOfStock = "B-2"

var items = []string{"A-1", "A-1", outOfStock, "C-3", "A-1"}

// run is the whole demo.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("logs", "", "`directory` of the digest, stat and business logs; absent or empty (default: a new temporary one)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" {
		d, err := os.MkdirTemp("", "tracemdc-grpc-")
		if err != nil {
			return err
		}
		*dir = d
	} else if entries, err := os.ReadDir(*dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: give a new directory (the demo writes fresh logs)", *dir)
	}
	traces, err := simulate(*dir)
	if err != nil {
		return err
	}
	return report(stdout, *dir, traces)
}

// service is one traced application.
type service struct {
	name    string
	rep     *digest.Reporter
	tracer  *trace.Tracer
	logFile *os.File
	log     *slog.Logger
}

func newService(dir, name string) (*service, error) {
	rep, err := digest.New(digest.Config{Root: filepath.Join(dir, name), Policy: digest.Block})
	if err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		_ = rep.Close()
		return nil, err
	}
	return &service{name: name, rep: rep, tracer: trace.New(name, trace.WithReporter(rep)), logFile: f,
		log: slog.New(slogmdc.New(slog.NewJSONHandler(f, nil)))}, nil
}

func (s *service) close() error { return errors.Join(s.rep.Close(), s.logFile.Close()) }

// checkout is what a client asked for and what it got.
type checkout struct {
	item, traceID string
	status        int
}

// simulate runs the services, sends the checkouts, and shuts everything down, so that every line is
// written when it returns.
func simulate(dir string) (out []checkout, err error) {
	orders, err := newService(dir, "orders")
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, orders.close()) }()
	inventory, err := newService(dir, "inventory")
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, inventory.close()) }()

	// inventory: a gRPC server.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := grpc.NewServer(append(tracegrpc.ServerOptions(inventory.tracer), grpc.WaitForHandlers(true))...)
	srv.RegisterService(&inventoryDesc, &inventoryServer{log: inventory.log})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop() // after the client connection closed: every server span has finished

	// orders: an HTTP server whose handler calls inventory with the request's context.
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithStatsHandler(tracegrpc.NewClientHandler(orders.tracer, tracegrpc.WithRemoteApp("inventory"))))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	httpLis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	httpSrv := &http.Server{Handler: tracehttp.Middleware(orders.tracer)(ordersHandler(conn, orders.log))}
	go func() { _ = httpSrv.Serve(httpLis) }()
	defer httpSrv.Close()

	client := &http.Client{}
	defer client.CloseIdleConnections()
	for _, item := range items {
		resp, err := client.Post("http://"+httpLis.Addr().String()+"/checkout?item="+item, "text/plain", nil)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out = append(out, checkout{item: item, traceID: resp.Header.Get("X-Trace-Id"), status: resp.StatusCode})
	}
	return out, nil
}

// ordersHandler reserves the item over gRPC (unary), then reads the stock levels (a server stream).
func ordersHandler(conn *grpc.ClientConn, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		w.Header().Set("X-Trace-Id", trace.SpanFromContext(ctx).TraceID())
		item := r.URL.Query().Get("item")
		log.InfoContext(ctx, "checkout", "item", item)
		left := new(wrapperspb.Int64Value)
		if err := conn.Invoke(ctx, "/shop.Inventory/Reserve", wrapperspb.String(item), left); err != nil {
			log.WarnContext(ctx, "reserve failed", "item", item, "error", err)
			http.Error(w, status.Convert(err).Message(), http.StatusConflict)
			return
		}
		st, err := conn.NewStream(ctx, &inventoryDesc.Streams[0], "/shop.Inventory/Levels")
		if err == nil {
			err = st.SendMsg(wrapperspb.String(item))
		}
		if err == nil {
			err = st.CloseSend()
		}
		levels := 0
		for err == nil {
			if err = st.RecvMsg(new(wrapperspb.Int64Value)); err == nil {
				levels++
			}
		}
		if err != io.EOF {
			log.WarnContext(ctx, "levels failed", "error", err)
		}
		log.InfoContext(ctx, "reserved", "item", item, "left", left.GetValue(), "warehouses", levels)
		fmt.Fprintf(w, "reserved %s, %d left\n", item, left.GetValue())
	})
}

// inventoryServer implements shop.Inventory.
type inventoryServer struct{ log *slog.Logger }

func (s *inventoryServer) reserve(ctx context.Context, item *wrapperspb.StringValue) (*wrapperspb.Int64Value, error) {
	if item.GetValue() == outOfStock {
		s.log.WarnContext(ctx, "out of stock", "item", item.GetValue())
		return nil, status.Errorf(codes.NotFound, "%s is out of stock", item.GetValue())
	}
	s.log.InfoContext(ctx, "reserved", "item", item.GetValue())
	return wrapperspb.Int64(41), nil
}

func (s *inventoryServer) levels(item *wrapperspb.StringValue, ss grpc.ServerStream) error {
	for _, n := range []int64{12, 20, 9} { // one message per warehouse
		if err := ss.SendMsg(wrapperspb.Int64(n)); err != nil {
			return err
		}
	}
	s.log.InfoContext(ss.Context(), "levels sent", "item", item.GetValue())
	return nil
}

// inventoryDesc describes shop.Inventory by hand, as protoc-gen-go-grpc would generate it, with the
// protobuf wrapper types as messages.
var inventoryDesc = grpc.ServiceDesc{
	ServiceName: "shop.Inventory",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{MethodName: "Reserve", Handler: func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		call := func(ctx context.Context, req any) (any, error) {
			return srv.(*inventoryServer).reserve(ctx, req.(*wrapperspb.StringValue))
		}
		if icpt == nil {
			return call(ctx, in)
		}
		return icpt(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/shop.Inventory/Reserve"}, call)
	}}},
	Streams: []grpc.StreamDesc{{StreamName: "Levels", ServerStreams: true, Handler: func(srv any, ss grpc.ServerStream) error {
		in := new(wrapperspb.StringValue)
		if err := ss.RecvMsg(in); err != nil {
			return err
		}
		return srv.(*inventoryServer).levels(in, ss)
	}}},
}

// report prints the tree of one successful checkout and of the failed one, with their log lines.
func report(w io.Writer, dir string, traces []checkout) error {
	var ok, failed string
	for _, c := range traces {
		if c.status == http.StatusOK {
			ok = c.traceID
		} else {
			failed = c.traceID
		}
	}
	dirs := []string{layout.DigestDir(filepath.Join(dir, "orders")), layout.DigestDir(filepath.Join(dir, "inventory"))}
	logs := []string{filepath.Join(dir, "orders.log"), filepath.Join(dir, "inventory.log")}
	var b strings.Builder
	fmt.Fprintf(&b, "tracemdc quickstart, gRPC: orders (HTTP) calls inventory over gRPC, %d checkouts (%s is out of stock).\n\n", len(traces), outOfStock)
	fmt.Fprintf(&b, "One checkout: the HTTP server span of orders (0), its gRPC calls (0.1 Reserve, unary; 0.2 Levels, a\n")
	fmt.Fprintf(&b, "server stream) and inventory's server spans, which keep their caller's span id as SOFARPC does:\n\n")
	if err := tracetree.Write(&b, ok, dirs, tracetree.Options{Logs: logs, Warn: &b}); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nThe failed checkout: inventory's NotFound is SOFARPC's business error, result code 01:\n\n")
	if err := tracetree.Write(&b, failed, dirs, tracetree.Options{Warn: &b}); err != nil {
		return err
	}
	fmt.Fprintf(&b, "\nFiles under %s: <service>/tracelog/{http-server,rpc-client,rpc-server}-{digest,stat}.log and\n", dir)
	fmt.Fprintf(&b, "<service>.log. Explore them with tracetail (from this module's directory, trace/tracegrpc):\n")
	fmt.Fprintf(&b, "  go run github.com/tracemdc/tracemdc/cmd/tracetail %s\n", dir)
	fmt.Fprintf(&b, "  go run github.com/tracemdc/tracemdc/cmd/tracetail -errors -type rpc-server %s\n", dir)
	_, err := io.WriteString(w, b.String())
	return err
}
