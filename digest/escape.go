package digest

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// truncMarker ends a value cut at the configured maximum length; the number of bytes left out follows.
const truncMarker = "...(truncated "

// appendJSONString appends s as a quoted JSON string. Quotes, backslashes and every ASCII control
// character (below 0x20, and DEL) are escaped, U+2028 and U+2029 too (JavaScript line terminators),
// and invalid UTF-8 becomes U+FFFD,
// so the result is always valid JSON on one line. A value longer than limit bytes (limit > 0) is cut
// at a rune boundary and ends with "...(truncated N bytes)".
func appendJSONString(b []byte, s string, limit int) []byte {
	b = append(b, '"')
	b = appendJSONEscaped(b, s, limit)
	return append(b, '"')
}

// appendJSONEscaped is appendJSONString without the quotes.
func appendJSONEscaped(b []byte, s string, limit int) []byte {
	s, cut := truncate(s, limit)
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7f && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			if c == '"' || c == '\\' {
				b = append(b, '\\', c)
			} else {
				b = appendControl(b, c)
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = appendU4(b, r)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return appendCut(b, cut)
}

// appendControl appends the escape of the ASCII control character c (or DEL): \n, \r, \t or \u00XX.
func appendControl(b []byte, c byte) []byte {
	switch c {
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendU4 appends the escape \uXXXX of r, a rune of the Basic Multilingual Plane.
func appendU4(b []byte, r rune) []byte {
	return append(b, '\\', 'u', hexDigits[r>>12&0xf], hexDigits[r>>8&0xf], hexDigits[r>>4&0xf], hexDigits[r&0xf])
}

// plain8 reports whether the 8 bytes of s need no JSON escaping: all ASCII, none below 0x20, no DEL,
// no quote and no backslash. It tests the 8 bytes at once (SWAR); s must be 8 bytes long.
func plain8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - lo*0x20) &^ x // high bit set where a byte is < 0x20 (or >= 0x80, caught below)
	// x + 1 per byte sets the high bit of a byte 0x7f (DEL); no byte carries into the next unless
	// it is 0xff, and then x has a high bit set and the result is false anyway.
	del := x + lo
	q := x ^ (lo * '"')   // zero bytes where a byte is '"'
	bs := x ^ (lo * '\\') // zero bytes where a byte is '\\'
	zq := (q - lo) &^ q   // high bit set where q has a zero byte
	zb := (bs - lo) &^ bs // likewise for backslashes
	return (x|ctl|del|zq|zb)&hi == 0
}

// appendCSVField appends s escaped for one comma-separated field: '%' becomes %25, ',' %2C, and
// every ASCII control character %XX of its code (line ends %0A and %0D, NUL %00, ESC %1B, DEL %7F),
// so no raw control byte reaches a line (SOFATracer escapes only the commas of baggage; escaping '%'
// as well makes the encoding reversible). Invalid UTF-8 becomes U+FFFD. Long values are cut as in
// appendJSONString.
func appendCSVField(b []byte, s string, limit int) []byte {
	s, cut := truncate(s, limit)
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '%' && c != ',' && c >= 0x20 && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&0xf])
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			start = i + 1
		}
		i += size
	}
	b = append(b, s[start:]...)
	return appendCut(b, cut)
}

// appendCut appends the marker that ends a value cut by truncate, when cut > 0 bytes were left out.
func appendCut(b []byte, cut int) []byte {
	if cut <= 0 {
		return b
	}
	b = append(b, truncMarker...)
	b = strconv.AppendInt(b, int64(cut), 10)
	return append(b, " bytes)"...)
}

// truncate cuts s to at most limit bytes at a rune boundary and returns how many bytes were cut.
func truncate(s string, limit int) (string, int) {
	if limit <= 0 || len(s) <= limit {
		return s, 0
	}
	n := limit
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], len(s) - n
}
