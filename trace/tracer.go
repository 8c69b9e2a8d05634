package trace

import (
	"context"
	"errors"
	"runtime/debug"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tracemdc/tracemdc/mdc"
)

// Reporter receives every finished span, sampled or not. Report is called synchronously from
// Finish, on the finishing goroutine, so it must be quick (hand the record to a queue) and safe for
// concurrent use. The record is immutable: Report may keep it and read it from any goroutine. A
// panic in Report is recovered and counted; the caller of Finish never sees it.
type Reporter interface {
	Report(s *FinishedSpan)
}

// ReporterFunc is a Reporter made of a function.
type ReporterFunc func(s *FinishedSpan)

// Report calls f.
func (f ReporterFunc) Report(s *FinishedSpan) { f(s) }

// ErrorReporter is implemented by reporters that also take the tracer's own errors: recovered
// panics (*PanicError), refused baggage (*BaggageError), the depth limit (*DepthError), and what
// integrations pass to Tracer.ReportError (such as a malformed inbound header). The digest reporter
// writes them, rate-limited, to tracer-self.log. ReportError must be safe for concurrent use.
type ErrorReporter interface {
	ReportError(err error)
}

// Extension is a start/finish hook. OnStart runs when a span starts, after its ids are set, and
// returns the context Start gives back (ctx itself, or a context derived from it); OnFinish runs
// when it finishes, after its record is sealed (s.Record() is not nil) and before the reporters.
// Hooks run in registration order at start and in reverse order at finish; they run for unsampled
// spans too. A panic in a hook is recovered and counted; OnStart's context is then left as it was.
// Implementations must be safe for concurrent use.
type Extension interface {
	OnStart(ctx context.Context, s *Span) context.Context
	OnFinish(s *Span)
}

// Stats counts what went wrong inside the tracer without reaching the business code.
type Stats struct {
	ReporterPanics  uint64 // panics recovered from Reporter.Report and ErrorReporter.ReportError
	ExtensionPanics uint64 // panics recovered from Extension hooks
	BaggageRefused  uint64 // baggage entries refused (span setters, and *BaggageError in ReportError)
	DepthResets     uint64 // children past MaxDepth started as new roots
	Errors          uint64 // errors handed to the ErrorReporters, all of the above included
}

// Tracer starts spans for one application. It is safe for concurrent use and holds no goroutine or
// other resource, so it needs no Close; reporters own their resources.
type Tracer struct {
	app   string
	cfg   config
	errRs []ErrorReporter
	sofa  bool // cfg.ids is the SOFA generator: child ids are built in the span's idBuf
	stats struct {
		reporterPanics, extensionPanics, baggageRefused, depthResets, errors atomic.Uint64
	}
}

// config is built by New from the options.
type config struct {
	sampler    Sampler
	reporters  []Reporter
	exts       []Extension
	ids        IDGenerator
	mode       ServerSpanMode
	bizLimit   int
	sysLimit   int
	mdcOn      bool
	mdcParent  bool
	mdcSampled bool
}

// Option configures a Tracer.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithSampler sets the sampler deciding at the roots of traces (default AlwaysSample). A nil
// sampler is ignored.
func WithSampler(s Sampler) Option {
	return optionFunc(func(c *config) {
		if s != nil {
			c.sampler = s
		}
	})
}

// WithReporter adds a reporter; repeat it for several (digest files and an exporter, say).
// Reporters get each finished span in the order they were added, on the goroutine that finishes it:
// a panicking one is recovered and counted and the others still get the span, but a slow one delays
// the ones after it and the caller of Finish, so a reporter that does I/O hands the span to a queue,
// as digest.Reporter and export.Exporter do (with their Discard policy, never waiting). A nil
// reporter is ignored.
func WithReporter(r Reporter) Option {
	return optionFunc(func(c *config) {
		if r != nil {
			c.reporters = append(c.reporters, r)
		}
	})
}

// WithExtension adds a start/finish hook; repeat it for several. The MDC extension, on by default,
// runs before all of them. A nil extension is ignored.
func WithExtension(e Extension) Option {
	return optionFunc(func(c *config) {
		if e != nil {
			c.exts = append(c.exts, e)
		}
	})
}

// WithIDGenerator sets the id generator: SOFAIDGenerator (the default) or W3CIDGenerator, or a
// custom one. A nil generator is ignored.
func WithIDGenerator(g IDGenerator) Option {
	return optionFunc(func(c *config) {
		if g != nil {
			c.ids = g
		}
	})
}

