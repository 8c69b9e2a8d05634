package propagation

import (
	"errors"
	"fmt"

	"github.com/tracemdc/tracemdc/trace"
)

// maxHeaderValue bounds the raw length of one header value that is parsed at all (sftc_head, W3C
// baggage). Anything longer is rejected before parsing, so hostile input costs O(1).
const maxHeaderValue = 8192

// Errors that Extract and Inject report, wrapped in an *Error naming the propagator and field. Test for
// them with errors.Is. Their messages never contain the rejected input.
var (
	// ErrInvalidTraceID: a trace id that is empty, longer than trace.MaxTraceIDLen, or has a character
	// outside [0-9A-Za-z._-] (or, for traceparent, is not 32 lowercase hex digits, not all zero).
	// It wraps trace.ErrInvalidID.
	ErrInvalidTraceID = fmt.Errorf("invalid trace id: %w", trace.ErrInvalidID)
	// ErrInvalidSpanID: like ErrInvalidTraceID, for the span id (at most trace.MaxSpanIDLen bytes;
	// traceparent: 16 lowercase hex digits).
	ErrInvalidSpanID = fmt.Errorf("invalid span id: %w", trace.ErrInvalidID)
	// ErrInvalidParentID: like ErrInvalidSpanID, for the parent span id.
	ErrInvalidParentID = fmt.Errorf("invalid parent span id: %w", trace.ErrInvalidID)
	// ErrMissingID: one of the two ids that must come together (trace id and span id) is absent.
	ErrMissingID = errors.New("trace id or span id missing")
	// ErrInvalidSampled: a sampled flag other than 1, 0, true or false (X-B3-Sampled, sftc_head's
	// sample) or a sampling state other than 1, 0 or d (the single b3 header). It does not cost the
	// caller the trace: Extract keeps the ids and baggage and returns ErrSampledIgnored, which wraps it.
	ErrInvalidSampled = errors.New("invalid sampled flag")
	// ErrSampledIgnored: Extract returned a valid span context whose inbound sampled flag was invalid
	// (ErrInvalidSampled, which it wraps) and was ignored, as if it were absent: the context is sampled,
	// the default of the SOFA formats. The caller continues the trace and reports the error.
	ErrSampledIgnored = fmt.Errorf("%w ignored, span context kept", ErrInvalidSampled)
	// ErrMalformedTraceparent: a traceparent header that does not follow W3C Trace Context.
	ErrMalformedTraceparent = errors.New("malformed traceparent")
	// ErrMalformedB3: a single b3 header that is neither ids with an optional sampling state and
	// parent id nor a sampling state alone (0, 1 or d).
	ErrMalformedB3 = errors.New("malformed b3 header")
	// ErrMalformedBaggage: a baggage entry or header that cannot be parsed.
	ErrMalformedBaggage = errors.New("malformed baggage")
	// ErrInvalidBaggageKey: a baggage key that the format cannot carry (for example not an HTTP token
	// in a header name or W3C baggage, or one that would be read back as another field).
	ErrInvalidBaggageKey = errors.New("invalid baggage key")
	// ErrBaggageTooLarge: biz or sys baggage over the tracer's limit (trace.DefaultBaggageLimit unless
	// WithBaggageLimits says otherwise), or a header too long to parse. It wraps trace.ErrBaggageLimit.
	ErrBaggageTooLarge = fmt.Errorf("baggage over the size limit: %w", trace.ErrBaggageLimit)
	// ErrTooManyBaggage: more than trace.MaxBaggageEntries biz, or sys, baggage entries. It wraps
	// trace.ErrBaggageLimit.
	ErrTooManyBaggage = fmt.Errorf("too many baggage entries: %w", trace.ErrBaggageLimit)
	// ErrIncompatibleIDs: Inject was given ids the format cannot carry (W3C needs 32/16 hex ids, as made
	// by the tracer's W3C id generator). Nothing is written.
	ErrIncompatibleIDs = errors.New("span context ids cannot be carried by this format")
)

// Error is the error Extract and Inject return: which propagator and which field (header name) failed,
// and why (one of the Err* values above, or an error from the trace package's validation).
type Error struct {
	Propagator string // "b3", "sftc_head", "sofa-rpcid", "triple" or "w3c"
	Field      string // the header name, e.g. "X-B3-TraceId"
	Err        error  // the cause: an Err* value of this package or a trace validation error
}

