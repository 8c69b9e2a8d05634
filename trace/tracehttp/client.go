package tracehttp

import (
	"io"
	"net/http"
	"sync/atomic"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// Transport is an http.RoundTripper that traces outbound requests. Each request gets a client span
// (log type "http-client", kind client), a child of the span in the request's context; the span
// context is injected into a copy of the request's headers (the caller's request is never modified)
// and the copy is sent through the base RoundTripper.
//
// The span records request.url, method, req.size.bytes, resp.size.bytes (the body bytes the caller
// actually read), remote.app (see WithRemoteApp and WithRemoteAppHeader) and the status as result
// code. A request that got no response (connection refused, DNS failure, timeout, cancelled context)
// gets result code ResultCodeNoResponse ("99", SOFA's error code, as SOFATracer's RestTemplate
// plugin), its error (Span.SetError) and the error text as the "error" tag, which package digest
// writes as the error key of the JSON http-client line. A failed read of the response body sets the
// error and the tag too, and keeps the status as result code: the server did answer. The span ends
// when the caller has read the response body to its end or closed it, not when the headers arrive;
// a response without a body ends it at once.
type Transport struct {
	base   http.RoundTripper
	tracer *trace.Tracer
	cfg    config
}

var _ http.RoundTripper = (*Transport)(nil)

// NewTransport returns a Transport sending through base (http.DefaultTransport when nil) and
// starting spans with tracer.
//
//	client := &http.Client{Transport: tracehttp.NewTransport(tracer, nil)}
func NewTransport(tracer *trace.Tracer, base http.RoundTripper, opts ...Option) *Transport {
	if base == nil {
		base = http.DefaultTransport
	}
	return &Transport{base: base, tracer: tracer, cfg: newConfig(tracer, opts)}
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.cfg.filter != nil && !t.cfg.filter(req) {
		return t.base.RoundTrip(req)
	}
	ctx, span := t.tracer.Start(req.Context(), t.cfg.name(req),
		trace.WithKind(trace.KindClient), trace.WithLogType(t.cfg.logTypeOr(LogTypeClient)))

	out := req.WithContext(ctx) // a shallow copy: the caller's request stays as it is
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = make(http.Header, 4)
	}
	if err := t.cfg.prop.Inject(ctx, span.Context(), propagation.HeaderCarrier(out.Header)); err != nil {
		t.tracer.ReportError(err)
	}
	c := &clientCall{span: span, req: out, cfg: &t.cfg}
	if out.ContentLength < 0 && out.Body != nil && out.Body != http.NoBody {
		c.reqBody = &countingBody{ReadCloser: out.Body}
		out.Body = c.reqBody
	}

	resp, err := t.base.RoundTrip(out)
	if err != nil {
		span.SetError(err)
		c.finish(nil, err.Error())
		return resp, err
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		c.finish(resp, "")
		return resp, nil
	}
	c.resp = resp
	b := &responseBody{ReadCloser: resp.Body, call: c}
	if rwc, ok := resp.Body.(io.ReadWriteCloser); ok { // 101 Switching Protocols: keep the body writable
		resp.Body = &rwResponseBody{responseBody: b, w: rwc}
	} else {
		resp.Body = b
	}
	return resp, nil
}

// clientCall is one traced round trip, finished once.
type clientCall struct {
	span    *trace.Span
	req     *http.Request
	cfg     *config
	reqBody *countingBody
	resp    *http.Response
	read    atomic.Int64
	done    atomic.Bool
}

func (c *clientCall) finish(resp *http.Response, errMsg string) {
	if !c.done.CompareAndSwap(false, true) {
		return
	}
	s := c.span
	s.SetTag(TagRequestURL, requestURL(c.req, c.req.URL.Host, c.cfg.query))
	s.SetTag(TagMethod, c.req.Method)
	reqSize := c.req.ContentLength
	if c.reqBody != nil {
		reqSize = c.reqBody.n.Load()
	}
	s.SetTagInt(TagReqSize, reqSize)
	s.SetTagInt(TagRespSize, c.read.Load())
	remote := c.cfg.remoteApp
	if resp != nil && c.cfg.remoteAppHeader != "" {
		if v := resp.Header.Get(c.cfg.remoteAppHeader); v != "" {
			remote = v
		}
	}
	s.SetTag(TagRemoteApp, remote)
	if errMsg != "" {
		s.SetTag(TagError, errMsg)
	}
	if resp != nil {
		s.SetResultCode(statusText(resp.StatusCode))
	} else {
		s.SetResultCode(ResultCodeNoResponse)
	}
	s.Finish()
}

// responseBody counts what the caller reads and finishes the span at EOF, on a read error, or on
// Close, whichever comes first.
type responseBody struct {
	io.ReadCloser
	call *clientCall
}

func (b *responseBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.call.read.Add(int64(n))
	switch {
	case err == io.EOF:
		b.call.finish(b.call.resp, "")
	case err != nil:
		b.call.span.SetError(err)
		b.call.finish(b.call.resp, err.Error())
	}
	return n, err
}

func (b *responseBody) Close() error {
	err := b.ReadCloser.Close()
	b.call.finish(b.call.resp, "")
	return err
}

// rwResponseBody is responseBody for a writable body (a switched protocol such as WebSocket).
type rwResponseBody struct {
	*responseBody
	w io.Writer
}

func (b *rwResponseBody) Write(p []byte) (int, error) { return b.w.Write(p) }
