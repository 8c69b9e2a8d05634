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
	// B3 baggage headers are "baggage-<key>" (biz) and "baggage-sys-<key>" (sys).
	b3BaggagePrefix = "baggage-"
	b3SysPrefix     = "baggage-sys-"
)

// encodeB3 writes sc as SOFA B3 headers. Baggage keys must be HTTP tokens, and a biz key must not
// start with "sys-" (it would come back as sys baggage); such entries are left out and
// ErrInvalidBaggageKey is returned with everything else written. Values are escaped with EscapeSOFA.
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
		if !isToken(k) {
			err = ErrInvalidBaggageKey
			continue
		}
		c.Set(b3SysPrefix+k, EscapeSOFA(v))
	}
	for k, v := range sc.BizBaggage().Range {
		if !isToken(k) || hasPrefixFold(k, "sys-") {
			err = ErrInvalidBaggageKey
			continue
		}
		c.Set(b3BaggagePrefix+k, EscapeSOFA(v))
	}
	return err
}

// b3Baggage is a baggage header found while ranging over a carrier.
type b3Baggage struct {
	raw   string // header name as the carrier spells it
	key   string // lower-case key without prefix
	value string
	sys   bool
}

// decodeB3 reads SOFA B3 headers. present is false when neither id header is there (the caller then
// tries other formats or starts a root). Both ids must be present (ErrMissingID otherwise), as a
// SOFATracer server requires. Baggage header names are matched case-insensitively and their keys come
// back in lower case (net/http does not keep a header name's case); sys baggage is only sys baggage.
// A baggage header name that is not an HTTP token (possible only in a MapCarrier) is
// ErrInvalidBaggageKey.
func decodeB3(c Carrier, lim limits) (r record, present bool, err error) {
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
		var ok bool
		if r.sampled, ok = parseBool(s); !ok {
			return record{}, true, ErrInvalidSampled
		}
	}
	if err := r.checkIDs(); err != nil {
		return record{}, true, err
	}
	col := b3Collector{}
	if h, ok := c.(HeaderCarrier); ok { // the common case, without a closure that escapes
		for k, v := range h {
			if len(v) > 0 && !col.add(k, v[0]) {
				break
			}
		}
	} else {
		c.Range(col.add)
	}
	found := col.found
	if col.tooMany {
		return record{}, true, ErrTooManyBaggage
	}
	if col.badKey {
		return record{}, true, ErrInvalidBaggageKey
	}
	if len(found) == 0 {
		return r, true, nil
	}
	// Carriers are maps: sort so that the result, and which spelling wins, never depends on map order.
	sort.Slice(found, func(i, j int) bool {
		if found[i].key != found[j].key {
			return found[i].key < found[j].key
		}
		return found[i].raw < found[j].raw
	})
	budget := baggageBudget{lim: lim.orDefault()}
	for _, b := range found {
		if b.sys && r.sys == nil {
			r.sys = make([]entry, 0, len(found))
		} else if !b.sys && r.biz == nil {
			r.biz = make([]entry, 0, len(found))
		}
		v := UnescapeSOFA(b.value)
		var added bool
		if b.sys {
			r.sys, added = addEntry(r.sys, b.key, v)
		} else {
			r.biz, added = addEntry(r.biz, b.key, v)
		}
		if added {
			if err := budget.add(b.sys, b.key, v); err != nil {
				return record{}, true, err
			}
		}
	}
	return r, true, nil
}

// b3Collector gathers baggage headers while ranging over a carrier.
type b3Collector struct {
	found           []b3Baggage
	tooMany, badKey bool
}

func (col *b3Collector) add(k, v string) bool {
	if !hasPrefixFold(k, b3BaggagePrefix) {
		return true
	}
	if len(col.found) >= 4*trace.MaxBaggageEntries { // duplicates in other spellings aside, this is too many
		col.tooMany = true
		return false
	}
	b := b3Baggage{raw: k, value: v}
	if hasPrefixFold(k, b3SysPrefix) {
		b.sys, b.key = true, strings.ToLower(k[len(b3SysPrefix):])
	} else {
		b.key = strings.ToLower(k[len(b3BaggagePrefix):])
	}
	if !isToken(b.key) && b.key != "" {
		col.badKey = true
		return false
	}
	if b.key != "" && v != "" {
		col.found = append(col.found, b)
	}
	return true
}
