package propagation

import (
	"context"
	"errors"

	"github.com/tracemdc/tracemdc/trace"
)

// Propagator writes a span context into a carrier and reads one back. Implementations are immutable
// values, safe for concurrent use.
//
// Inject writes sc (a valid context) into c. ctx supplies what travels beside the span context: the W3C
// tracestate that Extract attached to it. An error means that part of sc could not be written (ids the
// format cannot carry, a baggage key it cannot spell); everything else is written, and the caller counts
// the error (trace.Tracer.ReportError) and goes on.
//
// Extract reads a span context from c. It returns:
//   - a valid SpanContext and a nil error when the format is present and well formed;
//   - the zero SpanContext and a nil error when the format is absent;
//   - the zero SpanContext and an *Error when it is present but malformed or over a limit.
//
// Extract never panics, and nothing of rejected input reaches the returned context. The returned
// context.Context is ctx, or ctx with the W3C tracestate attached. Only Composite may return a valid
// SpanContext together with an error (the error then reports a rejected format that came before the one
// used).
type Propagator interface {
	Inject(ctx context.Context, sc trace.SpanContext, c Carrier) error
	Extract(ctx context.Context, c Carrier) (context.Context, trace.SpanContext, error)
}

// Option configures a propagator.
type Option interface{ apply(*config) }

type config struct {
	lim         limits
	extractOnly bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithBaggageLimits sets the biz and sys baggage size limits that extracted baggage must fit, in bytes
// (len(key)+len(value) summed). Pass the tracer's limits: WithBaggageLimits(tracer.BaggageLimits()).
// Zero or less keeps trace.DefaultBaggageLimit.
func WithBaggageLimits(biz, sys int) Option {
	return optionFunc(func(c *config) { c.lim = limits{biz: biz, sys: sys} })
}

// ExtractOnly makes the propagator read its format but never write it: Inject does nothing.
func ExtractOnly() Option {
	return optionFunc(func(c *config) { c.extractOnly = true })
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	c.lim = c.lim.orDefault()
	return c
}

// build turns a decoded record into a span context with trace.NewSpanContext. Any refusal (a bad id, a
// baggage entry over the limits) rejects the whole input: the caller starts a new root.
func (c *config) build(prop string, r *record) (trace.SpanContext, error) {
	sc, err := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: r.traceID, SpanID: r.spanID, ParentID: r.parentID, Sampled: r.sampled,
		Sys: r.sys, Biz: r.biz, SysLimit: c.lim.sys, BizLimit: c.lim.biz,
	})
	if err != nil {
		return trace.SpanContext{}, newError(prop, "", err)
	}
	return sc, nil
}

// B3 is SOFATracer's HTTP format: B3 header names carrying SOFA (or any) ids — X-B3-TraceId,
// X-B3-SpanId, X-B3-ParentSpanId, X-B3-Sampled ("true"/"false" written; 1, 0, true, false read) —
// biz baggage as baggage-<key> and sys baggage as baggage-sys-<key>, values escaped with EscapeSOFA.
//
// Extract needs both X-B3-TraceId and X-B3-SpanId (one without the other is ErrMissingID). Header
// names match case-insensitively and the first value wins. Baggage keys come back in lower case,
// since net/http does not keep the case of a header name; sys baggage stays sys baggage only (unlike
// SOFATracer, which also copies it into biz baggage as sys-<key>).
func B3(opts ...Option) Propagator { return b3Propagator{newConfig(opts)} }

type b3Propagator struct{ cfg config }

func (p b3Propagator) Inject(_ context.Context, sc trace.SpanContext, c Carrier) error {
	if p.cfg.extractOnly || !sc.IsValid() || c == nil {
		return nil
	}
	if err := encodeB3(sc, c); err != nil {
		return newError("b3", "baggage", err)
	}
	return nil
}

