package tracehttp

import (
	"net/http"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// Log types of the spans this package starts: the digest file families http-server-digest.log and
// http-client-digest.log.
const (
	LogTypeServer = layout.LogTypeHTTPServer
	LogTypeClient = layout.LogTypeHTTPClient
)

// Tag keys this package sets, in the order SOFATracer's digest lines show them.
const (
	TagRequestURL = layout.FieldRequestURL
	TagMethod     = layout.FieldMethod
	TagReqSize    = layout.FieldReqSize
	TagRespSize   = layout.FieldRespSize
	TagError      = layout.FieldError
	TagRemoteApp  = layout.FieldRemoteApp
	TagHijacked   = "hijacked"
	// TagRoute is the route template that served the request (trace.TagRoute, see trace.Span.SetRoute).
	TagRoute = layout.FieldRoute
)

// ResultCodeNoResponse is the result code of a client span whose request got no response (a transport
// error): SOFA's error code, which the HTTP client success rule counts as a failure.
const ResultCodeNoResponse = layout.CodeNoResponse

// Option configures Middleware and NewTransport.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	prop            propagation.Propagator
	name            func(r *http.Request) string
	filter          func(r *http.Request) bool
	query           bool
	mode            trace.ServerSpanMode
	modeSet         bool // WithServerSpanMode was given; else the tracer's mode applies
	remoteApp       string
	remoteAppHeader string
	logType         string // "" for the default of the side
	noScope         bool   // WithRequestScope(false)
	traceHeader     string // WithTraceIDHeader: "" for none
	route           func(r *http.Request) string
	namedByDefault  bool // name is defaultName: the span takes the route's name after routing
}

func newConfig(t *trace.Tracer, opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.prop == nil {
		biz, sys := 0, 0
		if t != nil {
			biz, sys = t.BaggageLimits()
		}
		c.prop = propagation.Default(propagation.WithBaggageLimits(biz, sys))
	}
	if c.name == nil {
		c.name, c.namedByDefault = defaultName, true
	}
	return c
}

// defaultName names a span "<METHOD> <path>".
func defaultName(r *http.Request) string { return r.Method + " " + r.URL.Path }

// WithPropagator sets the propagator that reads (server) and writes (client) the span context. The
// default is propagation.Default with the tracer's baggage limits: SOFA B3, sftc_head, SOFA-RpcId and
// W3C on extract; B3, plus W3C for a tracer with W3C ids, on inject.
func WithPropagator(p propagation.Propagator) Option {
	return optionFunc(func(c *config) { c.prop = p })
}

// WithSpanName sets how a span is named from its request (default "<METHOD> <path>"). Keep names of low
// cardinality: a route pattern rather than a path with ids in it.
func WithSpanName(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { c.name = f })
}

// WithRoute sets how the server middleware learns the route template that served a request, for
// routers other than Go's ServeMux (whose pattern, r.Pattern, it reads by itself): f is called after
// the handler returned, with the request the handler got (the one carrying the span), and returns
// the route, such as "/orders/{id}", or "" when it does not know. A router that keeps its route on a
// request of its own, out of f's reach, can set it from inside the handler or the router's own
// middleware instead: trace.SpanFromContext(r.Context()).SetRoute(route), which wins over f and the
// ServeMux pattern. The route becomes the TagRoute tag; the digest reporter keys the HTTP stat lines
// on it (the digest line keeps the real request.url), and with the default span name the span is
// renamed "<METHOD> <route>".
func WithRoute(f func(r *http.Request) string) Option {
	return optionFunc(func(c *config) { c.route = f })
}

// WithFilter decides per request whether it is traced: a request for which f returns false gets no span
// (the server handler runs untouched, the client request goes out as it is). Use it for health checks.
func WithFilter(f func(r *http.Request) bool) Option {
	return optionFunc(func(c *config) { c.filter = f })
}

// WithSkipPaths leaves requests for exactly these URL paths untraced (health checks, metrics).
func WithSkipPaths(paths ...string) Option {
	skip := make(map[string]struct{}, len(paths))
	for _, p := range paths {
		skip[p] = struct{}{}
	}
	return WithFilter(func(r *http.Request) bool {
		_, ok := skip[r.URL.Path]
		return !ok
	})
}

