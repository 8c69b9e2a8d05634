package digest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// TestCSVSizes: SOFATracer's Spring MVC CSV encoder writes the two sizes with a B suffix (5B,7B), its
// HttpClient CSV encoder without; JSON lines write both as numbers. The http-server CSV line had no
// suffix before.
func TestCSVSizes(t *testing.T) {
	for _, c := range []struct {
		format  Format
		logType string
		kind    trace.Kind
		want    string // the sizes and what follows them
	}{
		{CSV, LogTypeHTTPServer, trace.KindServer, ",GET,5B,7B,,,\n"},
		{CSV, LogTypeHTTPClient, trace.KindClient, ",GET,5,7,inventory,,\n"},
		{JSON, LogTypeHTTPServer, trace.KindServer, `"req.size.bytes":5,"resp.size.bytes":7,"error":""`},
		{JSON, LogTypeHTTPClient, trace.KindClient, `"req.size.bytes":5,"resp.size.bytes":7,"remote.app":"inventory"`},
	} {
		t.Run(c.format.String()+"/"+c.logType, func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: c.format, Clock: fixedClock(), Location: time.UTC})
			tr := trace.New("sizes", trace.WithReporter(r))
			_, s := tr.Start(context.Background(), "GET /a", trace.WithLogType(c.logType), trace.WithKind(c.kind))
			s.SetTag("request.url", "http://h/a")
			s.SetTag("method", "GET")
			s.SetTagInt("req.size.bytes", 5)
			s.SetTagInt("resp.size.bytes", 7)
			s.SetTag("remote.app", "inventory")
			s.SetResultCode("200")
			s.Finish()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, filepath.Join(dir, c.logType+"-digest.log"))
			if len(lines) != 1 || !strings.Contains(lines[0]+"\n", c.want) {
				t.Fatalf("lines %q, want one holding %q", lines, c.want)
			}
		})
	}
}

// TestMaxValueBytesKeepsIDs: a value limit never cuts the trace id, the span id or the span kind
// (MaxValueBytes: 3 wrote "traceId":"0ad...(truncated 27 bytes)" before); other values are still cut.
func TestMaxValueBytesKeepsIDs(t *testing.T) {
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, MaxValueBytes: 3, Location: time.UTC})
			tr := trace.New("app", trace.WithReporter(r), trace.WithIDGenerator(sofaIDs{}))
			ctx, root := tr.Start(context.Background(), "root")
			_, c1 := tr.Start(ctx, "c1")
			ctx2, c2 := tr.Start(ctx, "c2")
			_, c21 := tr.Start(ctx2, "c21", trace.WithLogType(LogTypeHTTPServer), trace.WithKind(trace.KindServer))
			c21.SetTag("request.url", "http://long/url")
			c21.SetTag("method", "GET")
			for _, s := range []*trace.Span{c21, c2, c1, root} {
				s.Finish()
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			var recs []*digestread.Record
			for _, f := range []string{"span-digest.log", "http-server-digest.log"} {
				for _, l := range readLines(t, filepath.Join(dir, f)) {
					rec, err := digestread.ParseLine([]byte(l), time.UTC)
					if err != nil {
						t.Fatalf("%v: %s", err, l)
					}
					recs = append(recs, rec)
				}
			}
			want := map[string]bool{"0": true, "0.1": true, "0.2": true, "0.2.1": true}
			for _, rec := range recs {
				if rec.TraceID != "0ad1348f1403169275002100356696" || !want[rec.SpanID] || len(rec.Kind) < 6 {
					t.Fatalf("ids cut: %s", rec.Raw)
				}
				delete(want, rec.SpanID)
				if rec.SpanID == "0.2.1" && rec.URL != "htt...(truncated 12 bytes)" {
					t.Fatalf("request.url %q not cut at 3 bytes", rec.URL)
				}
			}
			if len(want) != 0 {
				t.Fatalf("spans not read back: %v", want)
			}
		})
	}
}

// sofaIDs makes SOFA ids with a fixed trace id.
type sofaIDs struct{}

func (sofaIDs) TraceID() string    { return "0ad1348f1403169275002100356696" }
func (sofaIDs) RootSpanID() string { return "0" }
func (sofaIDs) ChildSpanID(parent string, n uint64) string {
	return parent + "." + strconv.FormatUint(n, 10)
}