// WithDefaultServerSpanMode sets the tracer's server span mode: how every span started from a remote
// parent relates to it, unless its Start says otherwise with WithServerSpanMode (default
// ServerSpanChild, as SOFATracer's HTTP servers; ServerSpanKeep for an RPC service, as SOFARPC). The
// tracehttp middleware follows it too, unless given its own.
func WithDefaultServerSpanMode(m ServerSpanMode) Option {
	return optionFunc(func(c *config) { c.mode = m })
}

// WithBaggageLimits sets the size limits, in bytes (len(key)+len(value) summed), of the biz and the
// sys baggage of a span. A value of 0 or less keeps DefaultBaggageLimit (1024).
func WithBaggageLimits(biz, sys int) Option {
	return optionFunc(func(c *config) {
		if biz > 0 {
			c.bizLimit = biz
		}
		if sys > 0 {
			c.sysLimit = sys
		}
	})
}

// WithoutMDC turns the MDC extension off: Start then leaves the MDC of the context alone.
func WithoutMDC() Option {
	return optionFunc(func(c *config) { c.mdcOn = false })
}

// WithMDCParentID makes the MDC extension also write the parent span id (mdc.KeyParentSpanID;
// a root removes it). Off by default, as in SOFATracer.
func WithMDCParentID(on bool) Option {
	return optionFunc(func(c *config) { c.mdcParent = on })
}

// WithMDCSampled makes the MDC extension also write mdc.KeySampled ("true" or "false"). Off by
// default.
func WithMDCSampled(on bool) Option {
	return optionFunc(func(c *config) { c.mdcSampled = on })
}

// New returns a tracer for the application app ("local.app" in digest lines).
//
// By default it samples every trace, makes SOFA ids, makes server spans children of their remote
// parent, limits each baggage to 1024 bytes, and writes the trace id and span id of every span into
// the MDC (mdc.KeyTraceID, mdc.KeySpanID, plus mdc.KeyLoadTest=T for load-test spans) of the
// context Start returns. It has no reporter until WithReporter adds one.
func New(app string, opts ...Option) *Tracer {
	t := &Tracer{app: app, cfg: config{
		sampler:  AlwaysSample(),
		ids:      SOFAIDGenerator(),
		mode:     ServerSpanChild,
		bizLimit: DefaultBaggageLimit,
		sysLimit: DefaultBaggageLimit,
		mdcOn:    true,
	}}
	for _, o := range opts {
		if o != nil {
			o.apply(&t.cfg)
		}
	}
	_, t.sofa = t.cfg.ids.(*sofaIDs)
	for _, r := range t.cfg.reporters {
		if er, ok := r.(ErrorReporter); ok {
			t.errRs = append(t.errRs, er)
		}
	}
	return t
}

// App returns the application name.
func (t *Tracer) App() string {
	if t == nil {
		return ""
	}
	return t.app
}

// BaggageLimits returns the biz and sys baggage size limits in bytes, for SpanContextConfig.
func (t *Tracer) BaggageLimits() (biz, sys int) {
	if t == nil {
		return DefaultBaggageLimit, DefaultBaggageLimit
	}
	return t.cfg.bizLimit, t.cfg.sysLimit
}

// IDGenerator returns the tracer's id generator.
func (t *Tracer) IDGenerator() IDGenerator {
	if t == nil {
		return SOFAIDGenerator()
	}
	return t.cfg.ids
}

// Stats returns a snapshot of the tracer's error counters.
func (t *Tracer) Stats() Stats {
	if t == nil {
		return Stats{}
	}
	return Stats{
		ReporterPanics:  t.stats.reporterPanics.Load(),
		ExtensionPanics: t.stats.extensionPanics.Load(),
		BaggageRefused:  t.stats.baggageRefused.Load(),
		DepthResets:     t.stats.depthResets.Load(),
		Errors:          t.stats.errors.Load(),
	}
}

// ReportError hands err to the tracer's ErrorReporters and counts it, for integrations whose errors
// must not reach the business code (a propagator's extract error, say). Each *BaggageError in err
// (errors.Join trees included) also counts in Stats.BaggageRefused, Count entries for one with Count
// set; so does each entry an error with a method BaggageDropped() int says it dropped (propagation's
// *BaggageDropError: refused, malformed and unread entries alike), in place of the *BaggageErrors it
// wraps. A nil err is ignored.
func (t *Tracer) ReportError(err error) {
	if t == nil || err == nil {
		return
	}
	if n := countBaggageErrors(err); n > 0 {
		t.stats.baggageRefused.Add(uint64(n))
	}
	t.report(err)
}