// Error describes the failure without repeating the input.
func (e *Error) Error() string {
	if e.Field == "" {
		return "propagation: " + e.Propagator + ": " + e.Err.Error()
	}
	return "propagation: " + e.Propagator + ": " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the cause, so errors.Is(err, ErrInvalidTraceID) works.
func (e *Error) Unwrap() error { return e.Err }

func newError(prop, field string, err error) *Error {
	return &Error{Propagator: prop, Field: field, Err: err}
}

// ErrBaggageDropped is matched (errors.Is) by every *BaggageDropError: Extract kept the span context
// and returned it, but left some inbound baggage entries out.
var ErrBaggageDropped = errors.New("baggage entries dropped, span context kept")

// BaggageDropError is the cause, inside an *Error, when Extract returns a valid span context without
// some of the inbound baggage: entries over the size limit or past trace.MaxBaggageEntries, entries
// that cannot be parsed, and entries past the part of a header that is parsed at all.
//
// errors.Is matches ErrBaggageDropped, and also ErrBaggageTooLarge or ErrTooManyBaggage (which wrap
// trace.ErrBaggageLimit), ErrMalformedBaggage and ErrInvalidBaggageKey for the kinds of drop that
// happened. Each entry of Refused is a *trace.BaggageError in the error tree, and the unread entries
// are one more with Count set to their number. trace.Tracer.ReportError counts every dropped entry,
// malformed ones and those with an invalid key included, in Stats.BaggageRefused (BaggageDropped).
type BaggageDropError struct {
	// Refused lists the entries refused by the limits, in the order they were considered, with the
	// reason "size" or "entries".
	Refused []trace.BaggageError
	// Malformed counts entries that could not be parsed (a W3C list-member without '=', with a key
	// that is not a token, or with a bad character or percent sequence; a B3 baggage value with a '%'
	// not followed by two hex digits, which Java's URLDecoder refuses).
	Malformed int
	// InvalidKeys counts B3 baggage headers whose key is not an HTTP token (possible only in a
	// MapCarrier).
	InvalidKeys int
	// Unread counts entries that were not parsed at all: those after the first 8192 bytes of an
	// sftc_head or baggage header (ErrBaggageTooLarge), or B3 baggage headers beyond the first
	// 4*trace.MaxBaggageEntries in key order (ErrTooManyBaggage). They are not in Refused; the error
	// tree holds one *trace.BaggageError for all of them (so ReportError counts them in
	// Stats.BaggageRefused): Count Unread, Key "" (no entry was read), Sys false, and Reason "size"
	// with Size the length of the header and Limit 8192, or Reason "entries".
	Unread int

	unreadErr  error // ErrBaggageTooLarge or ErrTooManyBaggage, for Unread
	unreadSize int   // the length of the header cut at maxHeaderValue, for Unread's BaggageErrors
}

// BaggageDropped returns the number of entries dropped: refused, malformed, with an invalid key, or
// unread. trace.Tracer.ReportError counts them in Stats.BaggageRefused.
func (e *BaggageDropError) BaggageDropped() int {
	return len(e.Refused) + e.Malformed + e.InvalidKeys + e.Unread
}

// unreadError is the *trace.BaggageError that stands for the unread entries.
func (e *BaggageDropError) unreadError() *trace.BaggageError {
	if e.unreadErr == ErrTooManyBaggage {
		return &trace.BaggageError{Reason: "entries", Limit: trace.MaxBaggageEntries, Count: e.Unread}
	}
	return &trace.BaggageError{Reason: "size", Size: e.unreadSize, Limit: maxHeaderValue, Count: e.Unread}
}

// Error summarizes the drops, without keys or values.
func (e *BaggageDropError) Error() string {
	size, entries := e.counts()
	s := "baggage entries dropped, span context kept:"
	sep := " "
	for _, c := range []struct {
		n    int
		what string
	}{
		{size, "over the size limit"}, {entries, fmt.Sprintf("past %d entries", trace.MaxBaggageEntries)},
		{e.Malformed, "malformed"}, {e.InvalidKeys, "with an invalid key"}, {e.Unread, "not read"},
	} {
		if c.n > 0 {
			s += fmt.Sprintf("%s%d %s", sep, c.n, c.what)
			sep = ", "
		}
	}
	return s
}

func (e *BaggageDropError) counts() (size, entries int) {
	for i := range e.Refused {
		if e.Refused[i].Reason == "entries" {
			entries++
		} else {
			size++
		}
	}
	return size, entries
}

// Unwrap returns ErrBaggageDropped, the sentinels of the kinds of drop, a *trace.BaggageError per
// refused entry, and one for all unread entries (its Count is their number).
func (e *BaggageDropError) Unwrap() []error {
	errs := make([]error, 0, 6+len(e.Refused))
	errs = append(errs, ErrBaggageDropped)
	size, entries := e.counts()
	if size > 0 || (e.Unread > 0 && e.unreadErr == ErrBaggageTooLarge) {
		errs = append(errs, ErrBaggageTooLarge)
	}
	if entries > 0 || (e.Unread > 0 && e.unreadErr == ErrTooManyBaggage) {
		errs = append(errs, ErrTooManyBaggage)
	}
	if e.Malformed > 0 {
		errs = append(errs, ErrMalformedBaggage)
	}
	if e.InvalidKeys > 0 {
		errs = append(errs, ErrInvalidBaggageKey)
	}
	for i := range e.Refused {
		errs = append(errs, &e.Refused[i])
	}
	if e.Unread > 0 {
		errs = append(errs, e.unreadError())
	}
	return errs
}
