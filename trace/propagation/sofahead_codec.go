package propagation

import (
	"strings"

	"github.com/tracemdc/tracemdc/trace"
)

// Keys of the serialized SOFA context.
const (
	sofaTraceKey   = "tcid"
	sofaSpanKey    = "spid"
	sofaParentKey  = "pspid"
	sofaSampledKey = "sample"
	sofaSysPrefix  = "_sys_"
)

// reservedSofaKey reports whether a biz baggage key would be read back as something else from the
// serialized form.
func reservedSofaKey(k string) bool {
	switch k {
	case sofaTraceKey, sofaSpanKey, sofaParentKey, sofaSampledKey:
		return true
	}
	return strings.HasPrefix(k, sofaSysPrefix)
}

// encodeSofaHead serializes sc as SOFATracer does:
// tcid=<t>&spid=<s>&pspid=<p>&sample=<true|false>&_sys_<k>=<v>&…<k>=<v>&…
// Keys and values are escaped with EscapeSOFA; baggage entries with an empty key or value are skipped
// (a peer skips them too). The four context fields are always written, in this order: a root span's
// empty parent id is written as "pspid=&", as SOFATracer writes it, so a root's header has the same
// shape in Go and Java (tcid=<t>&spid=0&pspid=&sample=true&). A biz key that would be read back as another field (tcid,
// spid, pspid, sample or one starting with _sys_) is left out, and ErrInvalidBaggageKey is returned with
// the rest written.
func encodeSofaHead(sc trace.SpanContext) (string, error) {
	return encodeSofaFields(sc.TraceID(), sc.SpanID(), sc.ParentID(), sc.Sampled(), sc.SysBaggage().Range, sc.BizBaggage().Range)
}

func encodeSofaFields(traceID, spanID, parentID string, sampled bool, sys, biz kvRange) (string, error) {
	var b strings.Builder
	b.Grow(len(traceID) + len(spanID) + len(parentID) + 40)
	writeSofaKV(&b, "", sofaTraceKey, traceID)
	writeSofaKV(&b, "", sofaSpanKey, spanID)
	writeSofaKV(&b, "", sofaParentKey, parentID)
	if sampled {
		writeSofaKV(&b, "", sofaSampledKey, "true")
	} else {
		writeSofaKV(&b, "", sofaSampledKey, "false")
	}
	writeSofaBaggage(&b, sofaSysPrefix, sys)
	var err error
	for k, v := range biz {
		if k == "" || v == "" {
			continue
		}
		if reservedSofaKey(k) {
			err = ErrInvalidBaggageKey
			continue
		}
		writeSofaKV(&b, "", k, v)
	}
	return b.String(), err
}

// writeSofaKV writes prefix, then key=value& with key and value escaped by EscapeSOFA.
func writeSofaKV(b *strings.Builder, prefix, k, v string) {
	b.WriteString(prefix)
	b.WriteString(EscapeSOFA(k))
	b.WriteByte('=')
	b.WriteString(EscapeSOFA(v))
	b.WriteByte('&')
}

// writeSofaBaggage writes the entries of bg as writeSofaKV does, skipping those with an empty key or
// value: SOFATracer's serialized baggage (SofaTracerSpanContext's biz and sys baggage strings).
func writeSofaBaggage(b *strings.Builder, prefix string, bg kvRange) {
	for k, v := range bg {
		if k != "" && v != "" {
			writeSofaKV(b, prefix, k, v)
		}
	}
}

// decodeSofaHead parses a serialized SOFA context. Entries without '=' or with an empty key or value
// are skipped; for a key given twice the first value wins. A missing spid means "0" (as in SOFATracer);
// a missing tcid is ErrMissingID (SOFATracer would invent a new trace id; here the caller starts a new
// root). Ids are validated: a bad one rejects the input. A sample that is not a boolean does not: it is
// ignored (sampled, as when absent) and named in r.badSampled.
//
// Baggage never rejects it: entries over the limits are dropped as admitter says (the load-test mark
// first) and recorded in d. Only the entries that end within the first maxHeaderValue bytes are
// parsed; the rest are counted in d.Unread (SOFATracer writes the ids first, so they are kept).
func decodeSofaHead(s string, lim limits, d *BaggageDropError) (record, error) {
	r := record{sampled: true}
	size := len(s)
	s, unread := cutList(s, '&')
	if unread > 0 {
		d.Unread, d.unreadErr, d.unreadSize = unread, ErrBaggageTooLarge, size
	}
	lim = lim.orDefault()
	sys, biz := newAdmitter(true, lim.sys, d), newAdmitter(false, lim.biz, d)
	reserveSofaMark(s, &biz)
	haveSample := false
	for len(s) > 0 {
		var k, v string
		if k, v, s = nextSofaPart(s); k == "" {
			continue
		}
		switch {
		case k == sofaTraceKey:
			if r.traceID == "" {
				r.traceID = v
			}
		case k == sofaSpanKey:
			if r.spanID == "" {
				r.spanID = v
			}
		case k == sofaParentKey:
			if r.parentID == "" {
				r.parentID = v
			}
		case k == sofaSampledKey:
			if !haveSample {
				haveSample = true
				if sampled, ok := parseBool(v); ok {
					r.sampled = sampled
				} else {
					r.badSampled = HeaderSofaHead // ignored: sampled as when absent
				}
			}
		case strings.HasPrefix(k, sofaSysPrefix):
			if k = k[len(sofaSysPrefix):]; k != "" {
				sys.add(k, v)
			}
		default:
			biz.add(k, v)
		}
	}
	if r.traceID == "" {
		return record{}, ErrMissingID
	}
	if r.spanID == "" {
		r.spanID = "0"
	}
	if err := r.checkIDs(); err != nil {
		return record{}, err
	}
	r.sys, r.biz = sys.kept, biz.kept
	return r, nil
}

// reserveSofaMark reserves in biz the room of the first load-test mark entry of serialized SOFA
// baggage s (see admitter.reserveMark).
func reserveSofaMark(s string, biz *admitter) {
	for rest := s; len(rest) > 0; {
		part := rest
		if i := strings.IndexByte(rest, '&'); i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if v, ok := strings.CutPrefix(part, trace.BaggageKeyLoadTest+"="); ok && v != "" {
			biz.reserveMark(v)
			return
		}
	}
}

// nextSofaPart splits the first '&'-separated part off s and unescapes its key and value. k is ""
// for a part without '=' or with an empty key or value (such parts are skipped).
func nextSofaPart(s string) (k, v, rest string) {
	part := s
	if i := strings.IndexByte(s, '&'); i >= 0 {
		part, rest = s[:i], s[i+1:]
	}
	eq := strings.IndexByte(part, '=')
	if eq <= 0 || eq == len(part)-1 {
		return "", "", rest
	}
	return UnescapeSOFA(part[:eq]), UnescapeSOFA(part[eq+1:]), rest
}