func countBaggageErrors(err error) int {
	switch e := err.(type) {
	case *BaggageError:
		return max(1, e.Count)
	case interface{ BaggageDropped() int }:
		return e.BaggageDropped()
	case interface{ Unwrap() []error }:
		n := 0
		for _, x := range e.Unwrap() {
			n += countBaggageErrors(x)
		}
		return n
	}
	if u := errors.Unwrap(err); u != nil {
		return countBaggageErrors(u)
	}
	return 0
}

func (t *Tracer) report(err error) {
	t.stats.errors.Add(1)
	for _, r := range t.errRs {
		t.callReportError(r, err)
	}
}

func (t *Tracer) callReportError(r ErrorReporter, err error) {
	defer func() {
		if v := recover(); v != nil {
			// Not reported again: the error path must not loop.
			t.stats.reporterPanics.Add(1)
		}
	}()
	r.ReportError(err)
}

// StartOption configures one Start call. It is a small value rather than an interface so that
// passing options allocates nothing. The zero StartOption does nothing, so a caller can pass one
// that only sometimes carries a setting.
type StartOption struct {
	code     optCode
	kind     Kind
	mode     ServerSpanMode
	str      string
	t        time.Time
	sc       SpanContext
	tags     []Tag
	tag      Tag
	loadTest bool
}

type optCode uint8

const (
	optNone optCode = iota
	optKind
	optLogType
	optRemote
	optMode
	optTime
	optTags
	optTag
	optLoadTest
	optNewRoot
)

// WithKind sets the span kind (default KindInternal).
func WithKind(k Kind) StartOption { return StartOption{code: optKind, kind: k} }

// WithLogType sets the log type: the digest file family the reporter writes the span to, such as
// "http-server", "http-client" or SOFATracer's "spring-mvc". The digest reporter chooses the layout
// by what the span is: an HTTP server or client span gets the HTTP layout in any log type without an
// encoder of its own.
func WithLogType(logType string) StartOption { return StartOption{code: optLogType, str: logType} }

// WithRemoteParent makes the span a child of a span in another process (see ServerSpanMode),
// taking its trace id, sampled flag and baggage. It wins over a span in the context. An invalid
// SpanContext is ignored.
func WithRemoteParent(sc SpanContext) StartOption { return StartOption{code: optRemote, sc: sc} }

// WithServerSpanMode sets the server span mode of this Start, overriding the tracer's
// (WithDefaultServerSpanMode).
func WithServerSpanMode(m ServerSpanMode) StartOption { return StartOption{code: optMode, mode: m} }

// WithStartTime sets the start time (default time.Now()).
func WithStartTime(t time.Time) StartOption { return StartOption{code: optTime, t: t} }

// WithTags sets initial tags, in order.
func WithTags(tags ...Tag) StartOption { return StartOption{code: optTags, tags: tags} }

// WithTag sets one initial string tag.
func WithTag(key, value string) StartOption {
	return StartOption{code: optTag, tag: String(key, value)}
}

// WithLoadTest puts the load-test mark (biz baggage mark=T) on the span from its start, so the MDC
// and every child carry it.
func WithLoadTest() StartOption { return StartOption{code: optLoadTest, loadTest: true} }

// WithNewRoot starts a new trace even when the context carries a span (a background job, say);
// a remote parent given with WithRemoteParent is ignored too.
func WithNewRoot() StartOption { return StartOption{code: optNewRoot} }

