package propagation

import (
	"net/http"
	"strings"
)

// Carrier is where a propagator reads and writes its fields: request headers, or a plain map for other
// transports. Keys are matched case-insensitively. A nil Carrier is empty: Extract finds no context in
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

// HeaderCarrier is the Carrier form of an http.Header. Keys are canonicalized as net/http does (so
// "x-b3-traceid" and "X-B3-TraceId" are one key). Get returns the first value of a key; Values (see
// ValuesCarrier) returns them all, for the list-valued fields.
type HeaderCarrier http.Header

var _ Carrier = HeaderCarrier(nil)

// Get returns the first value of key.
func (c HeaderCarrier) Get(key string) string {
	if v := c[key]; len(v) > 0 { // fast path: key already canonical, as the propagators pass it
		return v[0]
	}
	return http.Header(c).Get(key)
}

// Values returns all values of key, as http.Header.Values does.
func (c HeaderCarrier) Values(key string) []string {
	if v, ok := c[key]; ok { // fast path: key already canonical
		return v
	}
	return http.Header(c).Values(key)
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
