package trace

import (
	"errors"
	"time"
)

// FinishedSpanConfig describes a span that another tracer finished (an OpenTelemetry SDK span, say),
// for Tracer.NewFinishedSpan.
type FinishedSpanConfig struct {
	Operation                 string
	TraceID, SpanID, ParentID string // TraceID and SpanID are required; ParentID is empty for a root
	Kind                      Kind
	LogType                   string // the digest file family; "" lets the reporter choose
	ResultCode                string
	Err                       error
	Sampled                   bool
	Start, End                time.Time // End before Start gives a zero Duration
	Tags                      []Tag     // in order; a key given again keeps its first position
	Sys, Biz                  []Pair    // the sys and biz baggage, in order
}

// NewFinishedSpan returns the record of a span that another tracer finished, so that the reporters
// written for this package (the digest reporter, the exporters) take it as one of t's own: its App is
// t's application name and its baggage obeys t's limits. It does not report the record: hand it to
// a Reporter. The ids are checked as NewSpanContext checks them (an *IDError, and a nil record, when
// one is empty, too long or holds a character other than letters, digits, '.', '-' and '_'); baggage
// entries over the limits are left out and returned as *BaggageError values joined in the error,
// with the record.
func (t *Tracer) NewFinishedSpan(c FinishedSpanConfig) (*FinishedSpan, error) {
	if err := errors.Join(checkID("traceId", c.TraceID, MaxTraceIDLen, false),
		checkID("spanId", c.SpanID, MaxSpanIDLen, false),
		checkID("parentId", c.ParentID, MaxSpanIDLen, true)); err != nil {
		return nil, err
	}
	// The record and its spanExtra in one allocation: a record from another tracer usually has both.
	r := &struct {
		f FinishedSpan
		x spanExtra
	}{}
	f := &r.f
	*f = FinishedSpan{
		tracer:    t,
		operation: c.Operation,
		traceID:   c.TraceID,
		spanID:    c.SpanID,
		parentID:  c.ParentID,
		start:     c.Start,
		dur:       c.End.Sub(c.Start),
		kind:      c.Kind,
		sampled:   c.Sampled,
		finished:  true,
	}
	if c.LogType != "" || c.ResultCode != "" || c.Err != nil || len(c.Tags) > 0 {
		x := &r.x
		x.tags.tags = x.inline[:0]
		f.x = x
		x.logType, x.resultCode, x.err = c.LogType, c.ResultCode, c.Err
		x.tags.grow(len(c.Tags))
		for _, tag := range c.Tags {
			x.tags.set(tag)
		}
	}
	sys, e1 := buildBaggage(c.Sys, t.cfg.sysLimit, true)
	biz, e2 := buildBaggage(c.Biz, t.cfg.bizLimit, false)
	f.sys.Store(sys.b)
	f.biz.Store(biz.b)
	return f, errors.Join(append(e1, e2...)...)
}
