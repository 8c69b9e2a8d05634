package tracehttp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// Middleware returns server middleware that traces every request with tracer.
//
// For each request it extracts the caller's span context (a malformed one is handed to
// tracer.ReportError, which counts it, and the request starts a new root; baggage the propagator
// dropped is reported the same way, and the caller's trace goes on), starts a server span (log type
// "http-server" unless WithLogType says otherwise, kind server, related to the caller's span by
// WithServerSpanMode's mode, else the tracer's: a child unless the tracer was given another), and
// serves the request with a context carrying the span, its ids in the MDC and a request scope, so
// that mdc.Set works in the handler (WithRequestScope(false) leaves the scope out). When the handler
// returns it records request.url (scheme, host and path; the query only WithQuery(true)), method,
// req.size.bytes, resp.size.bytes (the body bytes actually written), the route template that served
// the request (TagRoute: the handler's span.SetRoute, else WithRoute's, else Go's ServeMux pattern,
// r.Pattern; with the default span name the span is then renamed "<METHOD> <route>") and the status
// as result code, and finishes the span. If the handler panics, the span gets the error tag and
// result code 500, finishes, and the panic goes on.
//
// The ResponseWriter the handler gets counts what is written and passes everything else through:
// it implements http.Flusher, http.Hijacker and io.ReaderFrom, and Unwrap for http.ResponseController.
//
// The request scope is shared by every context derived from the request's, mdc.Detach included: a
// goroutine started with mdc.Detach(r.Context()) that calls mdc.Set writes into the request's scope, so
// the request's later lines show the value, and so do the lines of any span that goroutine starts, a
// new root included (a span's context derives from the one it is started with). To keep a detached
// goroutine's values to itself, give it its own scope, mdc.WithScope(mdc.Detach(r.Context())), which
// shadows the request's (Set then writes into the nearest scope), or derive with mdc.With.
func Middleware(tracer *trace.Tracer, opts ...Option) func(http.Handler) http.Handler {
	cfg := newConfig(tracer, opts)
	return func(next http.Handler) http.Handler {
		return &handler{next: next, tracer: tracer, cfg: cfg}
	}
}

type handler struct {
	next   http.Handler
	tracer *trace.Tracer
	cfg    config
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.cfg.filter != nil && !h.cfg.filter(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	ctx, remote, err := h.cfg.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
	if err != nil {
		h.tracer.ReportError(err)
	}
	if !h.cfg.noScope && mdc.ScopeFrom(ctx) == nil {
		ctx = mdc.WithScope(ctx)
	}
	var mode trace.StartOption // the zero StartOption does nothing: the tracer's mode applies
	if h.cfg.modeSet {
		mode = trace.WithServerSpanMode(h.cfg.mode)
	}
	ctx, span := h.tracer.Start(ctx, h.cfg.name(r),
		trace.WithKind(trace.KindServer), trace.WithLogType(h.cfg.logTypeOr(LogTypeServer)),
		trace.WithRemoteParent(remote), mode)
	if h.cfg.traceHeader != "" {
		setTraceHeaders(w.Header(), h.cfg.traceHeader, span, r.Header)
	}

	rw := &responseWriter{ResponseWriter: w}
	r = r.WithContext(ctx)
	var body *countingBody
	if r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody {
		body = &countingBody{ReadCloser: r.Body}
		r.Body = body
	}
	finished := false
	defer func() {
		if finished {
			return
		}
		p := recover()
		if p == nil { // runtime.Goexit in the handler: no panic to record or continue
			h.finish(span, r, rw, body, statusText(rw.status()), "")
			return
		}
		span.SetError(panicError{p})
		h.finish(span, r, rw, body, "500", panicError{p}.Error())
		panic(p)
	}()
	h.next.ServeHTTP(rw, r)
	finished = true
	h.finish(span, r, rw, body, statusText(rw.status()), "")
}

func (h *handler) finish(span *trace.Span, r *http.Request, rw *responseWriter, body *countingBody, code, errMsg string) {
	span.SetTag(TagRequestURL, requestURL(r, r.Host, h.cfg.query))
	span.SetTag(TagMethod, r.Method)
	reqSize := r.ContentLength
	if body != nil {
		reqSize = body.n.Load()
	}
	span.SetTagInt(TagReqSize, reqSize)
	span.SetTagInt(TagRespSize, rw.written.Load())
	if errMsg != "" {
		span.SetTag(TagError, errMsg)
	}
	if rw.hijacked.Load() {
		span.SetTagBool(TagHijacked, true)
	}
	h.setRoute(span, r)
	span.SetResultCode(code)
	span.Finish()
}

// setRoute records the route template that served r, after the handler ran: the one the handler set
// (span.SetRoute) stays; else WithRoute's function's, else the pattern Go's ServeMux matched, without
// its method ("GET /orders/{id}" gives "/orders/{id}"). A span with the default name is renamed
// "<METHOD> <route>", unless the handler renamed it.
func (h *handler) setRoute(span *trace.Span, r *http.Request) {
	route := ""
	if v, ok := span.Tag(TagRoute); ok {
		route = v.String()
	} else {
		if h.cfg.route != nil {
			route = h.cfg.route(r)
		}
		if route == "" {
			route = patternRoute(r.Pattern)
		}
		if route == "" {
			return
		}
		span.SetTag(TagRoute, route)
	}
	if route != "" && h.cfg.namedByDefault && span.Operation() == defaultName(r) {
		span.SetOperation(r.Method + " " + route)
	}
}

// patternRoute returns the route of a ServeMux pattern, [METHOD ][HOST]/[PATH]: the pattern without
// its method.
func patternRoute(pattern string) string {
	if i := strings.IndexAny(pattern, " \t"); i >= 0 {
		return strings.TrimLeft(pattern[i:], " \t")
	}
	return pattern
}

// panicError is the error a handler panic is recorded as.
type panicError struct{ v any }

func (e panicError) Error() string {
	if err, ok := e.v.(error); ok {
		return "panic: " + err.Error()
	}
	return fmt.Sprint("panic: ", e.v)
}

func (e panicError) Unwrap() error {
	err, _ := e.v.(error)
	return err
}

// requestURL renders scheme://host/path[?query].
func requestURL(r *http.Request, host string, query bool) string {
	scheme := r.URL.Scheme
	if scheme == "" {
		scheme = "http"
		if r.TLS != nil {
			scheme = "https"
		}
	}
	if host == "" {
		host = r.URL.Host
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	if query && r.URL.RawQuery != "" {
		return scheme + "://" + host + path + "?" + r.URL.RawQuery
	}
	return scheme + "://" + host + path
}

var statusTexts = func() (s [600]string) {
	for i := 100; i < len(s); i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// statusText returns the decimal status code without allocating for the usual range.
func statusText(code int) string {
	if code >= 100 && code < len(statusTexts) {
		return statusTexts[code]
	}
	return strconv.Itoa(code)
}

// responseWriter records the status and counts the body bytes written.
type responseWriter struct {
	http.ResponseWriter
	code     int
	written  atomic.Int64
	hijacked atomic.Bool
}

// status is the final status: what WriteHeader got, 200 when the handler only wrote or did nothing
// (net/http sends 200 then), 101 for a hijacked connection without a status (a protocol switch).
func (w *responseWriter) status() int {
	switch {
	case w.code != 0:
		return w.code
	case w.hijacked.Load():
		return http.StatusSwitchingProtocols
	}
	return http.StatusOK
}

func (w *responseWriter) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code // 1xx informational headers may come first
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written.Add(int64(n))
	return n, err
}

// ReadFrom keeps net/http's sendfile path (io.Copy to the writer) and counts what it sent.
func (w *responseWriter) ReadFrom(src io.Reader) (int64, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	var (
		n   int64
		err error
	)
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, src)
	}
	w.written.Add(n)
	return n, err
}

