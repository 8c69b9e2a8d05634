package trace

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the role of a span: "span.kind" in a digest line.
type Kind uint8

// The span kinds.
const (
	KindInternal Kind = iota // local work; the zero Kind
	KindClient               // an outbound call
	KindServer               // the handling of an inbound call
)

// String returns "internal", "client" or "server".
func (k Kind) String() string {
	switch k {
	case KindClient:
		return "client"
	case KindServer:
		return "server"
	}
	return "internal"
}

// ServerSpanMode decides the span id of a span started from a remote parent (WithRemoteParent). A
// tracer's default is set with WithDefaultServerSpanMode (else ServerSpanChild); WithServerSpanMode
// sets it for one Start, and tracehttp.WithServerSpanMode for one middleware.
type ServerSpanMode uint8

// The server span modes.
const (
	// ServerSpanChild makes the span a child of the remote span: inbound "0.1" gives span id
	// "0.1.1" with parent id "0.1". SOFATracer's HTTP servers do this. It is the default.
	ServerSpanChild ServerSpanMode = iota
	// ServerSpanKeep keeps the remote span id and parent id: inbound "0.1" (parent "0") gives span
	// id "0.1" with parent id "0". SOFARPC servers do this.
	ServerSpanKeep
)

// String returns "child" or "keep".
func (m ServerSpanMode) String() string {
	if m == ServerSpanKeep {
		return "keep"
	}
	return "child"
}

// Span is one timed operation of a trace. Start makes one with Tracer.Start, ends it with Finish;
// in between it takes tags, a result code, an error and baggage. All methods are safe for
// concurrent use; after Finish (which is idempotent) the mutators do nothing. A nil *Span and the
// span SpanFromContext returns for a context without one are no-op spans: every method is safe and
// does nothing.
//
// The ids (TraceID, SpanID, ParentID) and Sampled are fixed at start.
type Span struct {
	parent   context.Context // the context Start was given; the span is a context derived from it
	children atomic.Uint64
	mu       sync.Mutex
	rec      FinishedSpan // written under mu until finished, immutable after; rec.tracer is nil for a no-op span
	// idBuf holds the bytes of a short child span id, so that the id string needs no allocation of
	// its own (see Tracer.Start); it is written once, before the span is published.
	idBuf [idBufLen]byte
}

// idBufLen fits the SOFA span ids of the first levels of a trace ("0.12.3.45.6.78").
const idBufLen = 16

// noopSpan is what SpanFromContext returns when there is no span; it is born finished.
var noopSpan = &Span{rec: FinishedSpan{finished: true}}

// spanKey is the context key of the span.
type spanKey struct{}

// spanCtx is a Span seen as the context.Context it is derived from, with the span in it: the span
// and its context are one allocation.
type spanCtx Span

func (c *spanCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }
func (c *spanCtx) Done() <-chan struct{}       { return c.parent.Done() }
func (c *spanCtx) Err() error                  { return c.parent.Err() }
func (c *spanCtx) String() string              { return "trace.Span(" + c.rec.spanID + ")" }

func (c *spanCtx) Value(key any) any {
	if _, ok := key.(spanKey); ok {
		return (*Span)(c)
	}
	return c.parent.Value(key)
}

// spanRef carries a span in a context other than the one it was started with.
type spanRef struct {
	context.Context
	s *Span
}

func (r *spanRef) Value(key any) any {
	if _, ok := key.(spanKey); ok {
		return r.s
	}
	return r.Context.Value(key)
}

// SpanFromContext returns the span of ctx, or a no-op span when there is none (or ctx is nil). It
// never returns nil.
func SpanFromContext(ctx context.Context) *Span {
	if s := spanOf(ctx); s != nil {
		return s
	}
	return noopSpan
}

func spanOf(ctx context.Context) *Span {
	if ctx == nil {
		return nil
	}
	s, _ := ctx.Value(spanKey{}).(*Span)
	return s
}

