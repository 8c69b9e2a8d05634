package propagation

import (
	"net/http"
	"net/textproto"
	"strings"
)

// Carrier is where a propagator reads and writes its fields: request headers, or a plain map for other
// transports. Keys are matched case-insensitively (a HeaderCarrier looks for the spellings headers
// come in, see there). A nil Carrier is empty: Extract finds no context in
// it and Inject writes nothing to it (a nil HeaderCarrier or MapCarrier reads as empty, but Inject
// panics on it, as on any nil map).
type Carrier interface {
	// Get returns the first value stored under key, matched case-insensitively, or "" if there is none.
	Get(key string) string
	// Set stores value under key, replacing any value the key had.
	Set(key, value string)
	// Range calls f with every key and its first value, in no particular order, until f returns false.
	Range(f func(key, value string) bool)
}

// ValuesCarrier is a Carrier that can hold several values under one key, as HTTP header fields can. It
// is optional: where a propagator reads a list-valued field (W3C tracestate and baggage) and the
// carrier implements it, every value is read and the values are combined into one comma-separated list
// (RFC 9110 list semantics; W3C Trace Context requires it for tracestate). Other fields, and carriers
// without Values, are read with Get (the first value). HeaderCarrier implements it.
type ValuesCarrier interface {
	Carrier
	// Values returns every value stored under key, matched case-insensitively, in order; nil if none.
	Values(key string) []string
}

// HeaderCarrier is the Carrier form of an http.Header. Get and Values find a key in the spellings
// headers come in: as given, canonical as net/http writes it ("X-B3-Traceid"), all lower case (gRPC
// metadata, HTTP/2 and HTTP/3 field names, most hand-built maps), and, for this package's header names,
// the spelling their specification uses (X-B3-TraceId, X-B3-SpanId, X-B3-ParentSpanId, SOFA-TraceId,
// SOFA-RpcId). The first of these spellings the header holds wins, so the choice never depends on map
// iteration order. Each is one map lookup and allocates nothing, so a header that is absent costs as
// little as before; other spellings ("X-B3-TRACEID") would need a scan of the whole header for every
// absent name and are not looked for: convert such a map to a MapCarrier, which matches any case.
// The baggage-* headers of B3 are found in any spelling (B3 ranges over the header for them).
//
// Get returns the first value of the spelling found and Values (see ValuesCarrier) all of its values,
// so Get(k) is always Values(k)[0]. Range visits every stored spelling, and Get of a key Range gives
// returns the value Range gave with it. Set stores the canonical spelling, as http.Header.Set does.
type HeaderCarrier http.Header

var _ Carrier = HeaderCarrier(nil)

// Get returns the first value of key (see HeaderCarrier for the spellings matched).
func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 { // fast path: key stored as given (the propagators pass canonical keys)
		return v[0]
	}
	if v := c.lookup(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns all values of key, found as Get finds it; nil if there are none.
func (c HeaderCarrier) Values(key string) []string {
	if v := c[key]; len(v) > 0 { // fast path
		return v
	}
	return c.lookup(key)
}

// lookup finds the values of key when it is not stored as given: under its canonical spelling, its
// lower-case spelling, or its specification's spelling. One pass over key tells whether it is already
// canonical or lower case (then that lookup is skipped) and writes the lower-case form into a stack
// buffer, so that nothing is allocated for keys of up to 64 bytes.
func (c HeaderCarrier) lookup(key string) []string {
	var buf [64]byte
	if len(key) > len(buf) {
		if v := c[textproto.CanonicalMIMEHeaderKey(key)]; len(v) > 0 {
			return v
		}
		return c[strings.ToLower(key)]
	}
	b := buf[:len(key)]
	canonical, lower, wordStart := true, true, true
	for i := 0; i < len(key); i++ {
		ch := key[i]
		switch {
		case 'A' <= ch && ch <= 'Z':
			canonical = canonical && wordStart
			lower = false
			ch += 'a' - 'A'
		case 'a' <= ch && ch <= 'z':
			canonical = canonical && !wordStart
		}
		b[i] = ch
		wordStart = ch == '-'
	}
	if !canonical { // a key that is canonical already (or not a valid name) canonicalizes to itself
		if ck := textproto.CanonicalMIMEHeaderKey(key); ck != key {
			if v := c[ck]; len(v) > 0 {
				return v
			}
		}
	}
	if !lower {
		if v := c[string(b)]; len(v) > 0 { // the compiler makes no string for a map index
			return v
		}
	}
	if sk := specSpelling(key); sk != "" {
		return c[sk]
	}
	return nil
}

// specSpelling returns the spelling the specification of one of this package's header names uses when
// it is neither canonical nor lower case, else "".
func specSpelling(key string) string {
	switch {
	case equalFoldASCII(key, HeaderB3TraceID):
		return "X-B3-TraceId"
	case equalFoldASCII(key, HeaderB3SpanID):
		return "X-B3-SpanId"
	case equalFoldASCII(key, HeaderB3ParentSpanID):
		return "X-B3-ParentSpanId"
	case equalFoldASCII(key, HeaderSofaTraceID):
		return "SOFA-TraceId"
	case equalFoldASCII(key, HeaderSofaRpcID):
		return "SOFA-RpcId"
	}
	return ""
}

var _ ValuesCarrier = HeaderCarrier(nil)

// Set replaces the values of key with value.
func (c HeaderCarrier) Set(key, value string) { http.Header(c).Set(key, value) }

// Range calls f with each key and its first value.
func (c HeaderCarrier) Range(f func(key, value string) bool) {
	for k, v := range c {
		if len(v) == 0 {
			continue
		}
		if !f(k, v[0]) {
			return
		}
	}
}

// MapCarrier is the Carrier form of a plain map, for transports other than HTTP (message headers, RPC
// attachments). Set stores keys in lower case. Get finds a key whatever its case; if a map filled by
// someone else holds one key in several spellings, the spelling that sorts first (byte order) wins, so
// the choice never depends on map iteration order.
type MapCarrier map[string]string

var _ Carrier = MapCarrier(nil)

// Get returns the value of key, matched case-insensitively.
func (c MapCarrier) Get(key string) string {
	found, best := false, ""
	for k := range c {
		if strings.EqualFold(k, key) && (!found || k < best) {
			found, best = true, k
		}
	}
	if !found {
		return ""
	}
	return c[best]
}

// Set stores value under strings.ToLower(key), removing other spellings of the key.
func (c MapCarrier) Set(key, value string) {
	lower := strings.ToLower(key)
	for k := range c {
		if k != lower && strings.EqualFold(k, key) {
			delete(c, k)
		}
	}
	c[lower] = value
}

// Range calls f with each key and its value. Keys that differ only in case are all visited.
func (c MapCarrier) Range(f func(key, value string) bool) {
	for k, v := range c {
		if !f(k, v) {
			return
		}
	}
}
