package otlp

import (
	"strings"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/trace"
)

// ScopeName is the instrumentation scope of the exported spans.
const ScopeName = "github.com/tracemdc/tracemdc/trace"

// maxResources is the most applications whose resource is kept from batch to batch; others get a
// resource made for the batch.
const maxResources = 64

// encoder builds an ExportTraceServiceRequest per batch out of protobuf messages it keeps and
// reuses, so that a batch in the steady state allocates nothing but the marshalled bytes' growth.
// It is used by one goroutine at a time (export.Encoder).
type encoder struct {
	attrs     []kv // OTEL_RESOURCE_ATTRIBUTES
	req       collectorpb.ExportTraceServiceRequest
	resources []*resource
	gen       uint64 // batch number: a resource with gen == its gen has spans in this batch
	opts      proto.MarshalOptions

	spans    pool[tracepb.Span]
	statuses pool[tracepb.Status]
	kvs      pool[commonpb.KeyValue]
	anys     pool[commonpb.AnyValue]
	strs     pool[commonpb.AnyValue_StringValue]
	ints     pool[commonpb.AnyValue_IntValue]
	bools    pool[commonpb.AnyValue_BoolValue]
	kvSlices slab[*commonpb.KeyValue]
	ids      slab[byte]
	tags     []trace.Tag

	// The trace id mapped last: the spans of a trace often come together.
	lastTrace string
	lastTID   [16]byte
}

// resource is the ResourceSpans of one application.
type resource struct {
	app   string
	rs    tracepb.ResourceSpans
	res   resourcepb.Resource
	ss    tracepb.ScopeSpans
	scope commonpb.InstrumentationScope
	gen   uint64
}

var _ export.Encoder = (*encoder)(nil)
var _ export.PartialSuccessReader = (*encoder)(nil)
var _ export.ErrorBodyReader = (*encoder)(nil)

func newEncoder(attrs []kv) *encoder { return &encoder{attrs: attrs} }

func (e *encoder) ContentType() string { return ContentType }

// Encode appends the request carrying spans, marshalled, to dst.
func (e *encoder) Encode(dst []byte, spans []*trace.FinishedSpan) ([]byte, error) {
	e.gen++
	e.req.ResourceSpans = e.req.ResourceSpans[:0]
	var last *resource
	for _, s := range spans {
		r := last
		if r == nil || r.app != s.App() {
			r = e.resource(s.App())
			last = r
		}
		if r.gen != e.gen {
			r.gen = e.gen
			r.ss.Spans = r.ss.Spans[:0]
			e.req.ResourceSpans = append(e.req.ResourceSpans, &r.rs)
		}
		r.ss.Spans = append(r.ss.Spans, e.span(s))
	}
	out, err := e.opts.MarshalAppend(dst, &e.req)
	if err != nil {
		e.validUTF8()
		out, err = e.opts.MarshalAppend(dst, &e.req)
	}
	e.reset()
	return out, err
}

// resource returns the resource of app, made on first use.
func (e *encoder) resource(app string) *resource {
	for _, r := range e.resources {
		if r.app == app {
			return r
		}
	}
	r := &resource{app: app}
	r.res.Attributes = append(r.res.Attributes, str("service.name", app),
		str("telemetry.sdk.name", "tracemdc"), str("telemetry.sdk.language", "go"))
	for _, a := range e.attrs {
		if a.k != "service.name" { // the tracer's application names the service
			r.res.Attributes = append(r.res.Attributes, str(a.k, a.v))
		}
	}
	r.scope.Name = ScopeName
	r.ss.Scope = &r.scope
	r.rs.Resource = &r.res
	r.rs.ScopeSpans = []*tracepb.ScopeSpans{&r.ss}
	if len(e.resources) < maxResources {
		e.resources = append(e.resources, r)
	}
	return r
}

func str(k, v string) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

// valid returns s, or s with each run of bytes that are not UTF-8 replaced by U+FFFD.
func valid(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// validUTF8 makes every string of the request UTF-8 (valid): protobuf refuses to marshal a string
// field that is not, and one such value (a header a caller sent, carried as baggage; an
// application's name) would fail its whole batch. Marshalling checks every string anyway, so this
// runs only after it refused the request.
func (e *encoder) validUTF8() {
	kvs := func(l []*commonpb.KeyValue) {
		for _, kv := range l {
			kv.Key = valid(kv.Key)
			if sv, ok := kv.GetValue().GetValue().(*commonpb.AnyValue_StringValue); ok {
				sv.StringValue = valid(sv.StringValue)
			}
		}
	}
	for _, rs := range e.req.ResourceSpans {
		kvs(rs.GetResource().GetAttributes())
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				sp.Name = valid(sp.Name)
				kvs(sp.Attributes)
				if sp.Status != nil {
					sp.Status.Message = valid(sp.Status.Message)
				}
			}
		}
	}
}

