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
// Keys and values are escaped with EscapeSOFA; entries with an empty key or value are skipped (a peer
// skips them too), as is an empty parent id. A biz key that would be read back as another field (tcid,
// spid, pspid, sample or one starting with _sys_) is left out, and ErrInvalidBaggageKey is returned with
// the rest written.
func encodeSofaHead(sc trace.SpanContext) (string, error) {
	return encodeSofaFields(sc.TraceID(), sc.SpanID(), sc.ParentID(), sc.Sampled(), sc.SysBaggage().Range, sc.BizBaggage().Range)
}

func encodeSofaFields(traceID, spanID, parentID string, sampled bool, sys, biz kvRange) (string, error) {
	var b strings.Builder
	b.Grow(len(traceID) + len(spanID) + len(parentID) + 40)
	writeKV := func(prefix, k, v string) {
		b.WriteString(prefix)
		b.WriteString(EscapeSOFA(k))
		b.WriteByte('=')
		b.WriteString(EscapeSOFA(v))
		b.WriteByte('&')
	}
	writeKV("", sofaTraceKey, traceID)
	writeKV("", sofaSpanKey, spanID)
	if parentID != "" {
		writeKV("", sofaParentKey, parentID)
	}
	if sampled {
		writeKV("", sofaSampledKey, "true")
	} else {
		writeKV("", sofaSampledKey, "false")
	}
	for k, v := range sys {
		if k != "" && v != "" {
			writeKV(sofaSysPrefix, k, v)
		}
	}
	var err error
	for k, v := range biz {
		if k == "" || v == "" {
			continue
		}
		if reservedSofaKey(k) {
			err = ErrInvalidBaggageKey
			continue
		}
		writeKV("", k, v)
	}
	return b.String(), err
}

// decodeSofaHead parses a serialized SOFA context. Entries without '=' or with an empty key or value
// are skipped; for a key given twice the first value wins. A missing spid means "0" (as in SOFATracer);
// a missing tcid is ErrMissingID (SOFATracer would invent a new trace id; here the caller starts a new
// root). Ids are validated, baggage is held to the limits, and the sample flag must be a boolean.
func decodeSofaHead(s string, lim limits) (record, error) {
	r := record{sampled: true}
	if len(s) > maxHeaderValue {
		return record{}, ErrBaggageTooLarge
	}
	var (
		budget     = baggageBudget{lim: lim.orDefault()}
		haveSample bool
	)
	for len(s) > 0 {
		var part string
		if i := strings.IndexByte(s, '&'); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			part, s = s, ""
		}
		eq := strings.IndexByte(part, '=')
		if eq <= 0 || eq == len(part)-1 {
			continue
		}
		k, v := UnescapeSOFA(part[:eq]), UnescapeSOFA(part[eq+1:])
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
				sampled, ok := parseBool(v)
				if !ok {
					return record{}, ErrInvalidSampled
				}
				r.sampled, haveSample = sampled, true
			}
		case strings.HasPrefix(k, sofaSysPrefix):
			k = k[len(sofaSysPrefix):]
			if k == "" {
				continue
			}
			var added bool
			if r.sys, added = addEntry(r.sys, k, v); added {
				if err := budget.add(true, k, v); err != nil {
					return record{}, err
				}
			}
		default:
			var added bool
			if r.biz, added = addEntry(r.biz, k, v); added {
				if err := budget.add(false, k, v); err != nil {
					return record{}, err
				}
			}
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
	return r, nil
}
