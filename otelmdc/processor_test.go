package otelmdc_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/otelmdc"
)

// service is one application traced with the OpenTelemetry SDK whose spans go to a digest reporter
// through the span processor, and to a recorder the test reads the SDK's own view from.
type service struct {
	tp   *sdktrace.TracerProvider
	rec  *tracetest.SpanRecorder
	root string // log root of its digest reporter
}

func newService(t *testing.T, app string, sampler sdktrace.Sampler) *service {
	t.Helper()
	root := t.TempDir()
	rep, err := digest.New(digest.Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	res := resource.NewSchemaless(attribute.String("service.name", app))
	tp := sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithSampler(sampler),
		sdktrace.WithSpanProcessor(rec), sdktrace.WithSpanProcessor(otelmdc.NewSpanProcessor(rep)))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return &service{tp: tp, rec: rec, root: root}
}

// lines returns the JSON objects of a digest or stat file of the service.
func (s *service) lines(t *testing.T, name string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(layout.DigestDir(s.root), name))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s: %v: %s", name, err, line)
		}
		out = append(out, m)
	}
	return out
}

func byID(lines []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, l := range lines {
		m[l["spanId"].(string)] = l
	}
	return m
}

// TestProcessorClientServerChain: an otelhttp client (service frontend) calls an otelhttp server
// (service orders); both SDKs write through the span processor. The http-client and http-server
// digest lines carry the OpenTelemetry ids, the parent ids, status codes, URLs and the server's
// sizes; the server's stat lines are keyed by http.route; tracetail -tree draws the trace across
// both services' logs.
func TestProcessorClientServerChain(t *testing.T) {
	front := newService(t, "frontend", sdktrace.AlwaysSample())
	orders := newService(t, "orders", sdktrace.AlwaysSample())
	prop := otelhttp.WithPropagators(propagation.TraceContext{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, "created")
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	srv := httptest.NewServer(otelhttp.NewHandler(mux, "orders", otelhttp.WithTracerProvider(orders.tp), prop))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: otelhttp.NewTransport(tr, otelhttp.WithTracerProvider(front.tp), prop)}
	// A port nothing listens on: the call gets no response.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + ln.Addr().String() + "/gone"
	_ = ln.Close()

	ctx, root := front.tp.Tracer("frontend").Start(context.Background(), "checkout")
	call := func(method, url, body string) {
		req, _ := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			return // the dead port
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	call(http.MethodPost, srv.URL+"/orders/1", "hello")
	call(http.MethodPost, srv.URL+"/orders/2", "hello")
	call(http.MethodGet, srv.URL+"/fail", "")
	call(http.MethodGet, deadURL, "")
	root.End()
	traceID := root.SpanContext().TraceID().String()
	srv.Close()
	if err := front.tp.Shutdown(context.Background()); err != nil { // closes the reporter: every line written
		t.Fatal(err)
	}
	if err := orders.tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}

	server := byID(orders.lines(t, "http-server-digest.log"))
	clientLines := byID(front.lines(t, "http-client-digest.log"))
	if len(server) != 3 || len(clientLines) != 4 {
		t.Fatalf("%d server lines, %d client lines", len(server), len(clientLines))
	}
	rootLine := byID(front.lines(t, "span-digest.log"))[root.SpanContext().SpanID().String()]
	if rootLine == nil || rootLine["operation"] != "checkout" || rootLine["traceId"] != traceID || rootLine["local.app"] != "frontend" {
		t.Fatalf("root line %v", rootLine)
	}
	for _, ss := range orders.rec.Ended() {
		sc := ss.SpanContext()
		line := server[sc.SpanID().String()]
		if line == nil {
			t.Fatalf("no server line for span %s", sc.SpanID())
		}
		parent := ss.Parent().SpanID().String()
		cl := clientLines[parent]
		if line["traceId"] != traceID || line["parent.span.id"] != parent || cl == nil || line["span.kind"] != "server" || line["local.app"] != "orders" {
			t.Fatalf("server line %v: trace %s, parent %s, client line %v", line, traceID, parent, cl)
		}
		if cl["parent.span.id"] != root.SpanContext().SpanID().String() || cl["span.kind"] != "client" || cl["local.app"] != "frontend" {
			t.Fatalf("client line %v", cl)
		}
		url := line["request.url"].(string)
		switch {
		case strings.HasSuffix(url, "/orders/1") || strings.HasSuffix(url, "/orders/2"):
			if line["result.code"] != "201" || line["method"] != "POST" || line["req.size.bytes"] != 5.0 || line["resp.size.bytes"] != 7.0 ||
				!strings.HasPrefix(url, srv.URL) || cl["result.code"] != "201" || cl["request.url"] != url {
				t.Fatalf("server line %v\nclient line %v", line, cl)
			}
		case strings.HasSuffix(url, "/fail"):
			if line["result.code"] != "500" || cl["result.code"] != "500" || line["method"] != "GET" {
				t.Fatalf("server line %v\nclient line %v", line, cl)
			}
		default:
			t.Fatalf("unexpected server line %v", line)
		}
	}
	var dead map[string]any
	for _, cl := range clientLines {
		if cl["request.url"] == deadURL {
			dead = cl
		}
	}
	if dead == nil || dead["result.code"] != layout.CodeNoResponse || !strings.Contains(dead["error"].(string), "refused") {
		t.Fatalf("no-response client line %v", dead)
	}
	stat := orders.lines(t, "http-server-stat.log")
	keys := map[string]float64{}
	for _, s := range stat {
		k := s["stat.key"].(map[string]any)
		keys[k["request.url"].(string)+" "+k["method"].(string)] += s["count"].(float64)
	}
	if keys["/orders/{id} POST"] != 2 || keys["/fail GET"] != 1 || len(keys) != 2 {
		t.Fatalf("stat keys %v", keys)
	}

	// tracetail draws the tree across the two services' digest files.
	bin := filepath.Join(t.TempDir(), "tracetail")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/tracemdc/tracemdc/cmd/tracetail").CombinedOutput(); err != nil {
		t.Fatalf("building tracetail: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-color", "never", "-tree", traceID, layout.DigestDir(front.root), layout.DigestDir(orders.root)).CombinedOutput()
	if err != nil {
		t.Fatalf("tracetail: %v\n%s", err, out)
	}
	tree := string(out)
	t.Logf("tracetail -tree:\n%s", tree)
	indent := func(id string) int {
		for _, l := range strings.Split(tree, "\n") {
			if strings.Contains(l, id) {
				return len(l) - len(strings.TrimLeft(l, " │├└─"))
			}
		}
		t.Fatalf("span %s not in the tree:\n%s", id, tree)
		return 0
	}
	rootIndent := indent(root.SpanContext().SpanID().String())
	for _, ss := range orders.rec.Ended() {
		parent, self := ss.Parent().SpanID().String(), ss.SpanContext().SpanID().String()
		if !(rootIndent < indent(parent) && indent(parent) < indent(self)) {
			t.Fatalf("server span %s not drawn under its client span %s under the root:\n%s", self, parent, tree)
		}
	}
}

