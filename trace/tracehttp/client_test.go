package tracehttp_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// stub is an in-process RoundTripper: it keeps the request it got and answers with a fixed response.
type stub struct {
	got    *http.Request
	status int
	body   string
	header http.Header
	err    error
}

func (s *stub) RoundTrip(r *http.Request) (*http.Response, error) {
	s.got = r
	if s.err != nil {
		return nil, s.err
	}
	h := s.header
	if h == nil {
		h = http.Header{}
	}
	var body io.ReadCloser = http.NoBody
	if s.body != "" {
		body = io.NopCloser(strings.NewReader(s.body))
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: body, Request: r}, nil
}

func TestTransportSpanEndsWithBody(t *testing.T) {
	tr, rec := newTracer("client")
	st := &stub{status: 200, body: "0123456789", header: http.Header{"X-App": {"inventory"}}}
	rt := tracehttp.NewTransport(tr, st, tracehttp.WithRemoteAppHeader("x-app"), tracehttp.WithRemoteApp("fallback"))

	ctx, parent := tr.Start(context.Background(), "checkout")
	parent.SetBaggageItem("user", "a&b=c%")
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://inventory.local:8080/items?id=1", strings.NewReader("body"))
	req.Header.Set("Accept", "text/plain")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Spans()) != 0 {
		t.Fatal("span finished when the headers arrived")
	}
	// The caller's request is untouched; the sent copy carries the context.
	if len(req.Header) != 1 || st.got == req {
		t.Fatalf("caller's request modified: %v", req.Header)
	}
	if st.got.Header.Get("X-B3-TraceId") != parent.TraceID() || st.got.Header.Get("X-B3-SpanId") != "0.1" ||
		st.got.Header.Get("X-B3-ParentSpanId") != "0" || st.got.Header.Get("baggage-user") != "a%2526b%253Dc%2525" ||
		st.got.Header.Get("Accept") != "text/plain" {
		t.Fatalf("sent headers %v", st.got.Header)
	}
	if id, _ := mdc.Get(st.got.Context(), mdc.KeySpanID); id != "0.1" {
		t.Fatalf("MDC of the sent request: span id %q", id)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	if len(rec.Spans()) != 0 {
		t.Fatal("span finished before the body was read")
	}
	_, _ = io.ReadAll(resp.Body)
	s := rec.only(t) // EOF finished it
	resp.Body.Close()
	parent.Finish()
	if s.Kind() != trace.KindClient || s.LogType() != tracehttp.LogTypeClient || s.SpanID() != "0.1" || s.ParentID() != "0" {
		t.Fatalf("kind %v type %q span %s parent %s", s.Kind(), s.LogType(), s.SpanID(), s.ParentID())
	}
	want := map[string]string{"request.url": "http://inventory.local:8080/items", "method": "POST",
		"req.size.bytes": "4", "resp.size.bytes": "10", "remote.app": "inventory"}
	for k, v := range want {
		if got := tag(t, s, k); got != v {
			t.Errorf("tag %s = %q, want %q", k, got, v)
		}
	}
	if s.ResultCode() != "200" || hasTag(s, "error") {
		t.Fatalf("result %q", s.ResultCode())
	}
}

func TestTransportCloseEndsSpan(t *testing.T) {
	tr, rec := newTracer("client")
	rt := tracehttp.NewTransport(tr, &stub{status: 503, body: "unavailable"}, tracehttp.WithRemoteApp("billing"))
	req, _ := http.NewRequest("GET", "http://billing/x", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = resp.Body.Read(make([]byte, 2))
	resp.Body.Close()
	resp.Body.Close()
	s := rec.only(t)
	if s.ResultCode() != "503" || tag(t, s, "resp.size.bytes") != "2" || tag(t, s, "remote.app") != "billing" {
		t.Fatalf("code %s size %s", s.ResultCode(), tag(t, s, "resp.size.bytes"))
	}
}

func TestTransportNoBodyEndsAtOnce(t *testing.T) {
	tr, rec := newTracer("client")
	rt := tracehttp.NewTransport(tr, &stub{status: 204})
	req, _ := http.NewRequest("HEAD", "http://svc/", nil)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if s := rec.only(t); s.ResultCode() != "204" {
		t.Fatalf("code %s", s.ResultCode())
	}
}

func TestTransportFailure(t *testing.T) {
	tr, rec := newTracer("client")
	boom := errors.New("connection refused")
	rt := tracehttp.NewTransport(tr, &stub{err: boom})
	req, _ := http.NewRequest("GET", "http://down/", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	s := rec.only(t)
	if !errors.Is(s.Err(), boom) || tag(t, s, "error") != "connection refused" || s.ResultCode() != "99" {
		t.Fatalf("err %v code %q", s.Err(), s.ResultCode())
	}
}

// TestTransportNoResponse: a real request that gets no response (the port refuses connections; the
// context is cancelled before sending) ends its span with SOFA's error code "99", the error and its
// text in the error tag, the URL and method, and no response size.
func TestTransportNoResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil { // nothing listens there any more: connection refused
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
	}{{"refused", context.Background()}, {"cancelled", cancelled}} {
		t.Run(c.name, func(t *testing.T) {
			tr, rec := newTracer("client")
			base := &http.Transport{DisableKeepAlives: true}
			defer base.CloseIdleConnections()
			client := &http.Client{Transport: tracehttp.NewTransport(tr, base)}
			req, _ := http.NewRequestWithContext(c.ctx, "GET", "http://"+addr+"/stock", nil)
			resp, err := client.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatal("the request got a response")
			}
			s := rec.only(t)
			if s.ResultCode() != "99" || s.Err() == nil || tag(t, s, "error") != s.ErrorMessage() || s.ErrorMessage() == "" {
				t.Fatalf("code %q err %v tag %q", s.ResultCode(), s.Err(), tag(t, s, "error"))
			}
			if tag(t, s, "request.url") != "http://"+addr+"/stock" || tag(t, s, "method") != "GET" || tag(t, s, "resp.size.bytes") != "0" {
				t.Fatalf("url %q method %q resp size %q", tag(t, s, "request.url"), tag(t, s, "method"), tag(t, s, "resp.size.bytes"))
			}
		})
	}
}

