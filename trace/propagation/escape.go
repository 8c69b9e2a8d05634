package propagation

import "strings"

const upperHex = "0123456789ABCDEF"

// sofaNeedsEscape reports whether b is written as %XX by EscapeSOFA: the three characters SOFATracer
// escapes ('%', '&', '=') and the ASCII control characters, which no HTTP header value may carry.
func sofaNeedsEscape(b byte) bool {
	return b == '%' || b == '&' || b == '=' || b < 0x20 || b == 0x7f
}

// EscapeSOFA escapes a baggage key or value as SOFATracer does ('%' → "%25", '&' → "%26",
// '=' → "%3D"), and also escapes ASCII control characters as %XX so that the result is always a legal
// HTTP header value. Other bytes, including UTF-8, are kept. A string with nothing to escape is returned
// as is, without allocating.
func EscapeSOFA(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if sofaNeedsEscape(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if sofaNeedsEscape(c) {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// UnescapeSOFA reverses EscapeSOFA: every %XX (either case) becomes its byte. It is lenient, as a
// SOFATracer peer is: a '%' not followed by two hex digits is kept literally. Since EscapeSOFA escapes
// every '%', UnescapeSOFA(EscapeSOFA(s)) == s for every s.
func UnescapeSOFA(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if ok1 && ok2 {
				b.WriteByte(hi<<4 | lo)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
