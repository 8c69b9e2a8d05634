package propagation

import "github.com/tracemdc/tracemdc/trace"

// entry is one baggage key/value pair, in the order the carrier gave it.
type entry = trace.BaggageItem

// kvRange is the shape of trace.Baggage.Range: the encoders read baggage through it.
type kvRange = func(yield func(key, value string) bool)

// entriesRange ranges over a slice of entries.
func entriesRange(es []entry) kvRange {
	return func(yield func(key, value string) bool) {
		for _, e := range es {
			if !yield(e.Key, e.Value) {
				return
			}
		}
	}
}

// limits are the baggage size limits of the tracer the context is extracted for.
type limits struct{ biz, sys int }

func (l limits) orDefault() limits {
	if l.biz <= 0 {
		l.biz = trace.DefaultBaggageLimit
	}
	if l.sys <= 0 {
		l.sys = trace.DefaultBaggageLimit
	}
	return l
}

// record is the plain, format-independent content of a propagated span context: what the codecs read
// and write. Converting it to and from the trace package's SpanContext is the only place the two meet.
type record struct {
	traceID, spanID, parentID string
	sampled                   bool
	sys, biz                  []entry
}

// validID reports whether s is an acceptable propagated id: 1 to max bytes of [0-9A-Za-z._-], the
// rule of trace.NewSpanContext. Such an id is safe to put into an MDC and a log line as is.
func validID(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// checkIDs validates the ids of r, returning the sentinel for the first bad one.
func (r *record) checkIDs() error {
	if !validID(r.traceID, trace.MaxTraceIDLen) {
		return ErrInvalidTraceID
	}
	if !validID(r.spanID, trace.MaxSpanIDLen) {
		return ErrInvalidSpanID
	}
	if r.parentID != "" && !validID(r.parentID, trace.MaxSpanIDLen) {
		return ErrInvalidParentID
	}
	return nil
}

// baggageBudget enforces MaxBaggageEntries and MaxBaggageSize while a carrier is decoded.
type baggageBudget struct {
	lim                                      limits
	sysEntries, bizEntries, sysSize, bizSize int
}

func (b *baggageBudget) add(sys bool, key, value string) error {
	n, size, limit := &b.bizEntries, &b.bizSize, b.lim.biz
	if sys {
		n, size, limit = &b.sysEntries, &b.sysSize, b.lim.sys
	}
	*n++
	if *n > trace.MaxBaggageEntries {
		return ErrTooManyBaggage
	}
	*size += len(key) + len(value)
	if *size > limit {
		return ErrBaggageTooLarge
	}
	return nil
}

// addEntry appends key=value to list unless key is already there (the first value wins).
func addEntry(list []entry, key, value string) ([]entry, bool) {
	for _, e := range list {
		if e.Key == key {
			return list, false
		}
	}
	return append(list, entry{Key: key, Value: value}), true
}

// parseBool reads a sampled flag: 1, 0, true or false (any case).
func parseBool(s string) (sampled, ok bool) {
	switch s {
	case "1", "true":
		return true, true
	case "0", "false":
		return false, true
	}
	switch {
	case equalFoldASCII(s, "true"):
		return true, true
	case equalFoldASCII(s, "false"):
		return false, true
	}
	return false, false
}

func equalFoldASCII(s, t string) bool {
	if len(s) != len(t) {
		return false
	}
	for i := 0; i < len(s); i++ {
		a, b := s[i], t[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && equalFoldASCII(s[:len(prefix)], prefix)
}

// isToken reports whether s is a non-empty RFC 9110 token (the characters of a header name, and of a
// W3C baggage key).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenByte(s[i]) {
			return false
		}
	}
	return true
}

func isTokenByte(c byte) bool {
	switch {
	case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}
