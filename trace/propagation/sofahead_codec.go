package propagation

import (
	"strings"
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

// encodeSofaHead serializes r as SOFATracer does:
// tcid=<t>&spid=<s>&pspid=<p>&sample=<true|false>&_sys_<k>=<v>&…<k>=<v>&…
// Keys and values are escaped with EscapeSOFA; entries with an empty key or value are skipped (a peer
// skips them too). A biz key that would be read back as another field (tcid, spid, pspid, sample or one
// starting with _sys_) is left out, and ErrInvalidBaggageKey is returned with the rest written.
func encodeSofaHead(r *record) (string, error) {
	var b strings.Builder
	n := len(r.traceID) + len(r.spanID) + len(r.parentID) + 40
	for _, e := range r.sys {
		n += len(e.key) + len(e.value) + 7
	}
	for _, e := range r.biz {
		n += len(e.key) + len(e.value) + 2
	}
	b.Grow(n)
	writeKV := func(prefix, k, v string) {
		b.WriteString(prefix)
		b.WriteString(EscapeSOFA(k))
		b.WriteByte('=')
		b.WriteString(EscapeSOFA(v))
		b.WriteByte('&')
	}
	writeKV("", sofaTraceKey, r.traceID)
	writeKV("", sofaSpanKey, r.spanID)
	if r.parentID != "" {
		writeKV("", sofaParentKey, r.parentID)
	}
	if r.sampled {
		writeKV("", sofaSampledKey, "true")
	} else {
		writeKV("", sofaSampledKey, "false")
	}
	for _, e := range r.sys {
		if e.key != "" && e.value != "" {
			writeKV(sofaSysPrefix, e.key, e.value)
		}
	}
	var err error
	for _, e := range r.biz {
		if e.key == "" || e.value == "" {
			continue
		}
		if reservedSofaKey(e.key) {
			err = ErrInvalidBaggageKey
			continue
		}
		writeKV("", e.key, e.value)
	}
	return b.String(), err
}

// decodeSofaHead parses a serialized SOFA context. Entries without '=' or with an empty key or value
// are skipped; for a key given twice the first value wins. A missing spid means "0" (as in SOFATracer);
// a missing tcid is ErrMissingID (SOFATracer would invent a new trace id; here the caller starts a new
// root). Ids are validated, baggage is held to the limits, and the sample flag must be a boolean.
func decodeSofaHead(s string) (record, error) {
	r := record{sampled: true}
	if len(s) > maxHeaderValue {
		return record{}, ErrBaggageTooLarge
	}
	var (
		budget     baggageBudget
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
