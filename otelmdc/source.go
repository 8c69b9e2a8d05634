package otelmdc

import (
	"context"
	"encoding/hex"
	"sync/atomic"
	"unsafe"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/mdc"
)

// SourceOption configures the source made by NewSource.
type SourceOption interface{ apply(*sourceConfig) }

type sourceConfig struct {
	sampled, parent bool
}

type sourceOptionFunc func(*sourceConfig)

func (f sourceOptionFunc) apply(c *sourceConfig) { f(c) }

// WithSampled makes the source also give mdc.KeySampled, "true" or "false": the field of
// mdc.GoogleCloud's logging.googleapis.com/trace_sampled.
func WithSampled() SourceOption {
	return sourceOptionFunc(func(c *sourceConfig) { c.sampled = true })
}

// WithParentID makes the source also give mdc.KeyParentSpanID, the parent span id, when it is known:
// for a span of the OpenTelemetry SDK (an sdktrace.ReadOnlySpan) that has a parent. A span context
// carried without its span (a remote one, say) has no parent to give.
func WithParentID() SourceOption {
	return sourceOptionFunc(func(c *sourceConfig) { c.parent = true })
}

// NewSource returns an mdc.Source that reads the OpenTelemetry span current in a context
// (trace.SpanContextFromContext) and gives its ids as mdc.KeyTraceID (32 hex) and mdc.KeySpanID
// (16 hex), and, with the options, mdc.KeySampled and mdc.KeyParentSpanID. A context without a valid
// span context gives nothing. Register it once, and every slog, zap and logrus line written through
// tracemdc's adapters shows the ids of the span current at that line, whoever started it:
//
//	defer mdc.AddSource(otelmdc.NewSource())()
//
// The hex text of a span's ids is made once, at the span's first line, and kept in a small cache of
// recent spans (256 slots, replaced as new spans come), so the following lines of a span cost no
// allocation; a span whose slot was taken by another pays one allocation again.
func NewSource(opts ...SourceOption) mdc.Source {
	var c sourceConfig
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return &source{cfg: c}
}

// cacheSlots is the number of spans whose id text a source keeps.
const cacheSlots = 256

type source struct {
	cfg   sourceConfig
	cache [cacheSlots]atomic.Pointer[idText]
}

// idText is the immutable text of one span's ids and the pairs a source returns for it, in one
// allocation; it is found again by the ids and flags it was made from.
type idText struct {
	tid     oteltrace.TraceID
	sid     oteltrace.SpanID
	pid     oteltrace.SpanID // zero when no parent is given
	sampled bool
	n       int
	pairs   [4]mdc.Pair
	text    [2*16 + 2*8 + 2*8]byte // trace id, span id, parent span id in hex
}

// Pairs returns the ids of the span current in ctx.
func (s *source) Pairs(ctx context.Context) []mdc.Pair {
	span := oteltrace.SpanFromContext(ctx)
	sc := span.SpanContext()
	if !sc.IsValid() {
		return nil
	}
	var pid oteltrace.SpanID
	if s.cfg.parent {
		if ro, ok := span.(sdktrace.ReadOnlySpan); ok {
			pid = ro.Parent().SpanID()
		}
	}
	tid, sid, sampled := sc.TraceID(), sc.SpanID(), sc.IsSampled()
	slot := &s.cache[sid[7]] // span ids are random: their last byte spreads them over the slots
	if e := slot.Load(); e != nil && e.sid == sid && e.tid == tid && e.pid == pid && e.sampled == sampled {
		return e.pairs[:e.n]
	}
	e := &idText{tid: tid, sid: sid, pid: pid, sampled: sampled}
	hex.Encode(e.text[0:32], tid[:])
	hex.Encode(e.text[32:48], sid[:])
	e.pairs[0] = mdc.Pair{Key: mdc.KeyTraceID, Value: unsafe.String(&e.text[0], 32)}
	e.pairs[1] = mdc.Pair{Key: mdc.KeySpanID, Value: unsafe.String(&e.text[32], 16)}
	e.n = 2
	if s.cfg.sampled {
		v := "false"
		if sampled {
			v = "true"
		}
		e.pairs[e.n] = mdc.Pair{Key: mdc.KeySampled, Value: v}
		e.n++
	}
	if pid.IsValid() {
		hex.Encode(e.text[48:64], pid[:])
		e.pairs[e.n] = mdc.Pair{Key: mdc.KeyParentSpanID, Value: unsafe.String(&e.text[48], 16)}
		e.n++
	}
	slot.Store(e)
	return e.pairs[:e.n]
}
