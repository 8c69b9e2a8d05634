// Package idmap maps tracemdc's span and trace ids to the fixed-size ids of OpenTelemetry, Zipkin,
// Jaeger and the log-correlation formats of tracing vendors, the same way SOFATracer's Zipkin
// reporter does, so that a Java SOFATracer span and a Go span of one trace land together in one
// backend. It is the one place of the module that knows the mapping: exporters and mdc naming presets
// call it. It imports only the standard library.
//
//	idmap.TraceHex("0ad1348f1403169275002100356696") // "000ad1348f1403169275002100356696"
//	idmap.SpanHex("0.1")                             // "4e18dd181d0a2066"
//
// # Rules
//
// Trace ids: a W3C id (32 hex characters) is kept as it is, lower-cased. A SOFA id (hex characters
// only, at most 32 of them, possibly followed by the T of a load-test copy, which is dropped) is
// left-padded with 0 to 32 characters: SOFATracer's Zipkin reporter does the same. Any other id (not
// hex, longer than 32 characters) is hashed with 128-bit FNV-1a, so it still maps to one stable,
// valid id; an empty id maps to the zero id, which backends treat as absent.
//
// Span ids: a W3C id (16 hex characters) is kept as it is, lower-cased; any other non-empty id,
// rpcId-style SOFA ids among them ("0", "0.1", "0.1.1"), is hashed with 64-bit FNV-1a of its bytes
// (SOFATracer's Zipkin reporter: "0" → af63ad4c86019caf); the empty id maps to the zero id (a root's
// parent). A hash that comes out all zero, which W3C forbids, is replaced by 1.
package idmap

import (
	"encoding/binary"
	"encoding/hex"
	"hash/fnv"
)

const (
	// TraceHexLen and SpanHexLen are the lengths of the hex forms.
	TraceHexLen = 32
	SpanHexLen  = 16
)

// TraceID returns the 16-byte trace id of id (see the package doc for the rules).
func TraceID(id string) [16]byte {
	var out [16]byte
	if id == "" {
		return out
	}
	if decodeTrace(&out, id) {
		return out
	}
	out = [16]byte{}
	f := fnv.New128a()
	_, _ = f.Write([]byte(id))
	f.Sum(out[:0])
	if out == ([16]byte{}) {
		out[15] = 1
	}
	return out
}

// decodeTrace decodes a trace id that is passed on padded (a W3C id, or a SOFA id with or without its
// load-test T) into out, right-aligned, in one pass; it reports false for any other id.
func decodeTrace(out *[16]byte, id string) bool {
	h := id
	if n := len(h); n > 1 && h[n-1] == 'T' {
		h = h[:n-1]
	}
	if len(h) > TraceHexLen {
		return false
	}
	var seen byte             // the OR of every digit: zero for an all-zero id
	q := TraceHexLen - len(h) // the nibble h[0] goes to
	for i := 0; i < len(h); i, q = i+1, q+1 {
		v := hexVal[h[i]]
		if v > 0xf {
			return false
		}
		seen |= v
		if q&1 == 0 {
			out[q>>1] = v << 4
		} else {
			out[q>>1] |= v
		}
	}
	return seen != 0
}

// SpanID returns the 8-byte span id of id (see the package doc for the rules).
func SpanID(id string) [8]byte {
	var out [8]byte
	if id == "" {
		return out
	}
	if len(id) == SpanHexLen {
		var seen byte
		for i := 0; i < 8; i++ {
			hi, lo := hexVal[id[2*i]], hexVal[id[2*i+1]]
			if hi|lo > 0xf {
				seen = 0
				break
			}
			out[i] = hi<<4 | lo
			seen |= hi | lo
		}
		if seen != 0 {
			return out
		}
	}
	binary.BigEndian.PutUint64(out[:], fnv64a(id))
	if out == ([8]byte{}) {
		out[7] = 1
	}
	return out
}

// TraceHex returns TraceID(id) as 32 lowercase hex characters ("" for an empty id).
func TraceHex(id string) string {
	if id == "" {
		return ""
	}
	if len(id) == TraceHexLen && isLowerHex(id) {
		return id // the common W3C case: no work, no allocation
	}
	return string(AppendTraceHex(make([]byte, 0, TraceHexLen), id))
}

// SpanHex returns SpanID(id) as 16 lowercase hex characters ("" for an empty id).
func SpanHex(id string) string {
	if id == "" {
		return ""
	}
	if len(id) == SpanHexLen && isLowerHex(id) {
		return id
	}
	return string(AppendSpanHex(make([]byte, 0, SpanHexLen), id))
}

// AppendTraceHex appends the 32 hex characters of TraceID(id) to dst; nothing for an empty id.
func AppendTraceHex(dst []byte, id string) []byte {
	if id == "" {
		return dst
	}
	b := TraceID(id)
	return hex.AppendEncode(dst, b[:])
}

// AppendSpanHex appends the 16 hex characters of SpanID(id) to dst; nothing for an empty id.
func AppendSpanHex(dst []byte, id string) []byte {
	if id == "" {
		return dst
	}
	b := SpanID(id)
	return hex.AppendEncode(dst, b[:])
}

// IsW3CTraceID reports whether id is a W3C trace id: 32 hex characters, not all zero.
func IsW3CTraceID(id string) bool { return len(id) == TraceHexLen && isHex(id) && !allZero(id) }

// IsW3CSpanID reports whether id is a W3C span id: 16 hex characters, not all zero.
func IsW3CSpanID(id string) bool { return len(id) == SpanHexLen && isHex(id) && !allZero(id) }

func fnv64a(s string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= prime
	}
	return h
}

// hexVal is the value of each byte as a hex digit, 0xff for a byte that is not one.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := byte(0); i < 10; i++ {
		t['0'+i] = i
	}
	for i := byte(0); i < 6; i++ {
		t['a'+i], t['A'+i] = 10+i, 10+i
	}
	return t
}()

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if hexVal[s[i]] > 0xf {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return !allZero(s)
}

func allZero(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] != '0' {
			return false
		}
	}
	return true
}
