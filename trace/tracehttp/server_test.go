package tracehttp_test

import (
	"bufio"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

const sofaTrace = "0ad1348f1403169275002100356696"

// TestServerFixedVector: inbound B3 span 0.1 with the load-test mark gives server span 0.1.1.
func TestServerFixedVector(t *testing.T) {
	tr, rec := newTracer("server")
	var seenTrace, seenSpan, seenLoad string
	h := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seenTrace, _ = mdc.Get(r.Context(), mdc.KeyTraceID)
		seenSpan, _ = mdc.Get(r.Context(), mdc.KeySpanID)
		seenLoad, _ = mdc.Get(r.Context(), mdc.KeyLoadTest)
		_, _ = io.WriteString(w, "hello")
	}))
	req := httptest.NewRequest("GET", "http://shop.example/pay/42?card=secret", nil)
	req.Header.Set("X-B3-TraceId", sofaTrace)
	req.Header.Set("X-B3-SpanId", "0.1")
	req.Header.Set("baggage-mark", "T")
	h.ServeHTTP(httptest.NewRecorder(), req)

	s := rec.only(t)
	if s.TraceID() != sofaTrace || s.SpanID() != "0.1.1" || s.ParentID() != "0.1" || !s.IsLoadTest() || !s.Sampled() {
		t.Fatalf("span %s %s parent %s load %v sampled %v", s.TraceID(), s.SpanID(), s.ParentID(), s.IsLoadTest(), s.Sampled())
	}
	if seenTrace != sofaTrace || seenSpan != "0.1.1" || seenLoad != "T" {
		t.Fatalf("MDC in handler: %q %q %q", seenTrace, seenSpan, seenLoad)
	}
	if s.Kind() != trace.KindServer || s.LogType() != tracehttp.LogTypeServer || s.Operation() != "GET /pay/42" {
		t.Fatalf("kind %v log type %q op %q", s.Kind(), s.LogType(), s.Operation())
	}
	for k, want := range map[string]string{
		"request.url": "http://shop.example/pay/42", "method": "GET", "req.size.bytes": "0", "resp.size.bytes": "5",
	} {
		if got := tag(t, s, k); got != want {
			t.Errorf("tag %s = %q, want %q", k, got, want)
		}
	}
	if s.ResultCode() != "200" || hasTag(s, "error") {
		t.Fatalf("result %q", s.ResultCode())
	}
	var order []string
	for tg := range s.Tags {
		order = append(order, tg.Key)
	}
	if strings.Join(order, ",") != "request.url,method,req.size.bytes,resp.size.bytes" {
		t.Fatalf("tag order %v", order)
	}
}

func TestServerKeepMode(t *testing.T) {
	tr, rec := newTracer("server")
	h := tracehttp.Middleware(tr, tracehttp.WithServerSpanMode(trace.ServerSpanKeep))(http.NotFoundHandler())
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("sftc_head", "tcid="+sofaTrace+"&spid=0.1&pspid=0&sample=true&")
	h.ServeHTTP(httptest.NewRecorder(), req)
	s := rec.only(t)
	if s.SpanID() != "0.1" || s.ParentID() != "0" || s.ResultCode() != "404" {
		t.Fatalf("span %s parent %s code %s", s.SpanID(), s.ParentID(), s.ResultCode())
	}
}

