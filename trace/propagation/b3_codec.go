package propagation

import (
	"sort"
	"strings"

	"github.com/tracemdc/tracemdc/trace"
)

// Header names of the SOFA B3 format, in net/http's canonical spelling (HTTP header names are
// case-insensitive; a peer's "X-B3-TraceId" is the same header).
const (
	HeaderB3TraceID      = "X-B3-Traceid"
	HeaderB3SpanID       = "X-B3-Spanid"
	HeaderB3ParentSpanID = "X-B3-Parentspanid"
	HeaderB3Sampled      = "X-B3-Sampled"
	// HeaderB3Single is Zipkin's single-header form, b3: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]],
	// which OpenTelemetry's B3 propagator writes by default. B3 reads it; it writes the X-B3-* headers.
	HeaderB3Single = "B3"
	// B3 baggage headers are "baggage-<key>" (biz) and "baggage-sys-<key>" (sys).
	b3BaggagePrefix = "baggage-"
	b3SysPrefix     = "baggage-sys-"
)

// encodeB3 writes sc as SOFA B3 headers, byte for byte as SOFATracer's HttpHeadersB3Formatter writes
// them: baggage keys escaped with SOFA's escapePercentEqualAnd (encodeB3Key), baggage values escaped
// so and then URL-encoded (encodeB3Value). SOFATracer URL-encodes the ids and the sampled flag too;
// ids made of [0-9A-Za-z._-] (all that trace.NewSpanContext accepts) and "true"/"false" have nothing
// to encode, so they are written as they are. An escaped baggage key must be an HTTP token, and a biz
// key must not start with "sys-" (it would come back as sys baggage); such entries are left out and
// ErrInvalidBaggageKey is returned with everything else written.
//
// A root's X-B3-ParentSpanId is left out, where SOFATracer writes it empty: a SOFA peer reads both
// the same way (see decodeB3), and a Zipkin peer may reject an empty one.
func encodeB3(sc trace.SpanContext, c Carrier) error {
	c.Set(HeaderB3TraceID, sc.TraceID())
	c.Set(HeaderB3SpanID, sc.SpanID())
	if p := sc.ParentID(); p != "" {
		c.Set(HeaderB3ParentSpanID, p)
	}
	if sc.Sampled() {
		c.Set(HeaderB3Sampled, "true")
	} else {
		c.Set(HeaderB3Sampled, "false")
	}
	var err error
	for k, v := range sc.SysBaggage().Range {
		ek, ok := encodeB3Key(k)
		if !ok {
			err = ErrInvalidBaggageKey
			continue
		}
		c.Set(b3SysPrefix+ek, encodeB3Value(v))
	}
	for k, v := range sc.BizBaggage().Range {
		ek, ok := encodeB3Key(k)
		if !ok || hasPrefixFold(k, "sys-") {
			err = ErrInvalidBaggageKey
			continue
		}
		c.Set(b3BaggagePrefix+ek, encodeB3Value(v))
	}
	return err
}

// b3Baggage is a baggage header found while ranging over a carrier.
type b3Baggage struct {
	raw   string // header name as the carrier spells it
	key   string // key without prefix, in lower case and SOFA-unescaped
	value string // as the header holds it (decoded by readB3Baggage)
	sys   bool
}

// maxB3Baggage is how many baggage headers decodeB3 reads (the first in key order); the others are
// counted as unread. Only trace.MaxBaggageEntries of each kind can be kept anyway.
const maxB3Baggage = 4 * trace.MaxBaggageEntries

