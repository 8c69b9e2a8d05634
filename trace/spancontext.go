package trace

import (
	"errors"
	"strings"
)

// Id limits checked by NewSpanContext.
const (
	// MaxTraceIDLen is the longest trace id accepted from a peer (SOFA ids are 25 + len(pid)
	// characters, W3C ids 32).
	MaxTraceIDLen = 64
	// MaxSpanIDLen is the longest span or parent id accepted from a peer. It leaves room for SOFA
	// rpcId-style ids at the depth limit (MaxDepth components of up to four digits).
	MaxSpanIDLen = 512
	// MaxDepth is the most components a SOFA span id has ("0" has one, "0.1.1" three). A child that
	// would be deeper starts a new root (new trace id, span id of a root) that keeps the biz
	// baggage, as SOFATracer does; the tracer counts it in Stats.DepthResets.
	MaxDepth = 100
)

// SpanContext is the part of a span that crosses process boundaries: trace id, span id, parent
// span id, the sampled flag, and the sys and biz baggage. It is an immutable value, safe to copy
// and to share between goroutines. The zero SpanContext is not valid (IsValid reports false).
//
// A span's context is read with Span.Context; a propagator builds one from a request with
// NewSpanContext and hands it to Tracer.Start with WithRemoteParent.
type SpanContext struct {
	traceID, spanID, parentID string
	sampled                   bool
	sys, biz                  Baggage
}

// SpanContextConfig holds the fields NewSpanContext validates.
type SpanContextConfig struct {
	TraceID  string // required
	SpanID   string // required (SOFA: a missing span id means "0"; the propagator supplies it)
	ParentID string // may be empty (a root)
	Sampled  bool   // SOFA's default is true: set it explicitly
	Sys, Biz []Pair // the sys and biz baggage, in order; may be empty
	// SysLimit and BizLimit are the size limits in bytes; 0 or less means DefaultBaggageLimit.
	// A propagator passes the limits of its tracer (Tracer.BaggageLimits).
	SysLimit, BizLimit int
}

// NewSpanContext validates cfg and returns the span context it describes.
//
// Ids must be non-empty (the parent id may be empty), at most MaxTraceIDLen (trace id) or
// MaxSpanIDLen (span and parent ids) bytes long, and made of [0-9A-Za-z._-]; otherwise the result is
// the zero SpanContext and an error wrapping an *IDError (one per bad id, joined).
//
// Baggage entries with an empty key or value are skipped (the SOFA format cannot carry them); a
// repeated key replaces the earlier value in place. An entry that does not fit the limit or
// MaxBaggageEntries is refused: the returned context is still valid, without that entry, and the
// error joins one *BaggageError per refused entry. Report such an error with Tracer.ReportError.
func NewSpanContext(cfg SpanContextConfig) (SpanContext, error) {
	var errs []error
	if err := checkID("traceId", cfg.TraceID, MaxTraceIDLen, false); err != nil {
		errs = append(errs, err)
	}
	if err := checkID("spanId", cfg.SpanID, MaxSpanIDLen, false); err != nil {
		errs = append(errs, err)
	}
	if err := checkID("parentId", cfg.ParentID, MaxSpanIDLen, true); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return SpanContext{}, errors.Join(errs...)
	}
	sysLimit, bizLimit := cfg.SysLimit, cfg.BizLimit
	if sysLimit <= 0 {
		sysLimit = DefaultBaggageLimit
	}
	if bizLimit <= 0 {
		bizLimit = DefaultBaggageLimit
	}
	sys, e1 := buildBaggage(cfg.Sys, sysLimit, true)
	biz, e2 := buildBaggage(cfg.Biz, bizLimit, false)
	sc := SpanContext{
		traceID:  cfg.TraceID,
		spanID:   cfg.SpanID,
		parentID: cfg.ParentID,
		sampled:  cfg.Sampled,
		sys:      sys,
		biz:      biz,
	}
	return sc, errors.Join(append(e1, e2...)...)
}

func checkID(field, id string, maxLen int, emptyOK bool) error {
	switch {
	case id == "":
		if emptyOK {
			return nil
		}
		return &IDError{Field: field, Reason: "empty"}
	case len(id) > maxLen:
		return &IDError{Field: field, Value: cut(id), Reason: "too long"}
	}
	for i := 0; i < len(id); i++ {
		if !idChar(id[i]) {
			return &IDError{Field: field, Value: cut(id), Reason: "bad character"}
		}
	}
	return nil
}

func idChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '-' || c == '_'
}

// TraceID returns the trace id.
func (sc SpanContext) TraceID() string { return sc.traceID }

// SpanID returns the span id.
func (sc SpanContext) SpanID() string { return sc.spanID }

// ParentID returns the parent span id, "" for a root.
func (sc SpanContext) ParentID() string { return sc.parentID }

// Sampled reports whether the trace is sampled: its spans get digest lines.
func (sc SpanContext) Sampled() bool { return sc.sampled }

// SysBaggage returns the sys baggage (middleware items).
func (sc SpanContext) SysBaggage() Baggage { return sc.sys }

// BizBaggage returns the biz baggage (application items, Span.SetBaggageItem).
func (sc SpanContext) BizBaggage() Baggage { return sc.biz }

// IsLoadTest reports whether the biz baggage holds the load-test mark (mark=T).
func (sc SpanContext) IsLoadTest() bool {
	v, _ := sc.biz.Get(BaggageKeyLoadTest)
	return v == "T"
}

// IsValid reports whether sc has a trace id and a span id. Only NewSpanContext and spans make
// valid contexts.
func (sc SpanContext) IsValid() bool { return sc.traceID != "" && sc.spanID != "" }

// depth returns the number of components of a SOFA span id (1 for ids without dots).
func depthOf(spanID string) int {
	return strings.Count(spanID, ".") + 1
}