// TestServerModeFromTracer: the middleware follows the tracer's server span mode unless its own option
// says otherwise; it never overrides the tracer silently.
func TestServerModeFromTracer(t *testing.T) {
	cases := []struct {
		name       string
		tracerOpts []trace.Option
		mwOpts     []tracehttp.Option
		span       string
		parent     string
	}{
		{"tracer default (child), no middleware option", nil, nil, "0.1.1", "0.1"},
		{"tracer keep, no middleware option", []trace.Option{trace.WithDefaultServerSpanMode(trace.ServerSpanKeep)}, nil, "0.1", "0"},
		{"tracer keep, middleware child", []trace.Option{trace.WithDefaultServerSpanMode(trace.ServerSpanKeep)},
			[]tracehttp.Option{tracehttp.WithServerSpanMode(trace.ServerSpanChild)}, "0.1.1", "0.1"},
		{"tracer child, middleware keep", []trace.Option{trace.WithDefaultServerSpanMode(trace.ServerSpanChild)},
			[]tracehttp.Option{tracehttp.WithServerSpanMode(trace.ServerSpanKeep)}, "0.1", "0"},
	}
	for _, c := range cases {
		tr, rec := newTracer("server", c.tracerOpts...)
		srv := httptest.NewServer(tracehttp.Middleware(tr, c.mwOpts...)(http.NotFoundHandler()))
		req, _ := http.NewRequest("GET", srv.URL, nil)
		req.Header.Set("X-B3-TraceId", sofaTrace)
		req.Header.Set("X-B3-SpanId", "0.1")
		req.Header.Set("X-B3-ParentSpanId", "0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		srv.Close()
		if s := rec.only(t); s.SpanID() != c.span || s.ParentID() != c.parent {
			t.Errorf("%s: server span %s parent %s, want %s parent %s", c.name, s.SpanID(), s.ParentID(), c.span, c.parent)
		}
	}
}

func TestServerTags(t *testing.T) {
	tr, rec := newTracer("server")
	h := tracehttp.Middleware(tr, tracehttp.WithQuery(true),
		tracehttp.WithSpanName(func(r *http.Request) string { return "pay" }))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write(b)
		_, _ = io.Copy(w, strings.NewReader("+more")) // the io.ReaderFrom path
	}))
	req := httptest.NewRequest("POST", "https://shop.example/pay?id=7&x=%26", strings.NewReader("abcdef"))
	h.ServeHTTP(httptest.NewRecorder(), req)
	s := rec.only(t)
	if got := tag(t, s, "request.url"); got != "https://shop.example/pay?id=7&x=%26" {
		t.Fatalf("request.url %q", got)
	}
	if tag(t, s, "req.size.bytes") != "6" || tag(t, s, "resp.size.bytes") != "11" || s.ResultCode() != "201" || s.Operation() != "pay" {
		t.Fatalf("sizes %s %s code %s op %s", tag(t, s, "req.size.bytes"), tag(t, s, "resp.size.bytes"), s.ResultCode(), s.Operation())
	}
	if s.TraceID() == "" || s.SpanID() != "0" || s.ParentID() != "" {
		t.Fatalf("no inbound context must make a root: %s %s", s.TraceID(), s.SpanID())
	}
}

func TestServerChunkedRequestSize(t *testing.T) {
	tr, rec := newTracer("server")
	h := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	req := httptest.NewRequest("PUT", "/upload", io.MultiReader(strings.NewReader("12345"), strings.NewReader("678")))
	req.ContentLength = -1
	h.ServeHTTP(httptest.NewRecorder(), req)
	if got := tag(t, rec.only(t), "req.size.bytes"); got != "8" {
		t.Fatalf("req.size.bytes %q", got)
	}
}

