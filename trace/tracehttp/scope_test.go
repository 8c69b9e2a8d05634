package tracehttp_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// TestRequestScopeDefault: mdc.Set in a handler behind Middleware writes into a request scope, so a
// later line of the request shows the value (the Java MDC.put habit). Before the middleware installed a
// scope, Set returned false and the line had no user field.
func TestRequestScopeDefault(t *testing.T) {
	tr, _ := newTracer("shop")
	var buf bytes.Buffer
	logger := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, nil)))
	var set bool
	auth := func(r *http.Request) { set = mdc.Set(r.Context(), "user", "alice") }
	srv := httptest.NewServer(tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth(r) // deep in the call, with no way to hand a new context back
		logger.InfoContext(r.Context(), "paid")
	})))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/pay")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !set {
		t.Fatal("mdc.Set in the handler returned false: no request scope")
	}
	if line := buf.String(); !strings.Contains(line, `"user":"alice"`) || !strings.Contains(line, `"traceId":"`) {
		t.Fatalf("log line %s: want user=alice and the trace id", line)
	}
}

// TestRequestScopeOff: WithRequestScope(false) installs none, and each request's scope is its own.
func TestRequestScopeOff(t *testing.T) {
	tr, _ := newTracer("shop")
	var set bool
	h := tracehttp.Middleware(tr, tracehttp.WithRequestScope(false))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set = mdc.Set(r.Context(), "user", "alice")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if set {
		t.Fatal("WithRequestScope(false): Set found a scope")
	}
}

// TestRequestScopePerRequest: a value set in one request is not seen by the next one.
func TestRequestScopePerRequest(t *testing.T) {
	tr, _ := newTracer("shop")
	var seen []string
	h := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, _ := mdc.Get(r.Context(), "user")
		seen = append(seen, v)
		mdc.Set(r.Context(), "user", r.URL.Path)
	}))
	for _, p := range []string{"/a", "/b"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
	}
	if seen[0] != "" || seen[1] != "" {
		t.Fatalf("values seen at the start of each request: %q", seen)
	}
}

// TestRequestScopeKeepsOuter: a scope installed by an outer middleware (with a value already in it)
// is kept, not shadowed by a new empty one.
func TestRequestScopeKeepsOuter(t *testing.T) {
	tr, _ := newTracer("shop")
	var got string
	inner := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = mdc.Get(r.Context(), "tenant")
	}))
	outer := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := mdc.WithScope(r.Context())
		mdc.Set(ctx, "tenant", "t1")
		inner.ServeHTTP(w, r.WithContext(ctx))
	})
	outer.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if got != "t1" {
		t.Fatalf("tenant = %q: the outer scope was shadowed", got)
	}
}

// TestDetachedSet pins what Middleware documents: a goroutine started with mdc.Detach shares the
// request's scope, so its Set shows in the request's lines and in a new root it starts; with its own
// scope (mdc.WithScope(mdc.Detach(ctx))) its values stay its own.
func TestDetachedSet(t *testing.T) {
	tr, _ := newTracer("shop")
	var shared, own, rootShared, rootOwn string
	h := tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			ctx := mdc.Detach(r.Context())
			mdc.Set(ctx, "job", "shared")
			ctx, span := tr.Start(ctx, "job", trace.WithNewRoot())
			rootShared, _ = mdc.Get(ctx, "job")
			span.Finish()
		}()
		go func() {
			defer wg.Done()
			ctx := mdc.WithScope(mdc.Detach(r.Context()))
			mdc.Set(ctx, "own", "mine")
			ctx, span := tr.Start(ctx, "job", trace.WithNewRoot())
			rootOwn, _ = mdc.Get(ctx, "own")
			span.Finish()
		}()
		wg.Wait()
		shared, _ = mdc.Get(r.Context(), "job")
		own, _ = mdc.Get(r.Context(), "own")
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	if shared != "shared" || rootShared != "shared" {
		t.Fatalf("detached Set: request sees %q, the goroutine's new root %q; want both \"shared\"", shared, rootShared)
	}
	if own != "" || rootOwn != "mine" {
		t.Fatalf("own scope: request sees %q (want none), the goroutine %q", own, rootOwn)
	}
}

// TestTraceIDHeader: WithTraceIDHeader echoes the trace id; with W3C ids traceresponse carries the
// server span's id and flags (sampled from the span, random-trace-id from the caller's traceparent).
func TestTraceIDHeader(t *testing.T) {
	const w3cTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	for _, c := range []struct {
		name, header    string
		opts            []tracehttp.Option
		in              map[string]string
		wantTrace       string // "" for: the span's
		wantFlags       string // "" for: no traceresponse
		wantHeaderNamed string
	}{
		{name: "sofa", opts: []tracehttp.Option{tracehttp.WithTraceIDHeader("")},
			in: map[string]string{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0.1"}, wantTrace: sofaTrace, wantHeaderNamed: "X-Trace-Id"},
		{name: "custom-name", opts: []tracehttp.Option{tracehttp.WithTraceIDHeader("x-request-trace")},
			wantHeaderNamed: "X-Request-Trace"},
		{name: "w3c-random", opts: []tracehttp.Option{tracehttp.WithTraceIDHeader("")},
			in:        map[string]string{"traceparent": "00-" + w3cTrace + "-00f067aa0ba902b7-03"},
			wantTrace: w3cTrace, wantFlags: "03", wantHeaderNamed: "X-Trace-Id"},
		{name: "w3c-unsampled", opts: []tracehttp.Option{tracehttp.WithTraceIDHeader("")},
			in:        map[string]string{"traceparent": "00-" + w3cTrace + "-00f067aa0ba902b7-00"},
			wantTrace: w3cTrace, wantFlags: "00", wantHeaderNamed: "X-Trace-Id"},
		{name: "off", in: map[string]string{"traceparent": "00-" + w3cTrace + "-00f067aa0ba902b7-01"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, rec := newTracer("shop")
			srv := httptest.NewServer(tracehttp.Middleware(tr, c.opts...)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.WriteString(w, "ok")
			})))
			defer srv.Close()
			req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL, nil)
			for k, v := range c.in {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			s := rec.waitSpans(1)[0]
			if c.wantHeaderNamed == "" {
				if v := resp.Header.Get("X-Trace-Id") + resp.Header.Get("Traceresponse"); v != "" {
					t.Fatalf("headers written without the option: %q", v)
				}
				return
			}
			if got := resp.Header.Get(c.wantHeaderNamed); got != s.TraceID() || c.wantTrace != "" && got != c.wantTrace {
				t.Fatalf("%s = %q, span's trace id %q", c.wantHeaderNamed, got, s.TraceID())
			}
			got := resp.Header.Get("Traceresponse")
			if c.wantFlags == "" {
				if got != "" {
					t.Fatalf("traceresponse %q for non-W3C ids", got)
				}
				return
			}
			if want := "00-" + c.wantTrace + "-" + s.SpanID() + "-" + c.wantFlags; got != want || len(s.SpanID()) != 16 || s.SpanID() == "00f067aa0ba902b7" {
				t.Fatalf("traceresponse %q, want %q (the server span's own id)", got, want)
			}
		})
	}
}
