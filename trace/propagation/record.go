package propagation

import (
	"strings"

	"github.com/tracemdc/tracemdc/trace"
)

// entry is one baggage key/value pair, in the order the carrier gave it.
type entry = trace.Pair

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
	// badSampled names the field whose sampled flag was invalid and ignored (sampled is then true, as
	// when the flag is absent); "" when the flag was absent or valid.
	badSampled string
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

// rpcParent returns the parent id that an rpcId-style span id implies: the part before its last '.'
// ("0.1.1" → "0.1"), or "" for a root ("0") and for an id of any other style. rpcId style is decimal
// components joined by '.'; W3C's 16 hex digits, for one, imply no parent.
func rpcParent(spanID string) string {
	last := -1
	for i := 0; i < len(spanID); i++ {
		switch c := spanID[i]; {
		case '0' <= c && c <= '9':
		case c == '.' && i > 0 && spanID[i-1] != '.' && i < len(spanID)-1:
			last = i
		default:
			return ""
		}
	}
	if last < 0 {
		return ""
	}
	return spanID[:last]
}

// deriveParent sets r's parent id from its span id when it is absent or empty, as SOFATracer does
// (SofaTracerSpanContext takes a blank parent id from the span id): see rpcParent.
func (r *record) deriveParent() {
	if r.parentID == "" {
		r.parentID = rpcParent(r.spanID)
	}
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

// admitter applies one baggage's size limit and trace.MaxBaggageEntries to entries as a decoder
// meets them: the first value of a key is the one considered; an entry that does not fit is dropped
// and recorded in d while later, smaller ones may still fit; the kept entries stay in order.
//
// In biz baggage the load-test mark (mark=T or mark=F, tiny) may be reserved before decoding starts
// (reserveMark): its room is taken first, so no entry that comes before it can crowd it out. Entries
// with an empty value take no room (trace.NewSpanContext skips them).
type admitter struct {
	limit    int
	sys      bool
	size, n  int
	kept     []entry
	refused  map[string]struct{} // keys already refused, so that a later value of one is not taken
	reserved bool                // room for the mark is taken
	mark     string              // the value it was taken for
	d        *BaggageDropError
}

func newAdmitter(sys bool, limit int, d *BaggageDropError) admitter {
	return admitter{limit: limit, sys: sys, d: d}
}

// reserveMark takes the room of the first mark entry, whose value is value, if it is the load-test
// mark and fits at all.
func (a *admitter) reserveMark(value string) {
	if a.sys || (value != "T" && value != "F") {
		return
	}
	if s := len(trace.BaggageKeyLoadTest) + len(value); s <= a.limit {
		a.reserved, a.mark, a.size, a.n = true, value, s, 1
	}
}

// add considers key=value.
func (a *admitter) add(key, value string) {
	for i := range a.kept {
		if a.kept[i].Key == key {
			return
		}
	}
	if _, ok := a.refused[key]; ok {
		return
	}
	if value == "" || (a.reserved && key == trace.BaggageKeyLoadTest && value == a.mark) {
		a.kept = append(a.kept, entry{Key: key, Value: value}) // room already counted, or none needed
		return
	}
	ns := a.size + len(key) + len(value)
	reason := ""
	switch {
	case ns > a.limit:
		reason = "size"
	case a.n >= trace.MaxBaggageEntries:
		reason = "entries"
	default:
		a.kept = append(a.kept, entry{Key: key, Value: value})
		a.size, a.n = ns, a.n+1
		return
	}
	if a.refused == nil {
		a.refused = make(map[string]struct{})
	}
	a.refused[key] = struct{}{}
	a.d.Refused = append(a.d.Refused, trace.BaggageError{Sys: a.sys, Key: cutKey(key), Size: ns, Limit: a.limit, Reason: reason})
}

func cutKey(k string) string {
	if len(k) > 80 {
		return k[:80]
	}
	return k
}

// dropped returns d as an error when something was dropped, else nil.
func dropped(d *BaggageDropError) error {
	if len(d.Refused) == 0 && d.Malformed == 0 && d.InvalidKeys == 0 && d.Unread == 0 {
		return nil
	}
	return d
}

// cutList returns the part of a separated list that is parsed: s itself, or when s is longer than
// maxHeaderValue its members that end within the first maxHeaderValue bytes. unread counts the
// non-empty members left out.
func cutList(s string, sep byte) (head string, unread int) {
	if len(s) <= maxHeaderValue {
		return s, 0
	}
	i := strings.LastIndexByte(s[:maxHeaderValue+1], sep)
	if i < 0 {
		i = 0
	}
	head, tail := s[:i], s[i:]
	for len(tail) > 0 {
		j := strings.IndexByte(tail, sep)
		if j < 0 {
			j = len(tail)
		}
		if j > 0 {
			unread++
		}
		if j == len(tail) {
			break
		}
		tail = tail[j+1:]
	}
	return head, unread
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