func TestTransportFilter(t *testing.T) {
	tr, rec := newTracer("client")
	st := &stub{status: 200}
	rt := tracehttp.NewTransport(tr, st, tracehttp.WithSkipPaths("/healthz"))
	req, _ := http.NewRequest("GET", "http://svc/healthz", nil)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if st.got != req || len(rec.Spans()) != 0 {
		t.Fatal("filtered request was traced")
	}
}

// TestChain: a client and three real servers on loopback (client -> A -> B -> C), each with its own
// tracer, as four processes would be. One trace id everywhere, SOFA span ids, baggage and the sampled
// flag carried to the end.
func TestChain(t *testing.T) {
	type hop struct {
		tr  *trace.Tracer
		rec *recorder
		srv *httptest.Server
	}
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()

	var seenAtC struct {
		trace, span, user, zone string
		load, sampled           bool
	}
	hops := make([]*hop, 3)
	for i := 2; i >= 0; i-- {
		tr, rec := newTracer(string(rune('A' + i)))
		h := &hop{tr: tr, rec: rec}
		var next string
		if i < 2 {
			next = hops[i+1].srv.URL
		}
		client := &http.Client{Transport: tracehttp.NewTransport(tr, transport)}
		h.srv = httptest.NewServer(tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if next == "" {
				sp := trace.SpanFromContext(r.Context())
				seenAtC.trace, _ = mdc.Get(r.Context(), mdc.KeyTraceID)
				seenAtC.span, _ = mdc.Get(r.Context(), mdc.KeySpanID)
				seenAtC.user, seenAtC.zone = sp.BaggageItem("user"), sp.SysBaggageItem("zone")
				seenAtC.load, seenAtC.sampled = sp.IsLoadTest(), sp.Sampled()
				_, _ = io.WriteString(w, "C")
				return
			}
			req, _ := http.NewRequestWithContext(r.Context(), "GET", next+"/next", nil)
			resp, err := client.Do(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
		})))
		defer h.srv.Close()
		hops[i] = h
	}

	tr, rec := newTracer("client", trace.WithSampler(trace.NeverSample()))
	ctx, root := tr.Start(context.Background(), "job", trace.WithLoadTest())
	root.SetBaggageItem("user", "名前=a&b%")
	root.SetSysBaggageItem("zone", "gz00a")
	client := &http.Client{Transport: tracehttp.NewTransport(tr, transport)}
	req, _ := http.NewRequestWithContext(ctx, "GET", hops[0].srv.URL+"/start", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	root.Finish()
	if string(body) != "C" {
		t.Fatalf("body %q", body)
	}

	traceID := root.TraceID()
	if seenAtC.trace != traceID || seenAtC.span != "0.1.1.1.1.1.1" || seenAtC.user != "名前=a&b%" || seenAtC.zone != "gz00a" ||
		!seenAtC.load || seenAtC.sampled {
		t.Fatalf("at C: %+v (trace %s)", seenAtC, traceID)
	}
	want := []struct {
		rec            *recorder
		n              int
		spans, parents []string
	}{
		{rec, 2, []string{"0.1", "0"}, []string{"0", ""}},
		{hops[0].rec, 2, []string{"0.1.1.1", "0.1.1"}, []string{"0.1.1", "0.1"}}, // A's client span ends first
		{hops[1].rec, 2, []string{"0.1.1.1.1.1", "0.1.1.1.1"}, []string{"0.1.1.1.1", "0.1.1.1"}},
		{hops[2].rec, 1, []string{"0.1.1.1.1.1.1"}, []string{"0.1.1.1.1.1"}},
	}
	for i, w := range want {
		spans := w.rec.waitSpans(w.n)
		if len(spans) != w.n {
			t.Fatalf("hop %d: %d spans", i, len(spans))
		}
		for j, s := range spans {
			if s.TraceID() != traceID || s.SpanID() != w.spans[j] || s.ParentID() != w.parents[j] || s.Sampled() || !s.IsLoadTest() {
				t.Errorf("hop %d span %d: %s %s parent %s sampled %v load %v", i, j, s.TraceID(), s.SpanID(), s.ParentID(), s.Sampled(), s.IsLoadTest())
			}
			if v, _ := s.BizBaggage().Get("user"); v != "名前=a&b%" {
				t.Errorf("hop %d span %d: user baggage %q", i, j, v)
			}
			if s.LogType() != "" && s.ResultCode() != "200" { // the root "job" span has no result code
				t.Errorf("hop %d span %d: result %q", i, j, s.ResultCode())
			}
		}
	}
}