// ContextWithSpan returns a copy of ctx carrying s, for handing a span to work that runs under
// another context. It does not change the MDC of ctx: spans started under the result are children
// of s, and their MDC shows their own ids.
func ContextWithSpan(ctx context.Context, s *Span) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if s == nil {
		s = noopSpan
	}
	return &spanRef{Context: ctx, s: s}
}

// IsLoadTest reports whether the span of ctx carries the load-test mark (biz baggage mark=T).
func IsLoadTest(ctx context.Context) bool {
	return SpanFromContext(ctx).IsLoadTest()
}

// inherit sets the baggage a new span starts with; nil (empty) pointers need no write.
func (s *Span) inherit(sys, biz *bag) {
	if sys != nil {
		s.rec.sys.Store(sys)
	}
	if biz != nil {
		s.rec.biz.Store(biz)
	}
}

func (s *Span) live() bool { return s != nil && s.rec.tracer != nil }

// Tracer returns the tracer that started s, nil for a no-op span.
func (s *Span) Tracer() *Tracer {
	if s == nil {
		return nil
	}
	return s.rec.tracer
}

// TraceID returns the trace id ("" for a no-op span).
func (s *Span) TraceID() string {
	if s == nil {
		return ""
	}
	return s.rec.traceID
}

// SpanID returns the span id ("" for a no-op span).
func (s *Span) SpanID() string {
	if s == nil {
		return ""
	}
	return s.rec.spanID
}

// ParentID returns the parent span id, "" for a root.
func (s *Span) ParentID() string {
	if s == nil {
		return ""
	}
	return s.rec.parentID
}

// Sampled reports whether the span's trace is sampled.
func (s *Span) Sampled() bool { return s != nil && s.rec.sampled }

// Context returns the span's context: its ids, sampled flag and current baggage.
func (s *Span) Context() SpanContext {
	if !s.live() {
		return SpanContext{}
	}
	return SpanContext{
		traceID:  s.rec.traceID,
		spanID:   s.rec.spanID,
		parentID: s.rec.parentID,
		sampled:  s.rec.sampled,
		sys:      Baggage{s.rec.sys.Load()},
		biz:      Baggage{s.rec.biz.Load()},
	}
}

// SetTag sets a string tag. A key set again keeps its position and takes the new value.
func (s *Span) SetTag(key, value string) { s.setTag(String(key, value)) }

// SetTagInt sets an integer tag.
func (s *Span) SetTagInt(key string, value int64) { s.setTag(Int64(key, value)) }

// SetTagBool sets a boolean tag.
func (s *Span) SetTagBool(key string, value bool) { s.setTag(Bool(key, value)) }

