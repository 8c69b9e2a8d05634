package trace

import (
	"errors"
	"fmt"
)

// Sentinel errors. The typed errors below wrap them, so callers test with errors.Is and read the
// details with errors.As.
var (
	// ErrInvalidID is wrapped by *IDError: a trace id, span id or parent id that is empty (where an
	// id is required), too long, or holds a character outside [0-9A-Za-z._-].
	ErrInvalidID = errors.New("trace: invalid id")
	// ErrBaggageLimit is wrapped by *BaggageError: a baggage entry refused because it would make
	// the baggage larger than its limit (see WithBaggageLimits) or hold more than MaxBaggageEntries.
	ErrBaggageLimit = errors.New("trace: baggage limit exceeded")
	// ErrDepthLimit is wrapped by *DepthError, reported when a child would be deeper than MaxDepth
	// and the tracer starts a new root instead.
	ErrDepthLimit = errors.New("trace: span depth limit exceeded")
)

// IDError describes an id refused by NewSpanContext.
type IDError struct {
	Field  string // "traceId", "spanId" or "parentId"
	Value  string // the refused value, cut to 80 bytes
	Reason string // "empty", "too long" or "bad character"
}

// Error returns a one-line description; the value is quoted, so control characters are escaped.
func (e *IDError) Error() string {
	return fmt.Sprintf("trace: invalid %s %q: %s", e.Field, e.Value, e.Reason)
}

// Unwrap returns ErrInvalidID.
func (e *IDError) Unwrap() error { return ErrInvalidID }

// BaggageError describes one refused baggage entry, or, with Count above 1, that many entries that
// were never read (their keys unknown). An entry is dropped whole: a value is never truncated into a
// corrupt one.
type BaggageError struct {
	Sys    bool   // true for sys baggage, false for biz baggage
	Key    string // the refused key, cut to 80 bytes; "" for entries not read
	Size   int    // the size in bytes the baggage would have had (len(key)+len(value) summed)
	Limit  int    // the size limit in bytes
	Reason string // "size" (over Limit) or "entries" (more than MaxBaggageEntries)
	Count  int    // entries this error stands for; 0 means 1. Tracer.ReportError counts each
}

// Error returns a one-line description; the key is quoted, so control characters are escaped.
func (e *BaggageError) Error() string {
	kind := "biz"
	if e.Sys {
		kind = "sys"
	}
	if e.Count > 1 {
		if e.Reason == "entries" {
			return fmt.Sprintf("trace: %d %s baggage entries refused unread: more than %d entries", e.Count, kind, e.Limit)
		}
		return fmt.Sprintf("trace: %d %s baggage entries refused unread: size %d over limit %d", e.Count, kind, e.Size, e.Limit)
	}
	if e.Reason == "entries" {
		return fmt.Sprintf("trace: %s baggage entry %q refused: more than %d entries", kind, e.Key, MaxBaggageEntries)
	}
	return fmt.Sprintf("trace: %s baggage entry %q refused: size %d over limit %d", kind, e.Key, e.Size, e.Limit)
}

// Unwrap returns ErrBaggageLimit.
func (e *BaggageError) Unwrap() error { return ErrBaggageLimit }

// DepthError describes a depth reset: a span that would have been deeper than MaxDepth in trace
// TraceID was started as the root of the new trace NewTraceID instead, keeping its biz baggage.
type DepthError struct {
	TraceID    string // the trace that reached MaxDepth
	ParentID   string // the span id, MaxDepth deep, the span would have been a child of
	NewTraceID string // the trace the span starts instead
	Operation  string // the span's operation name, cut to 80 bytes
}

// Error returns a one-line description; the operation is quoted, so control characters are escaped.
func (e *DepthError) Error() string {
	return fmt.Sprintf("trace: span depth limit exceeded: %q would be deeper than %d levels in trace %s, it starts trace %s",
		e.Operation, MaxDepth, e.TraceID, e.NewTraceID)
}

// Unwrap returns ErrDepthLimit.
func (e *DepthError) Unwrap() error { return ErrDepthLimit }

// PanicError is a panic recovered from a Reporter, an ErrorReporter or an Extension. The business
// call that finished or started the span never sees it; the tracer counts it (Stats) and passes it
// to every ErrorReporter.
type PanicError struct {
	Hook  string // "reporter", "error reporter", "extension start" or "extension finish"
	Value any    // the value given to panic
	Stack []byte // the stack of the panicking goroutine (runtime/debug.Stack)
}

// Error returns "trace: panic in <hook>: <value>".
func (e *PanicError) Error() string {
	return fmt.Sprintf("trace: panic in %s: %v", e.Hook, e.Value)
}

// Unwrap returns the panic value when it is an error, so errors.Is sees through a re-panicked error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

func cut(s string) string {
	if len(s) > 80 {
		return s[:80]
	}
	return s
}
