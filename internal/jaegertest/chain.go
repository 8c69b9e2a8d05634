package jaegertest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// HeaderTraceID is the response header in which the first service of a Chain names the trace.
const HeaderTraceID = "X-Test-Trace-Id"

// Chain is services on 127.0.0.1 calling each other over HTTP, in order, each traced by its own
// tracer with tracehttp's middleware and transport: the first calls the second, which calls the
// third, and so on; the last answers 200. Closed when the test ends.
type Chain struct {
	Tracers []*trace.Tracer
	urls    []string
	servers []*http.Server
	trs     []*http.Transport
	client  *http.Client
}

// StartChain starts one service per tracer, named by the tracer's App.
func StartChain(t testing.TB, tracers ...*trace.Tracer) *Chain {
	t.Helper()
	c := &Chain{Tracers: tracers, client: &http.Client{Timeout: 30 * time.Second}}
	t.Cleanup(func() {
		if err := c.close(); err != nil {
			t.Errorf("jaegertest: chain shutdown: %v", err)
		}
	})
	for range tracers {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.urls = append(c.urls, "http://"+l.Addr().String())
		srv := &http.Server{ReadHeaderTimeout: 30 * time.Second}
		c.servers = append(c.servers, srv)
		defer func(l net.Listener) { go srv.Serve(l) }(l)
	}
	for i, tr := range tracers {
		var next *http.Client
		if i+1 < len(tracers) {
			base := &http.Transport{}
			c.trs = append(c.trs, base)
			next = &http.Client{Transport: tracehttp.NewTransport(tr, base, tracehttp.WithRemoteApp(tracers[i+1].App())),
				Timeout: 30 * time.Second}
		}
		url := ""
		if i+1 < len(tracers) {
			url = c.urls[i+1] + "/step"
		}
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(HeaderTraceID, trace.SpanFromContext(r.Context()).TraceID())
			if next == nil {
				_, _ = io.WriteString(w, "ok")
				return
			}
			req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, url, nil)
			resp, err := next.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
		})
		c.servers[i].Handler = tracehttp.Middleware(tr)(h)
	}
	return c
}

// Call sends GET /start to the first service with the given headers (a caller's trace context, or
// none for a new trace) and returns the trace id the first service answered with.
func (c *Chain) Call(t testing.TB, header http.Header) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.urls[0]+"/start", nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("chain answered %s", resp.Status)
	}
	id := resp.Header.Get(HeaderTraceID)
	if id == "" {
		t.Fatal("no trace id in the answer")
	}
	return id
}

func (c *Chain) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, s := range c.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	for _, tr := range c.trs {
		tr.CloseIdleConnections()
	}
	c.client.CloseIdleConnections()
	return errors.Join(errs...)
}
