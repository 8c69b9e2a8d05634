package propagation

import (
	"context"
	"errors"

	"github.com/tracemdc/tracemdc/trace"
)

// Composite combines propagators. Inject runs all of them, in order; Extract runs them in order and
// returns the first valid span context. Errors of formats rejected on the way, and the chosen format's
// *BaggageDropError if it dropped baggage, are joined and returned with it, so they can be counted even
// when a later format succeeds. Inject drops ErrIncompatibleIDs
// when another propagator wrote the context (a W3C member next to B3 in a tracer with SOFA ids is not
// an error). Nil members are ignored.
func Composite(ps ...Propagator) Propagator {
	out := make(composite, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, p)
		}
	}
	return out
}

// Default returns the propagator the HTTP integration uses unless told otherwise:
// Composite(B3, SofaHead extract-only, MOSN extract-only, W3C). It extracts SOFA B3 first, then
// sftc_head, then SOFA-TraceId/SOFA-RpcId, then traceparent; it injects B3, and W3C too when the span
// has W3C ids: a tracer with W3CIDGenerator, or a trace a W3C peer started (the default generator gives
// the spans of such a trace W3C span ids, see trace.SOFAIDGenerator). opts (such as WithBaggageLimits)
// apply to every member.
func Default(opts ...Option) Propagator {
	eo := append(append([]Option(nil), opts...), ExtractOnly())
	return Composite(B3(opts...), SofaHead(eo...), MOSN(eo...), W3C(opts...))
}

type composite []Propagator

func (cp composite) Inject(ctx context.Context, sc trace.SpanContext, c Carrier) error {
	var (
		errs         []error
		incompatible error
		wrote        bool
	)
	for _, p := range cp {
		err := p.Inject(ctx, sc, c)
		switch {
		case err == nil:
			wrote = true
		case errors.Is(err, ErrIncompatibleIDs):
			incompatible = err
		default:
			wrote = true // the rest of the context was written
			errs = append(errs, err)
		}
	}
	if !wrote && incompatible != nil {
		errs = append(errs, incompatible)
	}
	return errors.Join(errs...)
}

func (cp composite) Extract(ctx context.Context, c Carrier) (context.Context, trace.SpanContext, error) {
	var errs []error
	for _, p := range cp {
		ctx2, sc, err := p.Extract(ctx, c)
		if err != nil {
			errs = append(errs, err)
		}
		if sc.IsValid() {
			return ctx2, sc, errors.Join(errs...)
		}
	}
	return ctx, trace.SpanContext{}, errors.Join(errs...)
}