// writerOnly hides ReadFrom so io.Copy does not recurse.
type writerOnly struct{ io.Writer }

// Flush sends buffered data to the client, if the underlying writer can.
func (w *responseWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack takes over the connection, if the underlying writer allows it; bytes written to the
// connection afterwards are not counted.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked.Store(true)
	} else if errors.Is(err, http.ErrNotSupported) {
		err = fmt.Errorf("tracehttp: underlying ResponseWriter cannot hijack: %w", err)
	}
	return conn, rw, err
}

// Unwrap returns the underlying ResponseWriter, for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var (
	_ http.Flusher  = (*responseWriter)(nil)
	_ http.Hijacker = (*responseWriter)(nil)
	_ io.ReaderFrom = (*responseWriter)(nil)
)

// countingBody counts the bytes read from a request body of unknown length.
type countingBody struct {
	io.ReadCloser
	n atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// setTraceHeaders writes the trace id of span into h[name] and, for W3C ids, traceresponse.
func setTraceHeaders(h http.Header, name string, span *trace.Span, in http.Header) {
	traceID, spanID := span.TraceID(), span.SpanID()
	if traceID == "" {
		return
	}
	h[name] = []string{traceID}
	if !lowerHex(traceID, 32) || !lowerHex(spanID, 16) {
		return
	}
	flags := byte(0)
	if span.Sampled() {
		flags |= 1
	}
	// The random-trace-id bit is the caller's when the trace continues the caller's traceparent.
	if tp := in.Get("Traceparent"); len(tp) == 55 && tp[3:35] == traceID {
		if f, err := strconv.ParseUint(tp[53:55], 16, 8); err == nil {
			flags |= byte(f) & 2
		}
	}
	const hexDigits = "0123456789abcdef"
	v := make([]byte, 0, 55)
	v = append(v, "00-"...)
	v = append(v, traceID...)
	v = append(v, '-')
	v = append(v, spanID...)
	v = append(v, '-', hexDigits[flags>>4], hexDigits[flags&15])
	h.Set(TraceResponseHeader, string(v)) // canonical, Traceresponse, as Go keys every header
}

// lowerHex reports whether s is n lower-case hex digits, not all zero.
func lowerHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	zero := true
	for i := 0; i < n; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
		zero = zero && c == '0'
	}
	return !zero
}