// WithQuery records the query string in request.url. Off by default: queries often hold personal data.
func WithQuery(on bool) Option {
	return optionFunc(func(c *config) { c.query = on })
}

// WithLogType sets the log type of the spans, which names their digest files: LogTypeServer
// (http-server) for Middleware and LogTypeClient (http-client) for NewTransport by default. A
// SOFATracer name such as "spring-mvc" puts the lines where SOFA's tools look for them, in the HTTP
// layout of the span's side with the HTTP stat key and success rule: the digest reporter gives an
// HTTP span that layout in any log type without an encoder of its own, so nothing needs registering.
// An empty name keeps the default.
func WithLogType(name string) Option {
	return optionFunc(func(c *config) { c.logType = name })
}

// logTypeOr returns the log type set with WithLogType, or def.
func (c *config) logTypeOr(def string) string {
	if c.logType != "" {
		return c.logType
	}
	return def
}

// WithServerSpanMode sets how the server span relates to the caller's span, overriding the tracer's
// mode: trace.ServerSpanChild (as SOFATracer's HTTP servers: inbound 0.1 gives 0.1.1) or
// trace.ServerSpanKeep (inbound 0.1 gives 0.1). Without it the middleware follows the tracer's mode
// (trace.WithDefaultServerSpanMode), which is ServerSpanChild unless the tracer was told otherwise.
func WithServerSpanMode(m trace.ServerSpanMode) Option {
	return optionFunc(func(c *config) { c.mode, c.modeSet = m, true })
}

// WithRemoteApp sets remote.app of client spans: the name of the called application.
func WithRemoteApp(name string) Option {
	return optionFunc(func(c *config) { c.remoteApp = name })
}

// WithRemoteAppHeader makes client spans take remote.app from this response header when the response
// has it (a server can announce its application name); otherwise WithRemoteApp's name is used.
func WithRemoteAppHeader(name string) Option {
	return optionFunc(func(c *config) { c.remoteAppHeader = http.CanonicalHeaderKey(name) })
}

// WithRequestScope says whether Middleware installs a request scope (mdc.WithScope) in each request's
// context, so that mdc.Set in a handler works, as MDC.put does in Java: a value set once (the user id,
// after authentication) shows in every later log line of the request. On by default; a context that
// already has a scope (installed by an outer middleware) keeps it. Turn it off to save its cost (one
// small allocation per request; see BenchmarkMiddleware) when no handler calls mdc.Set. Middleware only.
func WithRequestScope(on bool) Option {
	return optionFunc(func(c *config) { c.noScope = !on })
}

// DefaultTraceIDHeader is the response header WithTraceIDHeader("") writes.
const DefaultTraceIDHeader = "X-Trace-Id"

// TraceResponseHeader is the W3C Trace Context Level 2 response header that WithTraceIDHeader also
// writes when the ids are W3C ones.
const TraceResponseHeader = "traceresponse"

// WithTraceIDHeader makes Middleware echo the trace id of each traced request in the response header
// name (DefaultTraceIDHeader, X-Trace-Id, when name is empty), so that a caller, a browser or a support
// ticket can quote it and tracetail -tree find the trace. When the server span has W3C ids (32 and 16
// lower-case hex digits: a W3C caller, or trace.W3CIDGenerator) the response also carries
// traceresponse: 00-<trace id>-<server span id>-<flags>, as W3C Trace Context Level 2 (Candidate
// Recommendation, 2024) defines it: bit 0 of the flags is the span's sampled flag, bit 1 (random trace
// id) is copied from the caller's traceparent when the trace continues it, and 0 otherwise. Header
// names are case-insensitive: Go writes it Traceresponse over HTTP/1 (HTTP/2 lower-cases every name).
// The headers are set before the handler runs, so a handler can still change or remove them.
// Middleware only.
func WithTraceIDHeader(name string) Option {
	if name == "" {
		name = DefaultTraceIDHeader
	}
	name = http.CanonicalHeaderKey(name)
	return optionFunc(func(c *config) { c.traceHeader = name })
}
