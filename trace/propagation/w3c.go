package propagation

import (
	"context"

	"github.com/tracemdc/tracemdc/trace"
)

// W3C is W3C Trace Context (traceparent, version 00, with the sampled flag; tracestate carried through
// unchanged) plus the W3C baggage header for the biz baggage (sys baggage is not carried).
//
// Inject needs W3C ids — a 32-hex trace id and a 16-hex span id, as trace.W3CIDGenerator makes —
// and otherwise writes nothing and returns ErrIncompatibleIDs. Extract works whatever the tracer's id
// generator: the remote span's hex ids are valid ids for either. Extract returns the context with the
// inbound tracestate attached, and Inject writes it again for the same trace. A baggage header without
// traceparent is ignored. Several tracestate or baggage header fields are combined into one list when
// the carrier implements ValuesCarrier (HeaderCarrier does), and the combined tracestate is carried on
// if it is at most 512 characters of printable ASCII. In baggage, list-members that cannot be parsed
// are dropped and the others kept, as W3C Baggage asks, and so are members over the limits or past
// the first 8192 bytes; the context is returned with an *Error wrapping a *BaggageDropError (see
// Propagator).
func W3C(opts ...Option) Propagator { return w3cPropagator{newConfig(opts)} }

type w3cPropagator struct{ cfg config }

// traceState is the W3C tracestate of one inbound trace, kept in the context beside the span context.
type traceState struct{ traceID, value string }

type traceStateKey struct{}

func (p w3cPropagator) Inject(ctx context.Context, sc trace.SpanContext, c Carrier) error {
	if p.cfg.extractOnly || !sc.IsValid() || c == nil {
		return nil
	}
	if !IsW3CTraceID(sc.TraceID()) || !IsW3CSpanID(sc.SpanID()) {
		return newError("w3c", HeaderTraceparent, ErrIncompatibleIDs)
	}
	c.Set(HeaderTraceparent, formatTraceparent(sc.TraceID(), sc.SpanID(), sc.Sampled()))
	if ctx != nil {
		if ts, ok := ctx.Value(traceStateKey{}).(traceState); ok && ts.traceID == sc.TraceID() {
			c.Set(HeaderTracestate, ts.value)
		}
	}
	biz := sc.BizBaggage()
	if biz.Len() == 0 {
		return nil
	}
	s, err := encodeW3CBaggage(biz.Range)
	if s != "" {
		c.Set(HeaderBaggage, s)
	}
	if err != nil {
		return newError("w3c", HeaderBaggage, err)
	}
	return nil
}

func (p w3cPropagator) Extract(ctx context.Context, c Carrier) (context.Context, trace.SpanContext, error) {
	if c == nil {
		return ctx, trace.SpanContext{}, nil
	}
	tp := c.Get(HeaderTraceparent)
	if tp == "" {
		return ctx, trace.SpanContext{}, nil
	}
	var (
		r   record
		err error
	)
	r.traceID, r.spanID, r.sampled, err = parseTraceparent(tp)
	if err != nil {
		return ctx, trace.SpanContext{}, newError("w3c", HeaderTraceparent, err)
	}
	var d BaggageDropError
	if b := getList(c, HeaderBaggage); b != "" {
		r.biz = decodeW3CBaggage(b, p.cfg.lim, &d)
	}
	sc, err := p.cfg.build("w3c", HeaderBaggage, &r, &d)
	if !sc.IsValid() {
		return ctx, trace.SpanContext{}, err
	}
	if ts := getList(c, HeaderTracestate); ts != "" && validTracestate(ts) {
		if ctx == nil {
			ctx = context.Background()
		}
		ctx = context.WithValue(ctx, traceStateKey{}, traceState{traceID: r.traceID, value: ts})
	}
	return ctx, sc, err
}
