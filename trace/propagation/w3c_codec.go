package propagation

import (
	"strings"

	"github.com/tracemdc/tracemdc/trace"
)

// Header names of W3C Trace Context and W3C Baggage, in net/http's canonical spelling.
const (
	HeaderTraceparent = "Traceparent"
	HeaderTracestate  = "Tracestate"
	HeaderBaggage     = "Baggage"
)

// getList reads a list-valued field: with a ValuesCarrier, its non-empty values joined with ','; with
// another carrier, Get's value.
func getList(c Carrier, key string) string {
	vc, ok := c.(ValuesCarrier)
	if !ok {
		return c.Get(key)
	}
	vs := vc.Values(key)
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	n := 0
	for _, v := range vs {
		n += len(v) + 1
	}
	var b strings.Builder
	b.Grow(n)
	for _, v := range vs {
		if v = trimOWS(v); v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(v)
	}
	return b.String()
}

// isLowerHex reports whether s is all lowercase hex digits and not all zeros.
func isLowerHexNonZero(s string) bool {
	nonZero := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f':
		default:
			return false
		}
		if c != '0' {
			nonZero = true
		}
	}
	return nonZero
}

// IsW3CTraceID reports whether id can be a W3C trace id: 32 lowercase hex digits, not all zero.
func IsW3CTraceID(id string) bool { return len(id) == 32 && isLowerHexNonZero(id) }

// IsW3CSpanID reports whether id can be a W3C span (parent) id: 16 lowercase hex digits, not all zero.
func IsW3CSpanID(id string) bool { return len(id) == 16 && isLowerHexNonZero(id) }

// parseTraceparent reads a W3C traceparent value: version-traceid-parentid-flags. Version 00 must be
// exactly 55 characters; a higher version may carry more fields after a '-', which are ignored (as the
// specification asks); version ff is invalid.
func parseTraceparent(s string) (traceID, spanID string, sampled bool, err error) {
	s = strings.TrimSpace(s)
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return "", "", false, ErrMalformedTraceparent
	}
	ver := s[:2]
	if !isHex2(ver) || ver == "ff" {
		return "", "", false, ErrMalformedTraceparent
	}
	if ver == "00" && len(s) != 55 {
		return "", "", false, ErrMalformedTraceparent
	}
	if len(s) > 55 && s[55] != '-' {
		return "", "", false, ErrMalformedTraceparent
	}
	traceID, spanID, flags := s[3:35], s[36:52], s[53:55]
	if !IsW3CTraceID(traceID) {
		return "", "", false, ErrInvalidTraceID
	}
	if !IsW3CSpanID(spanID) {
		return "", "", false, ErrInvalidSpanID
	}
	if !isHex2(flags) {
		return "", "", false, ErrMalformedTraceparent
	}
	lo, _ := unhex(flags[1])
	return traceID, spanID, lo&1 == 1, nil
}

func isHex2(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return len(s) == 2
}

// formatTraceparent writes version 00 with the sampled flag as the only flag. The ids must already be
// W3C ids.
func formatTraceparent(traceID, spanID string, sampled bool) string {
	var b [55]byte
	b[0], b[1], b[2] = '0', '0', '-'
	copy(b[3:35], traceID)
	b[35] = '-'
	copy(b[36:52], spanID)
	b[52], b[53], b[54] = '-', '0', '0'
	if sampled {
		b[54] = '1'
	}
	return string(b[:])
}

// validTracestate applies the cheap checks of W3C tracestate that decide whether it is carried at all:
// at most 512 characters of printable ASCII. It is otherwise passed on unchanged, as the specification
// asks of a participant that does not add its own entry.
func validTracestate(s string) bool {
	if len(s) > 512 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// isBaggageOctet reports whether c may appear unencoded in a W3C baggage value. '%' is allowed by the
// grammar but always encoded here, so that decoding is exact.
func isBaggageOctet(c byte) bool {
	return c == 0x21 || (0x23 <= c && c <= 0x2b && c != '%') || (0x2d <= c && c <= 0x3a) ||
		(0x3c <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e)
}

// escapeBaggageValue percent-encodes every byte of s that is not a baggage-octet (and '%').
func escapeBaggageValue(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isBaggageOctet(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&15])
	}
}

// unescapeBaggageValue decodes %XX sequences; any other '%' is an error, as is a byte outside the
// baggage-octet range.
func unescapeBaggageValue(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 {
		for i := 0; i < len(s); i++ {
			if !isBaggageOctet(s[i]) {
				return "", false
			}
		}
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' {
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
			continue
		}
		if !isBaggageOctet(c) {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), true
}

// encodeW3CBaggage writes entries as a W3C baggage header value: key=value pairs joined by ',', values
// percent-encoded. Keys must be tokens; other entries are left out and ErrInvalidBaggageKey is returned
// with the rest written.
func encodeW3CBaggage(entries kvRange) (string, error) {
	var (
		b   strings.Builder
		err error
	)
	for k, v := range entries {
		if !isToken(k) {
			err = ErrInvalidBaggageKey
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		escapeBaggageValue(&b, v)
	}
	return b.String(), err
}

func isOWS(c byte) bool { return c == ' ' || c == '\t' }

func trimOWS(s string) string {
	for len(s) > 0 && isOWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isOWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// decodeW3CBaggage parses a W3C baggage header value. Empty list members are skipped; properties (after
// ';') are accepted and dropped; for a key given twice the first value wins. As the W3C Baggage
// specification asks, a list-member that cannot be parsed (no '=', a key that is not a token, a value
// with a bad character or percent sequence) is dropped and the others are kept; d.Malformed counts it.
// Entries over the limits are dropped as admitter says (the load-test mark first) and recorded in d.
// Only the members that end within the first maxHeaderValue bytes are parsed (the specification's
// limit is 8192 bytes); the others are counted in d.Unread.
func decodeW3CBaggage(s string, lim limits, d *BaggageDropError) []entry {
	size := len(s)
	s, unread := cutList(s, ',')
	if unread > 0 {
		d.Unread, d.unreadErr, d.unreadSize = unread, ErrBaggageTooLarge, size
	}
	a := newAdmitter(false, lim.orDefault().biz, d)
	for rest := s; len(rest) > 0; { // the first mark member, whose room is reserved
		var member string
		member, rest = nextMember(rest)
		if k, v, ok := parseBaggageMember(member); ok && k == trace.BaggageKeyLoadTest {
			a.reserveMark(v)
			break
		}
	}
	for len(s) > 0 {
		var member string
		member, s = nextMember(s)
		if i := strings.IndexByte(member, ';'); i >= 0 {
			member = member[:i]
		}
		if trimOWS(member) == "" {
			continue
		}
		k, v, ok := parseBaggageMember(member)
		if !ok {
			d.Malformed++
			continue
		}
		a.add(k, v)
	}
	return a.kept
}

func nextMember(s string) (member, rest string) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// parseBaggageMember reads key=value[;properties] with optional whitespace around key and value.
func parseBaggageMember(member string) (k, v string, ok bool) {
	if i := strings.IndexByte(member, ';'); i >= 0 {
		member = member[:i] // properties carry nothing this tracer keeps
	}
	eq := strings.IndexByte(member, '=')
	if eq < 0 {
		return "", "", false
	}
	k, rawV := trimOWS(member[:eq]), trimOWS(member[eq+1:])
	if !isToken(k) {
		return "", "", false
	}
	if v, ok = unescapeBaggageValue(rawV); !ok {
		return "", "", false
	}
	return k, v, true
}