// decodeB3 reads SOFA B3 headers. present is false when neither id header is there (the caller then
// tries other formats or starts a root). Both ids must be present (ErrMissingID otherwise), as a
// SOFATracer server requires. Every value is read as SOFATracer reads it: URL-decoded
// (decodeB3Field, decodeB3Value), baggage values then SOFA-unescaped, baggage keys SOFA-unescaped
// only (decodeB3Key). Baggage header names are matched case-insensitively and their keys come back in
// lower case (net/http does not keep a header name's case); sys baggage is only sys baggage. An empty
// X-B3-ParentSpanId is as absent: the parent id is then derived from the span id (see build).
//
// Bad ids reject the input. A bad sampled flag does not: it is ignored (r.sampled stays true, SOFA's
// default when it is absent) and named in r.badSampled. Nor does baggage: a header name that is not an
// HTTP token (possible only in a MapCarrier) is skipped and counted in d.InvalidKeys, a value with a
// '%' not followed by two hex digits (where Java's URLDecoder throws) is skipped and counted in
// d.Malformed, entries over the limits are dropped as admitter says (the load-test mark first, then
// the others in key order) and recorded in d, and headers beyond the first maxB3Baggage in key order
// are counted in d.Unread.
func decodeB3(c Carrier, lim limits, d *BaggageDropError) (r record, present bool, err error) {
	r.traceID = c.Get(HeaderB3TraceID)
	r.spanID = c.Get(HeaderB3SpanID)
	if r.traceID == "" && r.spanID == "" {
		return record{}, false, nil
	}
	if r.traceID == "" || r.spanID == "" {
		return record{}, true, ErrMissingID
	}
	r.parentID = c.Get(HeaderB3ParentSpanID)
	r.sampled = true
	if s := c.Get(HeaderB3Sampled); s != "" {
		sampled, ok := parseBool(s)
		if !ok {
			sampled, ok = parseBool(decodeB3Field(s))
		}
		if ok {
			r.sampled = sampled
		} else {
			r.badSampled = HeaderB3Sampled // ignored: sampled as when absent
		}
	}
	if r.checkIDs() != nil {
		// SOFATracer URL-decodes the ids. Decoding changes only what holds '%' or '+', which no valid
		// id does, so valid ids skip it.
		r.traceID, r.spanID, r.parentID = decodeB3Field(r.traceID), decodeB3Field(r.spanID), decodeB3Field(r.parentID)
		if err := r.checkIDs(); err != nil {
			return record{}, true, err
		}
	}
	readB3Baggage(c, &r, lim, d)
	return r, true, nil
}

// decodeB3Single reads the single b3 header: {TraceId}-{SpanId}[-{SamplingState}[-{ParentSpanId}]],
// the sampling state being 1 (accept), 0 (deny) or d (debug, read as sampled); without one the
// context is sampled, SOFA's default, and so it is with any other state (which r.badSampled reports). A sampling state alone (b3: 0, 1 or d) carries no ids: present is
// false. The ids are checked as the X-B3-* headers' are (SOFA ids as well as hex ids; an id holding
// '-' cannot be carried in this form). Baggage is not read here.
func decodeB3Single(s string) (r record, present bool, err error) {
	s = trimOWS(s)
	switch s {
	case "":
		return record{}, false, nil
	case "0", "1", "d":
		return record{}, false, nil
	}
	var parts [4]string
	n := 0
	for {
		if n == len(parts) {
			return record{}, true, ErrMalformedB3 // a fifth field
		}
		i := strings.IndexByte(s, '-')
		if i < 0 {
			parts[n], n = s, n+1
			break
		}
		parts[n], s, n = s[:i], s[i+1:], n+1
	}
	if n == 1 && len(parts[0]) == 1 {
		return record{}, true, ErrMalformedB3 // a sampling state other than 0, 1 or d
	}
	r.traceID, r.spanID, r.sampled = parts[0], parts[1], true
	if r.traceID == "" || r.spanID == "" {
		return record{}, true, ErrMissingID
	}
	if n >= 3 {
		switch parts[2] {
		case "1", "d":
		case "0":
			r.sampled = false
		default:
			r.badSampled = HeaderB3Single // ignored: sampled as when absent
		}
	}
	if n == 4 {
		if r.parentID = parts[3]; r.parentID == "" {
			return record{}, true, ErrInvalidParentID
		}
	}
	if err := r.checkIDs(); err != nil {
		return record{}, true, err
	}
	return r, true, nil
}

