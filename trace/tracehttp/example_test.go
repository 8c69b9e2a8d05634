package tracehttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// printSpans is a Reporter printing each finished span.
var printSpans = trace.ReporterFunc(func(s *trace.FinishedSpan) {
	fmt.Printf("finished %s span %s (parent %q) result %q\n", s.Kind(), s.SpanID(), s.ParentID(), s.ResultCode())
})

// An inbound request from a SOFATracer caller whose span is 0.1: the handler runs under server span
// 0.1.1, and every log line written with its ctx carries the ids.
func ExampleMiddleware() {
	tracer := trace.New("shop", trace.WithReporter(printSpans))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		traceID, _ := mdc.Get(r.Context(), mdc.KeyTraceID)
		spanID, _ := mdc.Get(r.Context(), mdc.KeySpanID)
		fmt.Println("handler's MDC:", traceID, spanID)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := tracehttp.Middleware(tracer, tracehttp.WithSkipPaths("/healthz"))(handler)

	req := httptest.NewRequest("POST", "http://shop.example/pay", nil)
	req.Header.Set("X-B3-TraceId", "0ad1348f1403169275002100356696")
	req.Header.Set("X-B3-SpanId", "0.1")
	srv.ServeHTTP(httptest.NewRecorder(), req)
	// Output:
	// handler's MDC: 0ad1348f1403169275002100356696 0.1.1
	// finished server span 0.1.1 (parent "0.1") result "204"
}

// roundTripperFunc stands for the network in the example.
type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// An outbound call under a local span: the request carries the client span's context in SOFATracer's
// B3 headers, and the client span ends when the response body is read to its end or closed.
func ExampleNewTransport() {
	tracer := trace.New("shop", trace.WithReporter(printSpans))
	network := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		fmt.Println("sent span id:", r.Header.Get("X-B3-SpanId"), "parent:", r.Header.Get("X-B3-ParentSpanId"))
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
	})
	client := &http.Client{Transport: tracehttp.NewTransport(tracer, network)}

	ctx, parent := tracer.Start(context.Background(), "checkout")
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://inventory.local/items", nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	parent.Finish()
	// Output:
	// sent span id: 0.1 parent: 0
	// finished client span 0.1 (parent "0") result "200"
	// finished internal span 0 (parent "") result ""
}

// A handler sets a value once, after authentication, with mdc.Set: the request scope the middleware
// installs carries it to every later log line of the request, as MDC.put does in Java.
func ExampleWithRequestScope() {
	tracer := trace.New("shop", trace.WithReporter(trace.ReporterFunc(func(*trace.FinishedSpan) {})))
	authenticate := func(r *http.Request) { mdc.Set(r.Context(), "user", "alice") }
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authenticate(r)
		user, _ := mdc.Get(r.Context(), "user")
		fmt.Println("a later line of the request sees user =", user)
	})
	tracehttp.Middleware(tracer)(handler).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))

	// Without the scope, Set has nowhere to write.
	off := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("Set without a scope:", mdc.Set(r.Context(), "user", "alice"))
	})
	tracehttp.Middleware(tracer, tracehttp.WithRequestScope(false))(off).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	// Output:
	// a later line of the request sees user = alice
	// Set without a scope: false
}

// The response names the trace, so a caller can quote it; a W3C caller also gets traceresponse.
func ExampleWithTraceIDHeader() {
	tracer := trace.New("shop", trace.WithReporter(trace.ReporterFunc(func(*trace.FinishedSpan) {})))
	srv := tracehttp.Middleware(tracer, tracehttp.WithTraceIDHeader(""))(http.NotFoundHandler())

	req := httptest.NewRequest("GET", "http://shop.example/", nil)
	req.Header.Set("X-B3-TraceId", "0ad1348f1403169275002100356696")
	req.Header.Set("X-B3-SpanId", "0.1")
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	fmt.Println("X-Trace-Id:", w.Header().Get("X-Trace-Id"))

	req = httptest.NewRequest("GET", "http://shop.example/", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	w = httptest.NewRecorder()
	srv.ServeHTTP(w, req)
	tr := w.Result().Header.Get("Traceresponse")
	fmt.Println("traceresponse:", tr[:36], "<server span id>", tr[52:])
	// Output:
	// X-Trace-Id: 0ad1348f1403169275002100356696
	// traceresponse: 00-4bf92f3577b34da6a3ce929d0e0e4736- <server span id> -01
}