// serveOnce starts a real server on 127.0.0.1 with h behind tracehttp.Middleware, calls path through
// a traced client transport, and closes the server.
func serveOnce(t *testing.T, tr *trace.Tracer, h http.Handler, path string, srvOpts, cliOpts []tracehttp.Option) {
	t.Helper()
	srv := httptest.NewServer(tracehttp.Middleware(tr, srvOpts...)(h))
	defer srv.Close()
	client := &http.Client{Transport: tracehttp.NewTransport(tr, http.DefaultTransport, cliOpts...)}
	defer client.CloseIdleConnections()
	resp, err := client.Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// TestLayoutFollowsSpan: tracehttp.WithLogType("spring-mvc") alone (no encoder registered) writes
// SOFA's Spring MVC layout, B sizes in CSV, and counts a 200 as a success; a client log type of
// one's own gets the HTTP client layout. Before, both got the generic layout and "success":"N".
func TestLayoutFollowsSpan(t *testing.T) {
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, Location: time.UTC})
			tr := trace.New("mvc", trace.WithReporter(r))
			h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "hello") })
			serveOnce(t, tr, h, "/orders/7", []tracehttp.Option{tracehttp.WithLogType(layout.LogTypeSpringMVC)},
				[]tracehttp.Option{tracehttp.WithLogType("rest-client"), tracehttp.WithRemoteApp("mvc")})
			// A local span of the same log type keeps the generic layout.
			_, s := tr.Start(context.Background(), "warm cache", trace.WithLogType(layout.LogTypeSpringMVC))
			s.Finish()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			server := readLines(t, filepath.Join(dir, layout.DigestFileName(layout.LogTypeSpringMVC)))
			client := readLines(t, filepath.Join(dir, layout.DigestFileName("rest-client")))
			if len(server) != 2 || len(client) != 1 {
				t.Fatalf("server lines %q, client lines %q", server, client)
			}
			check := func(line string, want []string, kind string) {
				t.Helper()
				rec, err := digestread.ParseLine([]byte(line), time.UTC)
				if err != nil {
					t.Fatal(err)
				}
				if got := fieldKeys(rec.Fields); !slices.Equal(got, want) || rec.Kind != kind || rec.ResultCode != "200" || !rec.Success() {
					t.Fatalf("line %s\nkeys %q, want %q", line, got, want)
				}
			}
			check(server[0], httpServerOrder, layout.KindServer)
			check(client[0], slices.Concat(layout.Common, layout.HTTPClientFields, layout.Baggage), layout.KindClient)
			if format == CSV && !strings.Contains(server[0], ",GET,0B,5B,,") {
				t.Fatalf("server CSV line without B sizes: %s", server[0])
			}
			if rec, _ := digestread.ParseLine([]byte(server[1]), time.UTC); rec == nil || rec.URL != "warm cache" {
				t.Fatalf("local span line %s", server[1])
			}
			for _, f := range []string{layout.StatFileName(layout.LogTypeSpringMVC), layout.StatFileName("rest-client")} {
				stat := readLines(t, filepath.Join(dir, f))
				n := 0
				for _, l := range stat {
					if strings.Contains(l, "/orders/7") {
						n++
						if !strings.Contains(l, `"success":"Y"`) && !strings.HasSuffix(l, ",Y,F") {
							t.Fatalf("%s: %s", f, l)
						}
					}
				}
				if n != 1 {
					t.Fatalf("%s: %q", f, stat)
				}
			}
		})
	}
}

// TestHTTPUserTags: tags a handler sets on its HTTP span are not dropped: JSON lines carry them after
// SOFA's fields (typed: numbers and booleans as such), in the order they were first set; CSV lines
// keep SOFA's columns exactly. Before, the HTTP layouts dropped them silently.
func TestHTTPUserTags(t *testing.T) {
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, Location: time.UTC})
			tr := trace.New("tags", trace.WithReporter(r))
			h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				span := trace.SpanFromContext(req.Context())
				span.SetTag("user.tier", "gold, \"vip\"")
				span.SetTagInt("items", 3)
				span.SetTagBool("cache.hit", true)
				span.SetTag("traceId", "forged") // a common field's name: left out
				w.WriteHeader(http.StatusCreated)
			})
			serveOnce(t, tr, h, "/cart", nil, nil)
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, filepath.Join(dir, layout.DigestFileName(layout.LogTypeHTTPServer)))
			if len(lines) != 1 {
				t.Fatalf("lines %q", lines)
			}
			rec, err := digestread.ParseLine([]byte(lines[0]), time.UTC)
			if err != nil {
				t.Fatal(err)
			}
			want := httpServerOrder
			if format == JSON {
				want = slices.Concat(httpServerOrder, []string{"user.tier", "items", "cache.hit"})
				if !strings.HasSuffix(lines[0], `,"user.tier":"gold, \"vip\"","items":3,"cache.hit":true}`) {
					t.Fatalf("line %s", lines[0])
				}
			}
			if got := fieldKeys(rec.Fields); !slices.Equal(got, want) || rec.TraceID == "forged" {
				t.Fatalf("keys %q, want %q\n%s", got, want, lines[0])
			}
		})
	}
}