// readB3Baggage reads the baggage-* headers of c into r.
func readB3Baggage(c Carrier, r *record, lim limits, d *BaggageDropError) {
	col := b3Collector{d: d}
	if h, ok := c.(HeaderCarrier); ok { // the common case, without a closure that escapes
		for k, v := range h {
			if len(v) > 0 {
				col.add(k, v[0])
			}
		}
	} else {
		c.Range(col.add)
	}
	found := col.sorted()
	if len(found) > maxB3Baggage {
		d.Unread += len(found) - maxB3Baggage
		d.unreadErr = ErrTooManyBaggage
		found = found[:maxB3Baggage]
	}
	if col.haveMark {
		// The mark goes back in its place in key order; its room is taken first.
		i := sort.Search(len(found), func(i int) bool { return found[i].key >= trace.BaggageKeyLoadTest })
		found = append(found, b3Baggage{})
		copy(found[i+1:], found[i:])
		found[i] = col.mark
	}
	if len(found) == 0 {
		return
	}
	lim = lim.orDefault()
	sys, biz := newAdmitter(true, lim.sys, d), newAdmitter(false, lim.biz, d)
	if col.haveMark {
		if v, ok := decodeB3Value(col.mark.value); ok {
			biz.reserveMark(v)
		}
	}
	for i, b := range found {
		if i > 0 && b.key == found[i-1].key && b.sys == found[i-1].sys {
			continue // another spelling of the same header: the first in byte order wins
		}
		v, ok := b.value, true
		if formEncoded(v) { // the plain values most are skip the call
			if v, ok = decodeB3Value(v); !ok {
				d.Malformed++ // Java's URLDecoder would throw: this entry is dropped, the others kept
				continue
			}
		}
		if b.sys {
			sys.add(b.key, v)
		} else {
			biz.add(b.key, v)
		}
	}
	r.sys, r.biz = sys.kept, biz.kept
}

// b3Collector gathers baggage headers while ranging over a carrier. It keeps the load-test mark apart,
// so that it is never among the headers left unread, and sorts and trims what it holds whenever that
// reaches 2*maxB3Baggage, so that its memory stays bounded and what it keeps does not depend on the
// order of the carrier's map.
type b3Collector struct {
	found    []b3Baggage
	mark     b3Baggage
	haveMark bool
	d        *BaggageDropError
}

func (col *b3Collector) add(k, v string) bool {
	if !hasPrefixFold(k, b3BaggagePrefix) {
		return true
	}
	b := b3Baggage{raw: k, value: v}
	if hasPrefixFold(k, b3SysPrefix) {
		b.sys, b.key = true, strings.ToLower(k[len(b3SysPrefix):])
	} else {
		b.key = strings.ToLower(k[len(b3BaggagePrefix):])
	}
	if b.key == "" || v == "" {
		return true
	}
	if !isToken(b.key) {
		col.d.InvalidKeys++
		return true
	}
	if strings.IndexByte(b.key, '%') >= 0 {
		b.key = decodeB3Key(b.key)
	}
	if !b.sys && b.key == trace.BaggageKeyLoadTest {
		if !col.haveMark || b.raw < col.mark.raw {
			col.mark, col.haveMark = b, true
		}
		return true
	}
	if len(col.found) >= 2*maxB3Baggage {
		col.found = col.sorted()[:maxB3Baggage:maxB3Baggage]
		col.d.Unread += maxB3Baggage
		col.d.unreadErr = ErrTooManyBaggage
	}
	col.found = append(col.found, b)
	return true
}

// sorted sorts found by key, then by spelling, so that the first of a key's spellings wins.
func (col *b3Collector) sorted() []b3Baggage {
	found := col.found
	sort.Slice(found, func(i, j int) bool {
		if found[i].key != found[j].key {
			return found[i].key < found[j].key
		}
		if found[i].sys != found[j].sys {
			return !found[i].sys
		}
		return found[i].raw < found[j].raw
	})
	return found
}