// Start starts a span named operation and returns it with a context carrying it (and, with the
// MDC extension, its ids in the MDC). The parent is, in this order: none with WithNewRoot, the
// remote parent of WithRemoteParent, the span of ctx; without one the span is the root of a new
// trace, sampled as the Sampler decides. A child inherits the trace id, the sampled flag and both
// baggages of its parent.
//
// The returned context is derived from ctx: ctx itself is unchanged, so after the child finishes the
// caller goes on logging with ctx and its parent's ids. A nil ctx is treated as
// context.Background(); a nil *Tracer returns ctx and a no-op span.
func (t *Tracer) Start(ctx context.Context, operation string, opts ...StartOption) (context.Context, *Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	if t == nil {
		return ctx, noopSpan
	}
	var (
		kind    Kind
		logType string
		remote  *SpanContext // in opts: no copy of the large option values
		mode    = t.cfg.mode
		start   *time.Time
		newRoot bool
		load    bool
	)
	ntags := 0
	for i := range opts {
		o := &opts[i]
		switch o.code {
		case optKind:
			kind = o.kind
		case optLogType:
			logType = o.str
		case optRemote:
			remote = &o.sc
		case optMode:
			mode = o.mode
		case optTime:
			start = &o.t
		case optTags:
			ntags += len(o.tags)
		case optTag:
			ntags++
		case optLoadTest:
			load = true
		case optNewRoot:
			newRoot = true
		}
	}
	hasRemote := !newRoot && remote != nil && remote.IsValid()
	var parent *Span
	if !newRoot && !hasRemote {
		parent = spanOf(ctx)
		if parent != nil && parent.rec.tracer == nil {
			parent = nil // a no-op span carried by ContextWithSpan
		}
	}

	// With the MDC extension on, the span and the node of its MDC context share one allocation.
	var s *Span
	var frame *mdc.Frame
	if t.cfg.mdcOn {
		x := new(mdcSpan)
		x.parent = ctx
		s, frame = &x.Span, &x.frame
	} else {
		s = &Span{parent: ctx}
	}
	r := &s.rec
	r.tracer, r.operation, r.kind = t, operation, kind
	if logType != "" {
		r.extra().logType = logType
	}
	switch {
	case start != nil && !start.IsZero():
		r.start = *start
	case parent != nil && parent.rec.mono:
		// The parent's start plus the monotonic time elapsed since: one read of the monotonic clock
		// instead of the wall clock and the monotonic clock. Within a minute the wall clock cannot
		// drift noticeably from it; the times of a trace stay consistent even if it steps. The sum
		// is left to FinishedSpan.Start (see FinishedSpan.off).
		if d := time.Since(parent.rec.start); d >= 0 && d < time.Minute {
			r.start, r.off, r.mono = parent.rec.start, d, true
			break
		}
		fallthrough
	default:
		r.start, r.mono = time.Now(), true
	}
	switch {
	case newRoot:
		t.root(s, kind, logType, operation)
	case hasRemote:
		r.traceID, r.sampled = remote.traceID, remote.sampled
		s.inherit(remote.sys.b, remote.biz.b)
		d := int16(depthOf(remote.spanID)) // at most MaxSpanIDLen/2+1
		if mode == ServerSpanKeep {
			r.spanID, r.parentID, r.depth, r.kept = remote.spanID, remote.parentID, d, keptOwn
		} else if d < MaxDepth {
			r.spanID, r.parentID, r.depth = t.cfg.ids.ChildSpanID(remote.spanID, 1), remote.spanID, d+1
		} else {
			t.depthReset(s, kind, logType, operation, remote.traceID, remote.spanID)
		}
	case parent != nil:
		s.inherit(parent.rec.sys.Load(), parent.rec.biz.Load())
		if parent.rec.depth < MaxDepth {
			r.traceID, r.sampled = parent.rec.traceID, parent.rec.sampled
			n := parent.children.Add(1)
			r.spanID, r.parentID, r.depth = t.childID(s, parent.rec.spanID, n), parent.rec.spanID, parent.rec.depth+1
			if parent.rec.kept&keptOwn != 0 {
				r.kept = keptParent
			}
		} else {
			t.depthReset(s, kind, logType, operation, parent.rec.traceID, parent.rec.spanID)
		}
	default:
		t.root(s, kind, logType, operation)
	}

	if ntags > 0 {
		x := r.extra()
		x.tags.grow(ntags)
		for i := range opts {
			switch o := &opts[i]; o.code {
			case optTags:
				for _, tg := range o.tags {
					x.tags.set(tg)
				}
			case optTag:
				x.tags.set(o.tag)
			}
		}
	}
	if load {
		nb, err := Baggage{s.rec.biz.Load()}.set(BaggageKeyLoadTest, "T", t.cfg.bizLimit, false)
		s.rec.biz.Store(nb.b)
		if err != nil {
			t.stats.baggageRefused.Add(1)
			t.report(err)
		}
	}

	out := context.Context((*spanCtx)(s))
	if t.cfg.mdcOn {
		out = t.mdcStart(out, s, frame)
	}
	for _, e := range t.cfg.exts {
		out = t.callStart(e, out, s)
	}
	return out, s
}

// mdcSpan is a span together with room for its MDC context (see Tracer.mdcStart).
type mdcSpan struct {
	Span
	frame mdc.Frame
}

