package tracegrpc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc"
	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// The rpc lines of a call carry these keys, in SOFARPC's documented order; the keys gRPC cannot
// measure are left out (see the package documentation), invoke.type follows a server's documented keys.
var (
	wantClientKeys = []string{"timestamp", "tracerId", "spanId", "span.kind", "local.app", "protocol", "service", "method",
		"current.thread.name", "invoke.type", "remote.app", "remote.ip", "local.client.ip", "result.code", "resp.size",
		"req.size", "client.elapse.time", "local.client.port", "baggage"}
	wantServerKeys = []string{"timestamp", "tracerId", "spanId", "span.kind", "service", "method", "remote.ip", "remote.app",
		"protocol", "local.app", "current.thread.name", "result.code", "biz.impl.time", "resp.size", "req.size",
		"invoke.type", "baggage"}
)

// TestChainHTTPUnaryStream: an HTTP request to orders, which calls inventory over gRPC (unary), which
// calls stock over gRPC (a server stream), real servers on loopback, is one trace with SOFARPC's span
// ids (each server keeps its caller's id), the biz baggage and the load-test mark reach the end (and the
// lines go to shadow/), every rpc line has SOFARPC's keys in the documented order, the handlers' log
// lines carry the ids, stat lines count each call, and tracetail's reader draws the tree.
func TestChainHTTPUnaryStream(t *testing.T) {
	front := trace.New("front") // the caller of orders; its spans are not written
	orders, inventory, stock := newApp(t, "orders"), newApp(t, "inventory"), newApp(t, "stock")

	var stockSeen struct {
		sync.Mutex
		user   string
		load   bool
		spanID string
	}
	stockAddr, stopStock := serve(t, &service{output: func(in *testpb.StreamingOutputCallRequest, ss grpc.ServerStreamingServer[testpb.StreamingOutputCallResponse]) error {
		s := trace.SpanFromContext(ss.Context())
		stockSeen.Lock()
		stockSeen.user, stockSeen.load, stockSeen.spanID = s.BaggageItem("user"), trace.IsLoadTest(ss.Context()), s.SpanID()
		stockSeen.Unlock()
		for i := 0; i < 3; i++ {
			if err := ss.Send(&testpb.StreamingOutputCallResponse{Payload: &testpb.Payload{Body: []byte("level")}}); err != nil {
				return err
			}
		}
		return nil
	}}, tracegrpc.ServerOptions(stock.tracer)...)
	stockClient, closeStock := dial(t, stockAddr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(inventory.tracer, tracegrpc.WithRemoteApp("stock"))))

	var logs bytes.Buffer
	logger := slog.New(slogmdc.New(slog.NewJSONHandler(&logs, nil)))
	invAddr, stopInv := serve(t, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
		logger.InfoContext(ctx, "reserving")
		st, err := stockClient.StreamingOutputCall(ctx, &testpb.StreamingOutputCallRequest{})
		if err != nil {
			return nil, err
		}
		n := 0
		for {
			if _, err := st.Recv(); err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
			n++
		}
		logger.InfoContext(ctx, "reserved", "levels", n)
		return &testpb.SimpleResponse{Payload: &testpb.Payload{Body: []byte(fmt.Sprint(n))}}, nil
	}}, tracegrpc.ServerOptions(inventory.tracer)...)
	invClient, closeInv := dial(t, invAddr, grpc.WithStatsHandler(tracegrpc.NewClientHandler(orders.tracer, tracegrpc.WithRemoteApp("inventory"))))

	httpSrv := httptest.NewServer(tracehttp.Middleware(orders.tracer)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out, err := invClient.UnaryCall(r.Context(), &testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("A-1")}})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = w.Write(out.GetPayload().GetBody())
	})))
	defer httpSrv.Close()

	ctx, root := front.Start(context.Background(), "checkout", trace.WithLoadTest())
	root.SetBaggageItem("user", "u&1=x")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, httpSrv.URL+"/checkout", nil)
	client := &http.Client{Transport: tracehttp.NewTransport(front, nil)}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	root.Finish()
	if resp.StatusCode != 200 || string(body) != "3" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	httpSrv.Close()
	client.CloseIdleConnections()
	closeInv()
	closeStock()
	stopInv()
	stopStock()
	for _, a := range []*app{orders, inventory, stock} {
		a.close(t)
	}

	tid := root.TraceID()
	if testing.Verbose() {
		for _, a := range []*app{orders, inventory, stock} {
			for _, f := range []string{"http-server-digest.log", "rpc-client-digest.log", "rpc-server-digest.log"} {
				for _, l := range a.lines(t, f, true) {
					t.Log(l)
				}
			}
		}
	}
	stockSeen.Lock()
	if stockSeen.user != "u&1=x" || !stockSeen.load || stockSeen.spanID != "0.1.1.1.1" {
		t.Errorf("stock's handler saw user %q, load test %v, span %q", stockSeen.user, stockSeen.load, stockSeen.spanID)
	}
	stockSeen.Unlock()

	// The digest lines, in shadow/ for the load-test mark.
	type want struct {
		a       *app
		logType string
		spanID  string
		keys    []string
		fields  map[string]string
	}
	for _, w := range []want{
		{orders, layout.LogTypeHTTPServer, "0.1.1", nil, nil},
		{orders, layout.LogTypeRPCClient, "0.1.1.1", wantClientKeys, map[string]string{"service": "grpc.testing.TestService",
			"method": "UnaryCall", "invoke.type": "sync", "remote.app": "inventory", "remote.ip": invAddr, "local.client.ip": "127.0.0.1", "result.code": "00"}},
		{inventory, layout.LogTypeRPCServer, "0.1.1.1", wantServerKeys, map[string]string{"remote.app": "orders", "invoke.type": "sync", "result.code": "00", "protocol": "grpc"}},
		{inventory, layout.LogTypeRPCClient, "0.1.1.1.1", wantClientKeys, map[string]string{"method": "StreamingOutputCall",
			"invoke.type": "server_stream", "remote.app": "stock", "remote.ip": stockAddr}},
		{stock, layout.LogTypeRPCServer, "0.1.1.1.1", wantServerKeys, map[string]string{"remote.app": "inventory", "invoke.type": "server_stream"}},
	} {
		recs := w.a.records(t, w.logType, true)
		if len(recs) != 1 || len(w.a.lines(t, layout.DigestFileName(w.logType), false)) != 0 {
			t.Fatalf("%s %s: %d shadow lines, want 1 (and none outside shadow/)", w.a.name, w.logType, len(recs))
		}
		r := recs[0]
		if r.TraceID != tid || r.SpanID != w.spanID || r.App != w.a.name || !r.LoadTest {
			t.Errorf("%s %s: trace %s span %s app %s load %v, want %s %s", w.a.name, w.logType, r.TraceID, r.SpanID, r.App, r.LoadTest, tid, w.spanID)
		}
		if w.keys == nil {
			continue
		}
		if keys := keys(r); !slices.Equal(keys, w.keys) {
			t.Errorf("%s %s keys\n%q\nwant\n%q", w.a.name, w.logType, keys, w.keys)
		}
		if bag, _ := r.Get("baggage"); bag != "mark=T&user=u%261%3Dx&" {
			t.Errorf("%s %s baggage %q", w.a.name, w.logType, bag)
		}
		for k, v := range w.fields {
			if got, _ := r.Get(k); got != v {
				t.Errorf("%s %s %s = %q, want %q", w.a.name, w.logType, k, got, v)
			}
		}
		for _, k := range []string{"req.size", "resp.size"} {
			if v, _ := r.Get(k); v == "" || v == "0" {
				t.Errorf("%s %s %s = %q, want the bytes on the wire", w.a.name, w.logType, k, v)
			}
		}
	}

	// The handler's log lines carry inventory's server span ids.
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		if m["traceId"] != tid || m["spanId"] != "0.1.1.1" {
			t.Errorf("log line without the server span's ids: %s", l)
		}
	}

	// One stat line per call, counted, in shadow/.
	for _, c := range []struct {
		a              *app
		file           string
		remote, method string
	}{
		{orders, "rpc-client-stat.log", "inventory", "UnaryCall"},
		{inventory, "rpc-server-stat.log", "orders", "UnaryCall"},
		{inventory, "rpc-client-stat.log", "stock", "StreamingOutputCall"},
		{stock, "rpc-server-stat.log", "inventory", "StreamingOutputCall"},
	} {
		lines := c.a.lines(t, c.file, true)
		var st struct {
			Key struct {
				App     string `json:"local.app"`
				Remote  string `json:"remote.app"`
				Service string `json:"service"`
				Method  string `json:"method"`
			} `json:"stat.key"`
			Count   int    `json:"count"`
			Success string `json:"success"`
		}
		if len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &st) != nil || st.Count != 1 || st.Success != "Y" ||
			st.Key.App != c.a.name || st.Key.Remote != c.remote || st.Key.Service != "grpc.testing.TestService" || st.Key.Method != c.method {
			t.Errorf("%s %s: %q", c.a.name, c.file, lines)
		}
	}

	// tracetail's reader draws one tree over the three applications' files.
	files := digestread.FindFiles(true, layoutDirs(orders, inventory, stock)...)
	recs, _, err := digestread.CollectTrace(files, tid, digestread.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	digestread.BuildTree(recs).Walk(func(n *digestread.Node) bool {
		got = append(got, fmt.Sprintf("%*s%s %s %s", 2*n.Depth, "", n.SpanID, n.App, n.LogType))
		return true
	})
	wantTree := []string{"0.1.1 orders http-server", "  0.1.1.1 orders rpc-client", "    0.1.1.1 inventory rpc-server",
		"      0.1.1.1.1 inventory rpc-client", "        0.1.1.1.1 stock rpc-server"}
	if !slices.Equal(got, wantTree) {
		t.Errorf("tree\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantTree, "\n"))
	}
}

func layoutDirs(apps ...*app) []string {
	var out []string
	for _, a := range apps {
		out = append(out, layout.DigestDir(a.root))
	}
	return out
}