// Tag returns the value of the tag key and whether the span has it.
func (s *Span) Tag(key string) (TagValue, bool) {
	if !s.live() {
		return TagValue{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.more().tags.get(key)
}

// SetRoute sets the route template that served the request, such as "/orders/{id}": the TagRoute
// tag. The digest reporter keys the stat lines of HTTP spans on it rather than on the request's URL,
// so all the ids of one route count as one stat key; the digest line keeps the real URL. The HTTP
// middleware of package tracehttp sets it after the handler ran (from Go's ServeMux pattern, or its
// WithRoute function) unless the handler set it first.
func (s *Span) SetRoute(route string) { s.SetTag(TagRoute, route) }

// Operation returns the span's operation name: the one given to Start, or to SetOperation since
// ("" for a no-op span).
func (s *Span) Operation() string {
	if !s.live() {
		return ""
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.operation
}

// SetOperation renames the span, as OpenTracing's SetOperationName: a server span named before
// routing can take the route's name ("GET /orders/{id}") once a handler knows it. The sampling
// decision and the start hooks saw the name given to Start.
func (s *Span) SetOperation(name string) {
	if !s.live() {
		return
	}
	s.mu.Lock()
	if !s.rec.finished {
		s.rec.operation = name
	}
	s.mu.Unlock()
}

// SetTags sets several tags, in order.
func (s *Span) SetTags(tags ...Tag) {
	if !s.live() {
		return
	}
	s.mu.Lock()
	if !s.rec.finished {
		x := s.rec.extra()
		for _, t := range tags {
			x.tags.set(t)
		}
	}
	s.mu.Unlock()
}

func (s *Span) setTag(t Tag) {
	if !s.live() {
		return
	}
	s.mu.Lock()
	if !s.rec.finished {
		s.rec.extra().tags.set(t)
	}
	s.mu.Unlock()
}

// SetResultCode sets the result code ("result.code" in a digest line): the HTTP status, or SOFA's
// "00" success, "99" error, "03" timeout.
func (s *Span) SetResultCode(code string) {
	if !s.live() {
		return
	}
	s.mu.Lock()
	if !s.rec.finished {
		s.rec.extra().resultCode = code
	}
	s.mu.Unlock()
}

// SetError records err as the span's error; a nil err clears it. Errors are immutable by Go
// convention: err is kept, and its message read when a reporter asks for it.
func (s *Span) SetError(err error) {
	if !s.live() {
		return
	}
	s.mu.Lock()
	if !s.rec.finished && (err != nil || s.rec.x != nil) {
		s.rec.extra().err = err
	}
	s.mu.Unlock()
}

// SetBaggageItem sets a biz baggage entry, carried to every later child and, by propagators, to
// other processes; an empty value deletes the key. An entry over the tracer's limit (see
// WithBaggageLimits) or past MaxBaggageEntries is refused whole, counted in Stats.BaggageRefused and
// reported to the ErrorReporters as a *BaggageError.
func (s *Span) SetBaggageItem(key, value string) { s.setBaggage(key, value, false) }

// BaggageItem returns the biz baggage value of key.
func (s *Span) BaggageItem(key string) string {
	if !s.live() {
		return ""
	}
	v, _ := Baggage{s.rec.biz.Load()}.Get(key)
	return v
}

// SetSysBaggageItem sets a sys baggage entry, as SetBaggageItem does for biz baggage.
func (s *Span) SetSysBaggageItem(key, value string) { s.setBaggage(key, value, true) }

// SysBaggageItem returns the sys baggage value of key.
func (s *Span) SysBaggageItem(key string) string {
	if !s.live() {
		return ""
	}
	v, _ := Baggage{s.rec.sys.Load()}.Get(key)
	return v
}

// SetLoadTest sets (mark=T) or removes the load-test mark in the biz baggage. The mark reaches the
// MDC only of spans started after it is set: mark a request before starting its span
// (WithLoadTest), or rely on the propagated baggage.
func (s *Span) SetLoadTest(on bool) {
	v := ""
	if on {
		v = "T"
	}
	s.setBaggage(BaggageKeyLoadTest, v, false)
}

// IsLoadTest reports whether the span carries the load-test mark.
func (s *Span) IsLoadTest() bool {
	if !s.live() {
		return false
	}
	v, _ := Baggage{s.rec.biz.Load()}.Get(BaggageKeyLoadTest)
	return v == "T"
}

func (s *Span) setBaggage(key, value string, sys bool) {
	if !s.live() {
		return
	}
	p, limit := &s.rec.biz, s.rec.tracer.cfg.bizLimit
	if sys {
		p, limit = &s.rec.sys, s.rec.tracer.cfg.sysLimit
	}
	s.mu.Lock()
	if s.rec.finished {
		s.mu.Unlock()
		return
	}
	nb, err := Baggage{p.Load()}.set(key, value, limit, sys)
	p.Store(nb.b)
	s.mu.Unlock()
	if err != nil {
		s.rec.tracer.stats.baggageRefused.Add(1)
		s.rec.tracer.report(err)
	}
}

// Finish ends the span now. Only the first Finish (or FinishAt) counts; later calls do nothing.
func (s *Span) Finish() {
	if !s.live() {
		return
	}
	s.finish(time.Time{}, true)
}

// FinishAt ends the span at t: the span's record is sealed, the extensions' OnFinish hooks run
// (last registered first), then the reporters get the record. Only the first call counts. An end
// before the start gives a zero Duration.
func (s *Span) FinishAt(t time.Time) {
	if !s.live() {
		return
	}
	s.finish(t, false)
}

func (s *Span) finish(t time.Time, now bool) {
	s.mu.Lock()
	if s.rec.finished {
		s.mu.Unlock()
		return
	}
	if now {
		// With a monotonic start (the usual case) this reads the monotonic clock only.
		s.rec.dur = time.Since(s.rec.start) - s.rec.off
	} else {
		s.rec.dur = t.Sub(s.rec.start) - s.rec.off
	}
	s.rec.finished = true
	s.mu.Unlock()
	// The extensions' OnFinish hooks, last registered first, then the reporters.
	tr := s.rec.tracer
	for i := len(tr.cfg.exts) - 1; i >= 0; i-- {
		tr.callFinish(tr.cfg.exts[i], s)
	}
	for _, r := range tr.cfg.reporters {
		tr.callReport(r, &s.rec)
	}
}

// Finished reports whether the span has been finished.
func (s *Span) Finished() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rec.finished
}

// Record returns the finished-span record, or nil before Finish (and for a no-op span).
func (s *Span) Record() *FinishedSpan {
	if !s.live() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.rec.finished {
		return nil
	}
	return &s.rec
}

// FinishedSpan is the immutable record of a finished span: everything a digest line needs. A
// Reporter may keep it after Report returns, and read it from any goroutine.
type FinishedSpan struct {
	tracer                    *Tracer
	operation                 string
	traceID, spanID, parentID string
	sys, biz                  atomic.Pointer[bag] // replaced whole under the span's mu until finished
	// The span started off after start. A child of a local span keeps its parent's start and
	// only the offset read on the monotonic clock: the sum, which few readers need (the digest
	// reporter's consumer goroutine, not the caller), is made when it is read.
	start   time.Time
	off     time.Duration
	dur     time.Duration // end - (start + off), possibly negative (FinishAt)
	x       *spanExtra    // nil until one of its fields is set
	kind    Kind
	sampled bool
	// The state of the span that holds the record, kept here where it fills the padding after
	// kind and sampled.
	finished bool  // under the span's mu
	mono     bool  // start carries a monotonic clock reading; fixed at start
	depth    int16 // components of a SOFA span id (at most MaxSpanIDLen/2+1); fixed at start
	kept     keptID
}

// keptID says whether a span shares its span id with a span of its caller; fixed at start.
type keptID uint8

const (
	keptOwn    keptID = 1 << iota // the span kept its remote parent's span id (ServerSpanKeep)
	keptParent                    // its local parent is a span that did
)

// spanExtra holds what many spans never set: the log type, result code, error and tags. A span
// carries a nil pointer until it sets one of them, which keeps a bare span (and a child span with
// its MDC context) a smaller allocation. The first tags live in the same allocation.
type spanExtra struct {
	logType    string
	resultCode string
	err        error
	tags       tagList
	inline     [tagsInitialCap]Tag
}

// extra returns f.x, allocating it on first use; the caller holds the span's mu, or the span is
// not yet published.
func (f *FinishedSpan) extra() *spanExtra {
	if f.x == nil {
		x := &spanExtra{}
		x.tags.tags = x.inline[:0]
		f.x = x
	}
	return f.x
}

// none stands for the fields of a span without spanExtra.
var none spanExtra

// App returns the application name of the tracer ("local.app").
func (f *FinishedSpan) App() string {
	if f.tracer == nil {
		return ""
	}
	return f.tracer.app
}

// Operation returns the operation name given to Start, or to Span.SetOperation since.
func (f *FinishedSpan) Operation() string { return f.operation }

// Kind returns the span kind.
func (f *FinishedSpan) Kind() Kind { return f.kind }

// LogType returns the log type (digest file family, e.g. "http-server"); "" when not set.
func (f *FinishedSpan) LogType() string { return f.more().logType }

// more returns f.x, or the empty spanExtra when there is none.
func (f *FinishedSpan) more() *spanExtra {
	if f.x == nil {
		return &none
	}
	return f.x
}

// TraceID returns the trace id.
func (f *FinishedSpan) TraceID() string { return f.traceID }

// SpanID returns the span id.
func (f *FinishedSpan) SpanID() string { return f.spanID }

// ParentID returns the parent span id, "" for a root.
func (f *FinishedSpan) ParentID() string { return f.parentID }

// Sampled reports whether the span is sampled. Reporters write no digest line for an unsampled span
// but still count it in stat logs.
func (f *FinishedSpan) Sampled() bool { return f.sampled }

// IsLoadTest reports whether the span carried the load-test mark (biz baggage mark=T) at finish.
func (f *FinishedSpan) IsLoadTest() bool {
	v, _ := f.BizBaggage().Get(BaggageKeyLoadTest)
	return v == "T"
}

// Start returns the start time.
func (f *FinishedSpan) Start() time.Time { return f.start.Add(f.off) }

// End returns the end time ("time" of a digest line): Start plus the elapsed time read on the
// monotonic clock when the span was started and finished with the current time, else the time given
// to FinishAt.
func (f *FinishedSpan) End() time.Time { return f.start.Add(f.off + f.dur) }

// Duration returns End - Start (with the monotonic clock when both times have it), at least 0.
func (f *FinishedSpan) Duration() time.Duration {
	if f.dur > 0 {
		return f.dur
	}
	return 0
}

// ResultCode returns the result code, "" when not set.
func (f *FinishedSpan) ResultCode() string { return f.more().resultCode }

// Err returns the error given to SetError, nil when none.
func (f *FinishedSpan) Err() error { return f.more().err }

// ErrorMessage returns the message of Err; "" when none.
func (f *FinishedSpan) ErrorMessage() string {
	err := f.Err()
	if err == nil {
		return ""
	}
	return err.Error()
}

// KeptRemoteID reports whether the span kept the span id (and parent id) of its remote parent: a
// span started with WithRemoteParent in ServerSpanKeep mode, as SOFARPC servers do. The caller's
// client span then has the same span id, which backends that key spans by id cannot tell apart;
// exporters give such a span an id of its own whose parent is that client span.
func (f *FinishedSpan) KeptRemoteID() bool { return f.kept&keptOwn != 0 }

// ParentKeptRemoteID reports whether the span's parent is a span of this process for which
// KeptRemoteID is true, so that an exporter can point the span at the id it gave its parent.
func (f *FinishedSpan) ParentKeptRemoteID() bool { return f.kept&keptParent != 0 }

// SysBaggage returns the sys baggage at finish.
func (f *FinishedSpan) SysBaggage() Baggage { return Baggage{f.sys.Load()} }

// BizBaggage returns the biz baggage at finish.
func (f *FinishedSpan) BizBaggage() Baggage { return Baggage{f.biz.Load()} }

// SpanContext returns the span's context at finish.
func (f *FinishedSpan) SpanContext() SpanContext {
	return SpanContext{traceID: f.traceID, spanID: f.spanID, parentID: f.parentID, sampled: f.sampled, sys: f.SysBaggage(), biz: f.BizBaggage()}
}

// NumTags returns the number of tags.
func (f *FinishedSpan) NumTags() int { return f.more().tags.len() }

// Tags calls fn for every tag, in the order the keys were first set, until fn returns false. It
// does not allocate; use it in a range loop: for t := range rec.Tags { ... }.
func (f *FinishedSpan) Tags(fn func(Tag) bool) { f.more().tags.each(fn) }

// Tag returns the value of the tag key.
func (f *FinishedSpan) Tag(key string) (TagValue, bool) { return f.more().tags.get(key) }
