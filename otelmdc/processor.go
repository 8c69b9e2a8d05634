package otelmdc

import (
	"context"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
)

// OpenTelemetry attribute keys the processor reads (semantic conventions 1.2x, and the older names
// some instrumentations still set).
const (
	attrHTTPMethod       = "http.request.method"
	attrHTTPMethodOld    = "http.method"
	attrURLFull          = "url.full"
	attrURLOld           = "http.url"
	attrURLPath          = "url.path"
	attrURLQuery         = "url.query"
	attrURLScheme        = "url.scheme"
	attrServerAddress    = "server.address"
	attrServerPort       = "server.port"
	attrHTTPRoute        = "http.route"
	attrStatusCode       = "http.response.status_code"
	attrStatusCodeOld    = "http.status_code"
	attrReqBodySize      = "http.request.body.size"
	attrRespBodySize     = "http.response.body.size"
	attrReqSizeOld       = "http.request_content_length"
	attrRespSizeOld      = "http.response_content_length"
	attrPeerService      = "peer.service"
	attrServiceName      = "service.name"
	attrRPCSystem        = "rpc.system"
	attrRPCSystemName    = "rpc.system.name" // semantic conventions 1.37 on (otelgrpc v0.6x on)
	attrRPCService       = "rpc.service"
	attrRPCMethod        = "rpc.method"
	attrGRPCStatus       = "rpc.grpc.status_code"     // a number
	attrRPCStatus        = "rpc.response.status_code" // 1.37 on: gRPC's code name ("NOT_FOUND")
	attrNetPeerAddress   = "network.peer.address"
	attrNetPeerPort      = "network.peer.port"
	attrExceptionMessage = "exception.message"
)

// ProcessorOption configures the processor made by NewSpanProcessor.
type ProcessorOption interface{ apply(*processorConfig) }

type processorConfig struct {
	app string
}

type processorOptionFunc func(*processorConfig)

func (f processorOptionFunc) apply(c *processorConfig) { f(c) }

// WithApp sets the local.app of every line. The default is each span's service.name (the resource of
// its TracerProvider), as OpenTelemetry names an application.
func WithApp(name string) ProcessorOption {
	return processorOptionFunc(func(c *processorConfig) { c.app = name })
}

// SpanProcessor is an OpenTelemetry sdktrace.SpanProcessor that hands every span the SDK ends to a
// tracemdc Reporter, usually a *digest.Reporter, which writes it into digest and stat logs:
//
//	rep, err := digest.New(digest.Config{})
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelmdc.NewSpanProcessor(rep)))
//
// Spans are mapped to SOFATracer's layouts by their semantic-convention attributes:
//   - HTTP (http.request.method): server spans to http-server lines, client spans to http-client
//     lines. request.url is url.full, else url.scheme://server.address[:server.port]url.path; method;
//     req.size.bytes and resp.size.bytes from http.request.body.size and http.response.body.size
//     (otelhttp records both on server spans, neither on client spans, whose lines then show 0);
//     result.code is http.response.status_code (a client call without a response gets 99); remote.app
//     is peer.service; the route (http.route, else the route in a span name "{method} {route}", where
//     otelhttp puts a ServeMux pattern) becomes the stat key's request.url (trace.TagRoute), so stat
//     lines count per route while each digest line keeps its URL.
//   - RPC (rpc.system.name or rpc.system): rpc-client and rpc-server lines, with service, method
//     (rpc.service and rpc.method, or the two parts of a fully-qualified rpc.method), protocol,
//     remote.ip and remote.app; result.code from the gRPC status (rpc.grpc.status_code or
//     rpc.response.status_code) as tracegrpc maps it (layout.GRPCResultCode: 00 OK, 03
//     DEADLINE_EXCEEDED, 02 transport and framework failures, 01 the handler's own statuses), else
//     02 when the span's status is Error.
//   - Everything else: the reporter's default log type and its generic layout, the span's name as
//     operation and its attributes as tags; 99 when its status is Error, else 00.
//
// Each line carries the span's OpenTelemetry ids (trace id 32 hex, span id 16 hex) and its parent's
// (digest writes parent.span.id for ids that are not SOFA rpcIds), so tracetail -tree draws the tree.
// local.app is the span's service.name unless WithApp says otherwise.
//
// The SDK calls OnEnd only for recording spans: to have unsampled spans counted in the stat lines
// (tracemdc writes no digest line for them), give the TracerProvider a sampler wrapped in
// RecordUnsampled. OnEnd runs on the goroutine that ends the span and returns once the record is
// queued: the digest reporter encodes and writes on its own goroutine.
type SpanProcessor struct {
	rep     trace.Reporter
	cfg     processorConfig
	tracers sync.Map // app name -> *trace.Tracer: the app of the records
	closed  atomic.Bool
	// skipped counts spans that could not be recorded (ids a tracemdc record refuses); Stats.
	skipped atomic.Uint64
}