func TestServerPanic(t *testing.T) {
	tr, rec := newTracer("server")
	boom := errors.New("boom")
	h := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "partial")
		panic(boom)
	}))
	func() {
		defer func() {
			if p := recover(); p != boom {
				t.Fatalf("recovered %v, want the handler's panic to go on", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
	s := rec.only(t)
	if s.ResultCode() != "500" || tag(t, s, "error") != "panic: boom" || !errors.Is(s.Err(), boom) || tag(t, s, "resp.size.bytes") != "7" {
		t.Fatalf("code %q error %q err %v", s.ResultCode(), tag(t, s, "error"), s.Err())
	}
}

func TestServerExtractErrorStartsRoot(t *testing.T) {
	tr, rec := newTracer("server")
	h := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-B3-TraceId", "bad\"id")
	req.Header.Set("X-B3-SpanId", "0.1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	s := rec.only(t)
	if s.TraceID() == "bad\"id" || s.SpanID() != "0" || s.ParentID() != "" {
		t.Fatalf("span %s %s parent %s", s.TraceID(), s.SpanID(), s.ParentID())
	}
	errs := rec.Errors()
	if len(errs) != 1 || !errors.Is(errs[0], propagation.ErrInvalidTraceID) || tr.Stats().Errors != 1 {
		t.Fatalf("reported %v, stats %+v", errs, tr.Stats())
	}
}

func TestServerFilter(t *testing.T) {
	tr, rec := newTracer("server")
	called := 0
	h := tracehttp.Middleware(tr, tracehttp.WithSkipPaths("/healthz"))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called++
		if _, ok := mdc.Get(r.Context(), mdc.KeyTraceID); ok == (r.URL.Path == "/healthz") {
			t.Errorf("path %s: MDC trace id present=%v", r.URL.Path, ok)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/work", nil))
	if called != 2 || len(rec.Spans()) != 1 || rec.Spans()[0].Operation() != "GET /work" {
		t.Fatalf("called %d spans %d", called, len(rec.Spans()))
	}
}

// TestServerFlushHijackController runs a real server: flushing through http.Flusher and
// http.ResponseController (which needs Unwrap for deadlines), and hijacking.
func TestServerFlushHijackController(t *testing.T) {
	tr, rec := newTracer("server")
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the wrapper: %v", err)
		}
		_, _ = io.WriteString(w, "one\n")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "two\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("ResponseController.Flush: %v", err)
		}
	})
	mux.HandleFunc("/hijack", func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		_ = buf.Flush()
	})
	srv := httptest.NewServer(tracehttp.Middleware(tr)(mux))
	defer srv.Close()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport}

	resp, err := client.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "one\ntwo\n" || len(resp.TransferEncoding) == 0 {
		t.Fatalf("body %q, transfer encoding %v (flush should make it chunked)", body, resp.TransferEncoding)
	}

	req, _ := http.NewRequest("GET", srv.URL+"/hijack", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "echo")
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d", resp.StatusCode)
	}
	spans := rec.waitSpans(2) // the hijacking handler may still be returning
	srv.Close()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	for _, s := range spans {
		switch s.Operation() {
		case "GET /stream":
			if s.ResultCode() != "200" || tag(t, s, "resp.size.bytes") != "8" {
				t.Errorf("stream: code %s size %s", s.ResultCode(), tag(t, s, "resp.size.bytes"))
			}
		case "GET /hijack":
			if s.ResultCode() != "101" || tag(t, s, "hijacked") != "true" {
				t.Errorf("hijack: code %s", s.ResultCode())
			}
		default:
			t.Errorf("span %q", s.Operation())
		}
	}
}

// A writer without Flush or Hijack: the wrapper must not pretend, and must not panic.
type plainWriter struct{ h http.Header }

func (w *plainWriter) Header() http.Header         { return w.h }
func (w *plainWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *plainWriter) WriteHeader(int)             {}

func TestServerWriterWithoutExtras(t *testing.T) {
	tr, _ := newTracer("server")
	var hijackErr error
	h := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.(http.Flusher).Flush()
		_, _, hijackErr = w.(http.Hijacker).Hijack()
		_, _ = w.(io.ReaderFrom).ReadFrom(strings.NewReader("x"))
		_ = bufio.NewWriter(w).Flush()
	}))
	h.ServeHTTP(&plainWriter{h: http.Header{}}, httptest.NewRequest("GET", "/", nil))
	if !errors.Is(hijackErr, http.ErrNotSupported) {
		t.Fatalf("Hijack error %v", hijackErr)
	}
}

// TestLogTypeOption: WithLogType renames the log type of server and client spans (their digest
// files); without it they are http-server and http-client.
func TestLogTypeOption(t *testing.T) {
	tr, rec := newTracer("lt")
	for _, lt := range [][2]string{{"", ""}, {"spring-mvc", "httpclient"}} {
		srv := tracehttp.Middleware(tr, tracehttp.WithLogType(lt[0]))(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
		srv.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		rt := tracehttp.NewTransport(tr, &stub{status: 204}, tracehttp.WithLogType(lt[1]))
		resp, err := rt.RoundTrip(httptest.NewRequest("GET", "http://svc/", nil))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}
	var got []string
	for _, s := range rec.waitSpans(4) {
		got = append(got, s.LogType())
	}
	if want := []string{tracehttp.LogTypeServer, tracehttp.LogTypeClient, "spring-mvc", "httpclient"}; !slices.Equal(got, want) {
		t.Fatalf("log types %q, want %q", got, want)
	}
}