func (p b3Propagator) Extract(ctx context.Context, c Carrier) (context.Context, trace.SpanContext, error) {
	if c == nil {
		return ctx, trace.SpanContext{}, nil
	}
	r, present, err := decodeB3(c, p.cfg.lim)
	if !present {
		return ctx, trace.SpanContext{}, nil
	}
	if err != nil {
		return ctx, trace.SpanContext{}, newError("b3", b3Field(err), err)
	}
	sc, err := p.cfg.build("b3", &r)
	return ctx, sc, err
}

func b3Field(err error) string {
	switch {
	case errors.Is(err, ErrInvalidTraceID):
		return HeaderB3TraceID
	case errors.Is(err, ErrInvalidSpanID):
		return HeaderB3SpanID
	case errors.Is(err, ErrInvalidParentID):
		return HeaderB3ParentSpanID
	case errors.Is(err, ErrInvalidSampled):
		return HeaderB3Sampled
	case errors.Is(err, ErrMissingID):
		return HeaderB3TraceID + "/" + HeaderB3SpanID
	}
	return "baggage-*"
}

// HeaderSofaHead is the header of SOFATracer's text format: the serialized SOFA context.
const HeaderSofaHead = "Sftc_head"

// SofaHead is SOFATracer's text format: one header, sftc_head, holding the serialized context
// tcid=<traceId>&spid=<spanId>&pspid=<parentId>&sample=<true|false>&_sys_<k>=<v>&…<k>=<v>&…
// with keys and values escaped by EscapeSOFA.
//
// Extract skips entries with an empty key or value, takes a missing spid as "0", and rejects a value
// without tcid (ErrMissingID).
func SofaHead(opts ...Option) Propagator { return sofaHeadPropagator{newConfig(opts)} }

type sofaHeadPropagator struct{ cfg config }

func (p sofaHeadPropagator) Inject(_ context.Context, sc trace.SpanContext, c Carrier) error {
	if p.cfg.extractOnly || !sc.IsValid() || c == nil {
		return nil
	}
	s, err := encodeSofaHead(sc)
	c.Set(HeaderSofaHead, s)
	if err != nil {
		return newError("sftc_head", HeaderSofaHead, err)
	}
	return nil
}

func (p sofaHeadPropagator) Extract(ctx context.Context, c Carrier) (context.Context, trace.SpanContext, error) {
	if c == nil {
		return ctx, trace.SpanContext{}, nil
	}
	s := c.Get(HeaderSofaHead)
	if s == "" {
		return ctx, trace.SpanContext{}, nil
	}
	r, err := decodeSofaHead(s, p.cfg.lim)
	if err != nil {
		return ctx, trace.SpanContext{}, newError("sftc_head", HeaderSofaHead, err)
	}
	sc, err := p.cfg.build("sftc_head", &r)
	return ctx, sc, err
}

// MOSN is the format MOSN speaks over HTTP: SOFA-TraceId and SOFA-RpcId headers (the rpcId is the
// span id). It carries no parent id, sampled flag or baggage: an extracted context is sampled, and
// its parent id is what comes before the last '.' of the rpcId. Extract needs both headers. Inject
// writes both unless ExtractOnly is given.
func MOSN(opts ...Option) Propagator { return mosnPropagator{newConfig(opts)} }

type mosnPropagator struct{ cfg config }

func (p mosnPropagator) Inject(_ context.Context, sc trace.SpanContext, c Carrier) error {
	if p.cfg.extractOnly || !sc.IsValid() || c == nil {
		return nil
	}
	encodeMOSN(sc, c)
	return nil
}

func (p mosnPropagator) Extract(ctx context.Context, c Carrier) (context.Context, trace.SpanContext, error) {
	if c == nil {
		return ctx, trace.SpanContext{}, nil
	}
	r, present, err := decodeMOSN(c)
	if !present {
		return ctx, trace.SpanContext{}, nil
	}
	if err != nil {
		field := HeaderSofaTraceID
		if errors.Is(err, ErrInvalidSpanID) {
			field = HeaderSofaRpcID
		}
		return ctx, trace.SpanContext{}, newError("sofa-rpcid", field, err)
	}
	sc, err := p.cfg.build("sofa-rpcid", &r)
	return ctx, sc, err
}