// span fills a pooled Span with s.
func (e *encoder) span(s *trace.FinishedSpan) *tracepb.Span {
	sp := e.spans.get()
	if t := s.TraceID(); t != e.lastTrace || e.lastTrace == "" {
		e.lastTrace, e.lastTID = t, idmap.TraceID(t)
	}
	tid := e.lastTID
	sid, pid := export.SpanIDs(s)
	ids := e.ids.take(32)
	copy(ids[:16], tid[:])
	copy(ids[16:24], sid[:])
	sp.TraceId, sp.SpanId = ids[:16:16], ids[16:24:24]
	sp.ParentSpanId = nil
	if pid != ([8]byte{}) {
		copy(ids[24:], pid[:])
		sp.ParentSpanId = ids[24:32:32]
	}
	sp.Name = s.Operation()
	sp.Flags = 1 // sampled: only sampled spans are exported
	switch s.Kind() {
	case trace.KindServer:
		sp.Kind = tracepb.Span_SPAN_KIND_SERVER
	case trace.KindClient:
		sp.Kind = tracepb.Span_SPAN_KIND_CLIENT
	default:
		sp.Kind = tracepb.Span_SPAN_KIND_INTERNAL
	}
	sp.StartTimeUnixNano = uint64(s.Start().UnixNano())
	sp.EndTimeUnixNano = uint64(s.End().UnixNano())
	e.tags = export.AppendAttributes(e.tags[:0], s)
	attrs := e.kvSlices.take(len(e.tags))
	for i, t := range e.tags {
		kv := e.kvs.get()
		kv.Key = t.Key
		kv.Value = e.value(t.Value)
		attrs[i] = kv
	}
	sp.Attributes = attrs
	sp.Status = nil // unset: the span did not fail
	if failed, reason := export.Status(s); failed {
		st := e.statuses.get()
		st.Code, st.Message = tracepb.Status_STATUS_CODE_ERROR, reason
		sp.Status = st
	}
	return sp
}

func (e *encoder) value(v trace.TagValue) *commonpb.AnyValue {
	a := e.anys.get()
	switch v.Kind() {
	case trace.TagInt:
		x := e.ints.get()
		x.IntValue = v.Int64()
		a.Value = x
	case trace.TagBool:
		x := e.bools.get()
		x.BoolValue = v.Bool()
		a.Value = x
	default:
		x := e.strs.get()
		x.StringValue = v.String()
		a.Value = x
	}
	return a
}

// reset makes the pooled messages free for the next batch, and lets go of the spans' strings.
func (e *encoder) reset() {
	for _, r := range e.resources {
		clear(r.ss.Spans)
	}
	clear(e.req.ResourceSpans)
	clear(e.tags)
	e.spans.reset()
	e.statuses.reset()
	e.kvs.reset()
	e.anys.reset()
	e.strs.reset()
	e.ints.reset()
	e.bools.reset()
	e.kvSlices.reset()
	e.ids.reset()
}

// Rejected reads an ExportTraceServiceResponse: the spans a partial success rejected.
func (e *encoder) Rejected(body []byte) (int, string) {
	var resp collectorpb.ExportTraceServiceResponse
	if err := proto.Unmarshal(body, &resp); err != nil {
		return 0, "" // the batch was taken (2xx); an unreadable answer says nothing more
	}
	ps := resp.GetPartialSuccess()
	return int(ps.GetRejectedSpans()), ps.GetErrorMessage()
}

// ErrorMessage reads the google.rpc.Status an OTLP/HTTP backend answers an error with.
func (e *encoder) ErrorMessage(body []byte) string {
	var st status.Status
	if err := proto.Unmarshal(body, &st); err != nil {
		return ""
	}
	return st.GetMessage()
}

// pool hands out *T values kept from batch to batch; the caller sets every field it uses.
type pool[T any] struct {
	items []*T
	n     int
}

func (p *pool[T]) get() *T {
	if p.n == len(p.items) {
		p.items = append(p.items, new(T))
	}
	x := p.items[p.n]
	p.n++
	return x
}

func (p *pool[T]) reset() { p.n = 0 }

// slab hands out slices of one backing array kept from batch to batch; when it is used up a larger
// one replaces it (the slices already handed out keep the old one until the batch is done).
type slab[T any] struct{ buf []T }

func (s *slab[T]) take(n int) []T {
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]T, 0, max(2*cap(s.buf), n, 256))
	}
	l := len(s.buf)
	s.buf = s.buf[:l+n]
	return s.buf[l : l+n : l+n]
}

func (s *slab[T]) reset() {
	clear(s.buf)
	s.buf = s.buf[:0]
}