// TestParentSpanIDW3C: a JSON line of a span whose id is not rpcId-style (W3C) ends with
// parent.span.id, after SOFA's fields and never cut, when the span has a parent; rpcId-style spans
// (whose parent is in the id) and CSV lines (SOFA's columns) have none. digestread.BuildTree puts
// the W3C child under its parent. Before, no line named its parent.
func TestParentSpanIDW3C(t *testing.T) {
	for _, c := range []struct {
		format Format
		ids    trace.IDGenerator
		parent bool
	}{
		{JSON, trace.W3CIDGenerator(), true},
		{CSV, trace.W3CIDGenerator(), false},
		{JSON, sofaIDs{}, false},
	} {
		t.Run(fmt.Sprintf("%v/%T", c.format, c.ids), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: c.format, MaxValueBytes: 3, Location: time.UTC})
			tr := trace.New("w3c", trace.WithReporter(r), trace.WithIDGenerator(c.ids))
			ctx, root := tr.Start(context.Background(), "root")
			_, child := tr.Start(ctx, "child")
			child.SetTag("k", "v")
			child.Finish()
			root.Finish()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, filepath.Join(dir, "span-digest.log"))
			if len(lines) != 2 {
				t.Fatalf("lines %q", lines)
			}
			var recs []*digestread.Record
			for _, l := range lines {
				rec, err := digestread.ParseLine([]byte(l), time.UTC)
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, rec)
			}
			childLine, rootLine := lines[0], lines[1]
			wantEnd := `"biz.baggage":""}`
			if c.parent {
				wantEnd = `"biz.baggage":"","parent.span.id":"` + root.SpanID() + `"}`
			}
			if c.format == JSON && (!strings.HasSuffix(childLine, wantEnd) || strings.Contains(rootLine, layout.FieldParentSpanID)) {
				t.Fatalf("child line %s\nroot line %s\nwant the child's to end with %s", childLine, rootLine, wantEnd)
			}
			if c.format == CSV && (!strings.HasSuffix(childLine, ",v,,") ||
				strings.Contains(childLine, root.SpanID())) {
				t.Fatalf("CSV line %s names the parent %s, or has a column after biz.baggage", childLine, root.SpanID())
			}
			if !c.parent {
				return
			}
			tree := digestread.BuildTree(recs)
			if len(tree.Roots) != 1 || tree.Roots[0].SpanID != root.SpanID() ||
				len(tree.Roots[0].Children) != 1 || tree.Roots[0].Children[0].SpanID != child.SpanID() {
				t.Fatalf("tree roots %d: %s", len(tree.Roots), lines)
			}
		})
	}
}

// TestStatKeysByRoute: HTTP stat lines key on the route template, not the raw URL: Go's ServeMux
// pattern read after the handler ran, tracehttp.WithRoute for another router, and the span's
// SetRoute from inside a handler (which wins). The digest lines keep the real request.url and carry
// the route as http.route; a span with the default name takes the route's name. Before, every id was
// a stat key of its own (50 + 3 + 2 keys here).
func TestStatKeysByRoute(t *testing.T) {
	r, dir := newReporter(t, Config{Location: time.UTC})
	tr := trace.New("routes", trace.WithReporter(r))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("/items/", func(w http.ResponseWriter, req *http.Request) {
		span := trace.SpanFromContext(req.Context())
		span.SetRoute("/items/:sku") // the handler knows better than the mux's "/items/"
		span.SetOperation("list items")
	})
	// Another router: the route comes from WithRoute's function.
	other := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasPrefix(req.URL.Path, "/users/") {
			return
		}
		mux.ServeHTTP(w, req)
	})
	byPrefix := tracehttp.WithRoute(func(req *http.Request) string {
		if strings.HasPrefix(req.URL.Path, "/users/") {
			return "/users/:name"
		}
		return ""
	})
	srv := httptest.NewServer(tracehttp.Middleware(tr, byPrefix)(other))
	defer srv.Close()
	get := func(path string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	for i := 0; i < 50; i++ {
		get("/orders/" + strconv.Itoa(i))
	}
	for _, p := range []string{"/items/a", "/items/b", "/items/c", "/users/ann", "/users/bob"} {
		get(p)
	}
	http.DefaultClient.CloseIdleConnections()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int64{}
	for _, l := range readLines(t, filepath.Join(dir, layout.StatFileName(layout.LogTypeHTTPServer))) {
		var sl struct {
			Key   map[string]string `json:"stat.key"`
			Count int64             `json:"count"`
		}
		if err := json.Unmarshal([]byte(l), &sl); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		counts[sl.Key[layout.FieldMethod]+" "+sl.Key[layout.FieldRequestURL]] += sl.Count
	}
	want := map[string]int64{"GET /orders/{id}": 50, "GET /items/:sku": 3, "GET /users/:name": 2}
	if !maps.Equal(counts, want) {
		t.Fatalf("stat keys %v, want %v", counts, want)
	}
	ops := map[string]string{}
	for _, l := range readLines(t, filepath.Join(dir, layout.DigestFileName(layout.LogTypeHTTPServer))) {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatal(err)
		}
		url, _ := line[layout.FieldRequestURL].(string)
		route, _ := line[layout.FieldRoute].(string)
		ops[strings.TrimPrefix(url, srv.URL)] = route
	}
	if len(ops) != 55 || ops["/orders/7"] != "/orders/{id}" || ops["/items/b"] != "/items/:sku" || ops["/users/bob"] != "/users/:name" {
		t.Fatalf("request.url -> http.route of the digest lines: %v", ops)
	}
}