// childID returns the id of the n-th child of parent. A short SOFA id is built in the span's own
// idBuf and shares its allocation: the bytes are written once, here, before the span is published,
// and never change, which is what unsafe.String requires.
func (t *Tracer) childID(s *Span, parent string, n uint64) string {
	if t.sofa {
		if l := childIDLen(parent, n); l <= idBufLen {
			putChildID(s.idBuf[:l], parent, n)
			return unsafe.String(&s.idBuf[0], l)
		}
	}
	return t.cfg.ids.ChildSpanID(parent, n)
}

func (t *Tracer) root(s *Span, kind Kind, logType, op string) {
	r := &s.rec
	r.traceID = t.cfg.ids.TraceID()
	r.spanID, r.parentID, r.depth = t.cfg.ids.RootSpanID(), "", 1
	r.sampled = t.cfg.sampler.ShouldSample(SamplingParameters{TraceID: r.traceID, Operation: op, Kind: kind, LogType: logType})
}

// depthReset starts s as a new root keeping only the biz baggage it already took from its parent.
// It reports a *DepthError.
func (t *Tracer) depthReset(s *Span, kind Kind, logType, op, oldTrace, parentID string) {
	s.rec.sys.Store(nil)
	t.root(s, kind, logType, op)
	t.stats.depthResets.Add(1)
	t.report(&DepthError{TraceID: oldTrace, ParentID: parentID, NewTraceID: s.rec.traceID, Operation: cut(op)})
}

// mdcStart is the MDC extension: it derives a context whose MDC holds the span's ids, stored in
// frame, which shares the span's allocation. Keys the MDC of ctx already has keep their position.
func (t *Tracer) mdcStart(ctx context.Context, s *Span, frame *mdc.Frame) context.Context {
	if !t.cfg.mdcParent && !t.cfg.mdcSampled && s.rec.biz.Load() == nil {
		// The usual case, no optional key and no baggage (so no load-test mark): the two ids.
		ps := [2]mdc.Pair{{Key: mdc.KeyTraceID, Value: s.rec.traceID}, {Key: mdc.KeySpanID, Value: s.rec.spanID}}
		return frame.With(ctx, ps[:]...)
	}
	var buf [5]mdc.Pair
	ps := append(buf[:0], mdc.Pair{Key: mdc.KeyTraceID, Value: s.rec.traceID}, mdc.Pair{Key: mdc.KeySpanID, Value: s.rec.spanID})
	dropParent := false
	if t.cfg.mdcParent {
		if s.rec.parentID != "" {
			ps = append(ps, mdc.Pair{Key: mdc.KeyParentSpanID, Value: s.rec.parentID})
		} else {
			_, dropParent = mdc.Get(ctx, mdc.KeyParentSpanID)
		}
	}
	if t.cfg.mdcSampled {
		v := "false"
		if s.rec.sampled {
			v = "true"
		}
		ps = append(ps, mdc.Pair{Key: mdc.KeySampled, Value: v})
	}
	if s.IsLoadTest() {
		ps = append(ps, mdc.Pair{Key: mdc.KeyLoadTest, Value: "T"})
	}
	ctx = frame.With(ctx, ps...)
	if dropParent {
		ctx = mdc.Without(ctx, mdc.KeyParentSpanID)
	}
	return ctx
}

func (t *Tracer) callStart(e Extension, ctx context.Context, s *Span) (out context.Context) {
	out = ctx
	defer func() {
		if v := recover(); v != nil {
			out = ctx
			t.stats.extensionPanics.Add(1)
			t.report(&PanicError{Hook: "extension start", Value: v, Stack: debug.Stack()})
		}
	}()
	if c := e.OnStart(ctx, s); c != nil {
		out = c
	}
	return out
}

func (t *Tracer) callFinish(e Extension, s *Span) {
	defer func() {
		if v := recover(); v != nil {
			t.stats.extensionPanics.Add(1)
			t.report(&PanicError{Hook: "extension finish", Value: v, Stack: debug.Stack()})
		}
	}()
	e.OnFinish(s)
}

func (t *Tracer) callReport(r Reporter, f *FinishedSpan) {
	defer func() {
		if v := recover(); v != nil {
			t.stats.reporterPanics.Add(1)
			t.report(&PanicError{Hook: "reporter", Value: v, Stack: debug.Stack()})
		}
	}()
	r.Report(f)
}
