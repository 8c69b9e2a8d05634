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
//   - the zero SpanContext and an *Error when it is present but its ids or traceparent are malformed;
//   - a valid SpanContext and an *Error wrapping a *BaggageDropError (errors.Is(err,
//     ErrBaggageDropped)) when the context is well formed but some of its baggage was dropped: over the
//     limits, malformed, or past the part of a header that is parsed. The caller uses the context and
//     reports the error (trace.Tracer.ReportError counts each refused entry in Stats.BaggageRefused);
//   - a valid, sampled SpanContext and an *Error wrapping ErrSampledIgnored (which wraps
//     ErrInvalidSampled) when the ids are well formed but the sampled flag is not (X-B3-Sampled: yes):
//     the flag is ignored as if absent, and the ids and baggage (the load-test mark) are kept;
//   - with both of the last two, the two *Errors joined (errors.Join), the baggage one first.
//
// Extract never panics, and nothing of rejected input reaches the returned context. The returned
// context.Context is ctx, or ctx with the W3C tracestate attached. A caller decides by
// SpanContext.IsValid whether to continue the trace, not by the error: Composite, too, returns a valid
// SpanContext with an error that reports a format rejected before the one used.
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

// build turns a decoded record into a span context with trace.NewSpanContext. An absent or empty
// parent id is derived from an rpcId-style span id (record.deriveParent). A bad id rejects the
// input (the zero SpanContext and an *Error: the caller starts a new root). Baggage never does: what
// the decoder dropped (d) and anything NewSpanContext refused come back as an *Error wrapping a
// *BaggageDropError, beside the valid context. Nor does an invalid sampled flag (r.badSampled): an
// *Error wrapping ErrSampledIgnored; with both, the two are joined, the baggage error first.
func (c *config) build(prop, field string, r *record, d *BaggageDropError) (trace.SpanContext, error) {
	r.deriveParent()
	sc, err := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: r.traceID, SpanID: r.spanID, ParentID: r.parentID, Sampled: r.sampled,
		Sys: r.sys, Biz: r.biz, SysLimit: c.lim.sys, BizLimit: c.lim.biz,
	})
	if !sc.IsValid() {
		return trace.SpanContext{}, newError(prop, "", err)
	}
	if u, ok := err.(interface{ Unwrap() []error }); ok { // the decoders keep within the same limits: a safety net
		var be *trace.BaggageError
		for _, e := range u.Unwrap() {
			if errors.As(e, &be) {
				d.Refused = append(d.Refused, *be)
			}
		}
	}
	var errs [2]error
	n := 0
	if e := dropped(d); e != nil {
		errs[n], n = newError(prop, field, e), n+1
	}
	if r.badSampled != "" {
		errs[n], n = newError(prop, r.badSampled, ErrSampledIgnored), n+1
	}
	switch n {
	case 0:
		return sc, nil
	case 1:
		return sc, errs[0]
	}
	return sc, errors.Join(errs[:n]...)
}

// B3 is SOFATracer's HTTP format: B3 header names carrying SOFA (or any) ids — X-B3-TraceId,
// X-B3-SpanId, X-B3-ParentSpanId, X-B3-Sampled ("true"/"false" written; 1, 0, true, false read) —
// biz baggage as baggage-<key> and sys baggage as baggage-sys-<key>. Values are written and read byte
// for byte as SOFATracer's HttpHeadersB3Formatter does: a baggage value SOFA-escaped ('%' → %25,
// '&' → %26, '=' → %3D) and then URL-encoded as Java's URLEncoder does (A-Z a-z 0-9 . - * _ kept,
// space → '+', every other byte %XX), so a&b=c travels as a%2526b%253Dc and "hello world" as
// hello+world; a baggage key SOFA-escaped only, in the header name. Extract URL-decodes every value
// (ids and X-B3-Sampled too, as SOFATracer does; '+' is a space) and then SOFA-unescapes baggage
// values (%25, %26 and %3D only). A baggage value with a '%' not followed by two hex digits, where
// Java's URLDecoder throws (and a SOFATracer server fails the request), costs only that entry: it is
// dropped and counted (BaggageDropError.Malformed, ErrMalformedBaggage); such an id is invalid.
//
// Extract needs both X-B3-TraceId and X-B3-SpanId (one without the other is ErrMissingID). A parent id
// that is absent or empty is derived, as SOFATracer derives it, from an rpcId-style span id: the part
// before its last '.' (X-B3-SpanId 0.1.2 → parent 0.1; a root "0", or a W3C-style hex id, has none). An
// X-B3-Sampled other than 1, 0, true or false (any case; B3's debug is X-B3-Flags, not a sampled
// value, so "d" is invalid here), or a single-header sampling state other than 1, 0 or d, does not
// reject the context: it is ignored as if absent (the context is sampled, SOFA's default) and reported
// with ErrSampledIgnored (see Propagator). When
// neither is present it reads the single b3 header instead (HeaderB3Single: trace id, span id, sampling
// state 1, 0 or d, parent id, joined by '-'; the multi headers win when both forms are present); a b3
// header holding only a sampling state carries no context. Inject writes the multi headers only. Header
// names match case-insensitively and the first value wins. Baggage headers are taken in key order
// (carriers are maps); at most 4*trace.MaxBaggageEntries of them are read, and those over the limits
// are dropped and reported (see Propagator), the load-test mark first. Baggage keys come back in lower case,
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
	var d BaggageDropError
	r, present, err := decodeB3(c, p.cfg.lim, &d)
	if !present {
		if s := c.Get(HeaderB3Single); s != "" {
			if r, present, err = decodeB3Single(s); present && err != nil {
				return ctx, trace.SpanContext{}, newError("b3", HeaderB3Single, err)
			}
			if present {
				readB3Baggage(c, &r, p.cfg.lim, &d)
			}
		}
	}
	if !present {
		return ctx, trace.SpanContext{}, nil
	}
	if err != nil {
		return ctx, trace.SpanContext{}, newError("b3", b3Field(err), err)
	}
	sc, err := p.cfg.build("b3", "baggage-*", &r, &d)
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
// with keys and values escaped by EscapeSOFA. Inject always writes the four context fields, a root's
// empty parent id as "pspid=&", byte for byte as SOFATracer serializes a context.
//
// Extract skips entries with an empty key or value, takes a missing spid as "0", derives a missing or
// empty pspid from an rpcId-style spid as SOFATracer does (spid=0.1.1 → 0.1; none for "0" or a
// W3C-style hex id), and rejects a value
// without tcid (ErrMissingID). A sample that is not true, false, 1 or 0 is ignored as if absent (the
// context is sampled) and reported with ErrSampledIgnored (see Propagator). Baggage over the limits is dropped and reported (see Propagator), and
// only the entries that end within the first 8192 bytes of the value are parsed.
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
	var d BaggageDropError
	r, err := decodeSofaHead(s, p.cfg.lim, &d)
	if err != nil {
		return ctx, trace.SpanContext{}, newError("sftc_head", HeaderSofaHead, err)
	}
	sc, err := p.cfg.build("sftc_head", HeaderSofaHead, &r, &d)
	return ctx, sc, err
}

// MOSN is the format MOSN speaks over HTTP: SOFA-TraceId and SOFA-RpcId headers (the rpcId is the
// span id). It carries no parent id, sampled flag or baggage: an extracted context is sampled, and
// its parent id is what comes before the last '.' of the rpcId (none for a root "0", nor for an id
// that is not rpcId style). Extract needs both headers. Inject
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
	sc, err := p.cfg.build("sofa-rpcid", "", &r, new(BaggageDropError))
	return ctx, sc, err
}