// TestProcessorUnsampledCounted: with RecordUnsampled, unsampled spans reach the processor, which
// writes no digest line for them and counts them in the stat lines; the SDK's batch processor would
// not see them.
func TestProcessorUnsampledCounted(t *testing.T) {
	svc := newService(t, "batch", otelmdc.RecordUnsampled(sdktrace.TraceIDRatioBased(0)))
	for range 5 {
		_, s := svc.tp.Tracer("t").Start(context.Background(), "job")
		if s.SpanContext().IsSampled() || !s.IsRecording() {
			t.Fatal("span sampled, or not recorded")
		}
		s.End()
	}
	if err := svc.tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := svc.lines(t, "span-digest.log"); len(d) != 0 {
		t.Fatalf("digest lines for unsampled spans: %v", d)
	}
	stat := svc.lines(t, "span-stat.log")
	if len(stat) != 1 || stat[0]["count"] != 5.0 {
		t.Fatalf("stat lines %v", stat)
	}
	if d := otelmdc.RecordUnsampled(nil).Description(); !strings.Contains(d, "ParentBased") {
		t.Fatal(d)
	}
}

// TestProcessorRPCAndGeneric: an RPC client span goes to rpc-client lines with service, method and
// result code; an internal span with an Error status to the generic layout with its attributes and 99.
func TestProcessorRPCAndGeneric(t *testing.T) {
	svc := newService(t, "shop", sdktrace.AlwaysSample())
	tr := svc.tp.Tracer("t")
	_, rpc := tr.Start(context.Background(), "shop.Inventory/Reserve", oteltrace.WithSpanKind(oteltrace.SpanKindClient),
		oteltrace.WithAttributes(attribute.String("rpc.system", "grpc"), attribute.String("rpc.service", "shop.Inventory"),
			attribute.String("rpc.method", "Reserve"), attribute.Int("rpc.grpc.status_code", 4),
			attribute.String("server.address", "127.0.0.1"), attribute.Int("server.port", 50051), attribute.String("peer.service", "inventory")))
	rpc.End()
	_, job := tr.Start(context.Background(), "reindex", oteltrace.WithAttributes(attribute.Int("items", 42), attribute.Bool("full", true),
		attribute.Float64("ratio", 0.5), attribute.StringSlice("tags", []string{"a", "b"})))
	job.RecordError(errors.New("disk full"))
	job.SetStatus(codes.Error, "")
	job.End()
	if err := svc.tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := svc.lines(t, "rpc-client-digest.log")
	if len(r) != 1 || r[0]["service"] != "shop.Inventory" || r[0]["method"] != "Reserve" || r[0]["protocol"] != "grpc" ||
		r[0]["result.code"] != layout.CodeTimeout || r[0]["remote.app"] != "inventory" || r[0]["remote.ip"] != "127.0.0.1:50051" ||
		r[0]["tracerId"] != rpc.SpanContext().TraceID().String() {
		t.Fatalf("rpc line %v", r)
	}
	g := svc.lines(t, "span-digest.log")
	if len(g) != 1 || g[0]["operation"] != "reindex" || g[0]["result.code"] != layout.CodeError || g[0]["items"] != 42.0 ||
		g[0]["full"] != true || g[0]["ratio"] != "0.5" || g[0]["error"] != "disk full" {
		t.Fatalf("generic line %v", g)
	}
}