var _ sdktrace.SpanProcessor = (*SpanProcessor)(nil)

// NewSpanProcessor returns a processor that reports every span the SDK ends to r (see SpanProcessor).
// A nil r is replaced by a reporter that drops everything.
func NewSpanProcessor(r trace.Reporter, opts ...ProcessorOption) *SpanProcessor {
	var c processorConfig
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if r == nil {
		r = trace.ReporterFunc(func(*trace.FinishedSpan) {})
	}
	return &SpanProcessor{rep: r, cfg: c}
}

// OnStart does nothing: a span is recorded when it ends.
func (p *SpanProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd maps s to a tracemdc record and reports it. After Shutdown it does nothing.
func (p *SpanProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if s == nil || p.closed.Load() {
		return
	}
	rec, err := p.record(s)
	if rec == nil {
		p.skipped.Add(1)
		if er, ok := p.rep.(interface{ ReportError(error) }); ok {
			er.ReportError(err)
		}
		return
	}
	p.rep.Report(rec)
}

// ForceFlush flushes the reporter when it has a Flush method (a *digest.Reporter writes the lines
// it has queued).
func (p *SpanProcessor) ForceFlush(context.Context) error {
	if f, ok := p.rep.(interface{ Flush() }); ok {
		f.Flush()
	}
	return nil
}

// Shutdown stops recording and closes the reporter when it has a Close method (a *digest.Reporter
// then writes every queued line and its last stat lines), so tp.Shutdown(ctx) is the one call a
// program makes at exit. Later calls do nothing.
func (p *SpanProcessor) Shutdown(context.Context) error {
	if !p.closed.CompareAndSwap(false, true) {
		return nil
	}
	if c, ok := p.rep.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

// Skipped returns the number of spans that could not be recorded: spans whose ids tracemdc refuses
// (never the case for ids of the OpenTelemetry SDK). Each was reported to the reporter's ReportError
// when it has one.
func (p *SpanProcessor) Skipped() uint64 { return p.skipped.Load() }

// tracer returns the tracer whose records carry app as local.app.
func (p *SpanProcessor) tracer(app string) *trace.Tracer {
	if t, ok := p.tracers.Load(app); ok {
		return t.(*trace.Tracer)
	}
	t, _ := p.tracers.LoadOrStore(app, trace.New(app, trace.WithoutMDC()))
	return t.(*trace.Tracer)
}

// app returns the local.app of s.
func (p *SpanProcessor) app(s sdktrace.ReadOnlySpan) string {
	if p.cfg.app != "" {
		return p.cfg.app
	}
	if r := s.Resource(); r != nil {
		if v, ok := r.Set().Value(attrServiceName); ok {
			return v.String()
		}
	}
	return ""
}

// ids returns the hex text of the trace, span and parent span ids of s, and the rest of the buffer
// they were written into, with room for extra more bytes: one allocation for the ids and the URL.
func ids(s sdktrace.ReadOnlySpan, extra int) (traceID, spanID, parentID string, rest []byte) {
	sc, parent := s.SpanContext(), s.Parent()
	b := make([]byte, 64, 64+extra)
	tid, sid := sc.TraceID(), sc.SpanID()
	hex.Encode(b[0:32], tid[:])
	hex.Encode(b[32:48], sid[:])
	traceID, spanID = unsafe.String(&b[0], 32), unsafe.String(&b[32], 16)
	if parent.SpanID().IsValid() {
		pid := parent.SpanID()
		hex.Encode(b[48:64], pid[:])
		parentID = unsafe.String(&b[48], 16)
	}
	return traceID, spanID, parentID, b[64:]
}

// attrs is the attribute list of a span, looked up by key.
type attrs []attribute.KeyValue

func (a attrs) get(key string) (attribute.Value, bool) {
	for i := range a {
		if string(a[i].Key) == key {
			return a[i].Value, true
		}
	}
	return attribute.Value{}, false
}

func (a attrs) str(keys ...string) string {
	for _, k := range keys {
		if v, ok := a.get(k); ok {
			if s := v.String(); s != "" {
				return s
			}
		}
	}
	return ""
}

func (a attrs) int(keys ...string) (int64, bool) {
	for _, k := range keys {
		if v, ok := a.get(k); ok {
			switch v.Type() {
			case attribute.INT64:
				return v.AsInt64(), true
			case attribute.STRING:
				if n, err := strconv.ParseInt(v.AsString(), 10, 64); err == nil {
					return n, true
				}
			}
		}
	}
	return 0, false
}

// kind maps an OpenTelemetry span kind to tracemdc's.
func kind(k oteltrace.SpanKind) trace.Kind {
	switch k {
	case oteltrace.SpanKindServer, oteltrace.SpanKindConsumer:
		return trace.KindServer
	case oteltrace.SpanKindClient, oteltrace.SpanKindProducer:
		return trace.KindClient
	}
	return trace.KindInternal
}

// errorOf returns the error of a span whose status is Error: its description, else the message of
// its last exception event, else "error".
func errorOf(s sdktrace.ReadOnlySpan) error {
	st := s.Status()
	if st.Code != codes.Error {
		return nil
	}
	if st.Description != "" {
		return errors.New(st.Description)
	}
	ev := s.Events()
	for i := len(ev) - 1; i >= 0; i-- {
		if v, ok := attrs(ev[i].Attributes).get(attrExceptionMessage); ok && v.String() != "" {
			return errors.New(v.String())
		}
	}
	return errors.New("error")
}

// record maps s to a tracemdc record (see SpanProcessor for the mapping).
func (p *SpanProcessor) record(s sdktrace.ReadOnlySpan) (*trace.FinishedSpan, error) {
	a := attrs(s.Attributes())
	c := trace.FinishedSpanConfig{
		Operation: s.Name(),
		Kind:      kind(s.SpanKind()),
		Sampled:   s.SpanContext().IsSampled(),
		Start:     s.StartTime(),
		End:       s.EndTime(),
	}
	switch {
	case a.str(attrHTTPMethod, attrHTTPMethodOld) != "":
		url := a.str(attrURLFull, attrURLOld)
		var rest []byte
		if url == "" {
			c.TraceID, c.SpanID, c.ParentID, rest = ids(s, serverURLLen(a))
			url = serverURL(rest, a)
		} else {
			c.TraceID, c.SpanID, c.ParentID, _ = ids(s, 0)
		}
		p.http(s, a, url, &c)
	case a.str(attrRPCSystemName, attrRPCSystem) != "":
		c.TraceID, c.SpanID, c.ParentID, _ = ids(s, 0)
		p.rpc(s, a, &c)
	default:
		c.TraceID, c.SpanID, c.ParentID, _ = ids(s, 0)
		c.Err = errorOf(s)
		c.Tags = make([]trace.Tag, 0, len(a))
		for _, kv := range a {
			c.Tags = append(c.Tags, tag(kv))
		}
	}
	return p.tracer(p.app(s)).NewFinishedSpan(c)
}

// http fills c for an HTTP span.
func (p *SpanProcessor) http(s sdktrace.ReadOnlySpan, a attrs, url string, c *trace.FinishedSpanConfig) {
	client := c.Kind == trace.KindClient
	c.LogType = layout.LogTypeHTTPServer
	if client {
		c.LogType = layout.LogTypeHTTPClient
	}
	reqSize, _ := a.int(attrReqBodySize, attrReqSizeOld)
	respSize, _ := a.int(attrRespBodySize, attrRespSizeOld)
	method := a.str(attrHTTPMethod, attrHTTPMethodOld)
	c.Tags = append(make([]trace.Tag, 0, 6),
		trace.String(layout.FieldRequestURL, url),
		trace.String(layout.FieldMethod, method),
		trace.Int64(layout.FieldReqSize, reqSize),
		trace.Int64(layout.FieldRespSize, respSize))
	if client {
		c.Tags = append(c.Tags, trace.String(layout.FieldRemoteApp, a.str(attrPeerService)))
	}
	if route := httpRoute(s.Name(), method, a); route != "" {
		c.Tags = append(c.Tags, trace.String(trace.TagRoute, route))
	}
	if code, ok := a.int(attrStatusCode, attrStatusCodeOld); ok {
		c.ResultCode = statusText(code)
	}
	if st := s.Status(); st.Code == codes.Error && (st.Description != "" || c.ResultCode == "") {
		c.Err = errorOf(s) // a transport error, or a handler's message; a bare 5xx keeps its status only
	}
}

// httpRoute is the route of an HTTP span: its http.route attribute, else the route in a span name of
// the semantic conventions' form "{method} {http.route}". otelhttp's server span gets its route from
// the request's ServeMux pattern only after the mux has run, and then puts it in the span's name, not
// in the attribute.
func httpRoute(name, method string, a attrs) string {
	if r := a.str(attrHTTPRoute); r != "" {
		return r
	}
	if rest, ok := strings.CutPrefix(name, method+" "); ok && strings.HasPrefix(rest, "/") {
		return rest
	}
	return ""
}

// serverURL is the request.url of a server span without url.full: url.scheme://server.address
// [:server.port]url.path, written into b (which serverURLLen sized); the path alone without
// server.address.
func serverURL(b []byte, a attrs) string {
	path := a.str(attrURLPath)
	host := a.str(attrServerAddress)
	if host == "" {
		return path
	}
	scheme := a.str(attrURLScheme)
	if scheme == "" {
		scheme = "http"
	}
	b = append(append(append(b[:0], scheme...), "://"...), host...)
	if port, ok := a.int(attrServerPort); ok {
		b = strconv.AppendInt(append(b, ':'), port, 10)
	}
	b = append(b, path...)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// serverURLLen is room enough for serverURL.
func serverURLLen(a attrs) int {
	return len(a.str(attrURLScheme)) + len("http://") + len(a.str(attrServerAddress)) + 21 + len(a.str(attrURLPath))
}

// statusTexts holds the text of the HTTP status codes 100 to 599, so a line's result code costs no
// allocation.
var statusTexts = func() (t [500]string) {
	for i := range t {
		t[i] = strconv.Itoa(100 + i)
	}
	return t
}()

func statusText(code int64) string {
	if code >= 100 && code < 600 {
		return statusTexts[code-100]
	}
	return strconv.FormatInt(code, 10)
}

// rpc fills c for an RPC span.
func (p *SpanProcessor) rpc(s sdktrace.ReadOnlySpan, a attrs, c *trace.FinishedSpanConfig) {
	if c.Kind == trace.KindClient {
		c.LogType = layout.LogTypeRPCClient
	} else {
		c.LogType = layout.LogTypeRPCServer
	}
	system := a.str(attrRPCSystemName, attrRPCSystem)
	service, method := a.str(attrRPCService), a.str(attrRPCMethod)
	if i := strings.LastIndexByte(method, '/'); service == "" && i >= 0 {
		// Semantic conventions 1.37 on: rpc.method is the fully-qualified method, package.Service/Method.
		service, method = strings.TrimPrefix(method[:i], "/"), method[i+1:]
	}
	c.Tags = []trace.Tag{
		trace.String(layout.FieldProtocol, system),
		trace.String(layout.FieldService, service),
		trace.String(layout.FieldMethod, method),
	}
	host, port := a.str(attrServerAddress), a.str(attrServerPort)
	if c.Kind == trace.KindServer {
		host, port = a.str(attrNetPeerAddress), a.str(attrNetPeerPort)
	}
	if host != "" {
		if port != "" {
			host += ":" + port
		}
		c.Tags = append(c.Tags, trace.String(layout.FieldRemoteIP, host))
	}
	if app := a.str(attrPeerService); app != "" {
		c.Tags = append(c.Tags, trace.String(layout.FieldRemoteApp, app))
	}
	code, ok := grpcStatus(system, a)
	switch {
	case ok:
		c.ResultCode = layout.GRPCResultCode(code)
		if code != 0 {
			c.Tags = append(c.Tags, trace.Int64(attrGRPCStatus, int64(code)))
		}
	case s.Status().Code == codes.Error:
		c.ResultCode = layout.CodeRPCError
	default:
		c.ResultCode = layout.CodeSuccess
	}
	c.Err = errorOf(s)
}

// grpcStatus returns the gRPC status code of an RPC span: rpc.grpc.status_code, else, for gRPC and
// Connect (which shares gRPC's codes), rpc.response.status_code, a code's name (OK, NOT_FOUND,
// ...; Connect's not_found in any case) or number.
func grpcStatus(system string, a attrs) (uint32, bool) {
	if n, ok := a.int(attrGRPCStatus); ok && n >= 0 && n <= math.MaxUint32 {
		return uint32(n), true
	}
	switch system {
	case "grpc", "connect_rpc", "connectrpc":
	default:
		return 0, false
	}
	v := a.str(attrRPCStatus)
	if v == "" {
		return 0, false
	}
	for i, name := range grpcCodeNames {
		if strings.EqualFold(v, name) {
			return uint32(i), true
		}
	}
	if strings.EqualFold(v, "CANCELED") { // Connect's spelling
		return 1, true
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return uint32(n), true
	}
	return 0, false
}

// grpcCodeNames are the names of gRPC's status codes, by number (grpc/grpc's doc/statuscodes.md).
var grpcCodeNames = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// tag converts an attribute to a tag of the same type; floats and lists as their text.
func tag(kv attribute.KeyValue) trace.Tag {
	switch kv.Value.Type() {
	case attribute.INT64:
		return trace.Int64(string(kv.Key), kv.Value.AsInt64())
	case attribute.BOOL:
		return trace.Bool(string(kv.Key), kv.Value.AsBool())
	}
	return trace.String(string(kv.Key), kv.Value.String())
}

// RecordUnsampled wraps a sampler so that the spans it drops are recorded without being sampled
// (sdktrace.RecordOnly instead of Drop): the SDK then ends them through the span processors, and a
// SpanProcessor of this package counts them in the stat lines, as tracemdc counts its own unsampled
// spans, while exporters (the BatchSpanProcessor exports sampled spans only) and the digest lines
// still leave them out. Recording costs what a sampled span costs in the process.
func RecordUnsampled(s sdktrace.Sampler) sdktrace.Sampler {
	if s == nil {
		s = sdktrace.ParentBased(sdktrace.AlwaysSample())
	}
	return recordUnsampled{s}
}

type recordUnsampled struct{ s sdktrace.Sampler }

func (r recordUnsampled) ShouldSample(p sdktrace.SamplingParameters) sdktrace.SamplingResult {
	res := r.s.ShouldSample(p)
	if res.Decision == sdktrace.Drop {
		res.Decision = sdktrace.RecordOnly
	}
	return res
}

func (r recordUnsampled) Description() string { return "RecordUnsampled{" + r.s.Description() + "}" }
