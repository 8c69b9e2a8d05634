package propagation

import "strings"

// The value layer of SOFATracer's B3 headers. SOFATracer's HttpHeadersB3Formatter passes every header
// value it writes through Java's URLEncoder.encode(v, "UTF-8") and every value it reads through
// URLDecoder.decode(v, "UTF-8"): the ids and X-B3-Sampled as they are, baggage values after (on
// extract: before) SOFA's own escaping of '%', '&' and '=' (StringUtils.escapePercentEqualAnd and
// unescapeEqualAndPercent). Baggage keys, in the header name, get SOFA's escaping only.
//
// So biz baggage a&b=c travels as "baggage-k: a%2526b%253Dc", and "hello world" as "hello+world".
// URLEncoder keeps A-Z a-z 0-9 and ". - * _", writes a space as '+', and writes every other byte of
// the UTF-8 text as %XX (upper-case hex). URLDecoder turns '+' into a space and %XX into its byte.

// formClass sorts a byte by what encodeB3Value writes for it.
const (
	formKeep  = iota // as it is: A-Z a-z 0-9 . - * _
	formSpace        // '+'
	formByte         // %XX
	formSOFA         // '%', '&', '=': SOFA's %25, %26, %3D, then URL-encoded: %2525, %2526, %253D
)

var formClass = func() (t [256]uint8) {
	for i := range t {
		t[i] = formByte
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = formKeep, formKeep
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = formKeep
	}
	for _, c := range ".-*_" {
		t[c] = formKeep
	}
	t[' '] = formSpace
	t['%'], t['&'], t['='] = formSOFA, formSOFA, formSOFA
	return t
}()

// encodeB3Value writes a baggage value as SOFATracer writes it into a B3 header:
// URLEncoder.encode(escapePercentEqualAnd(s), "UTF-8"). Bytes that are not valid UTF-8 (which no Java
// string holds) are written as %XX each, so that decodeB3Value gives them back. A value with nothing
// to encode is returned as it is, without allocating.
func encodeB3Value(s string) string {
	extra, clean := 0, true
	for i := 0; i < len(s); i++ {
		switch formClass[s[i]] {
		case formKeep:
		case formSpace:
			clean = false
		case formByte:
			extra += 2
		case formSOFA:
			extra += 4
		}
	}
	if clean && extra == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + extra)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch formClass[c] {
		case formKeep:
			b.WriteByte(c)
		case formSpace:
			b.WriteByte('+')
		case formSOFA: // SOFA's %XX, whose '%' URL-encodes as %25: %25XX
			b.WriteString("%25")
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		case formByte:
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		}
	}
	return b.String()
}

// decodeB3Value reads a baggage value as SOFATracer reads a B3 header:
// unescapeEqualAndPercent(URLDecoder.decode(s, "UTF-8")). That is: '+' is a space and %XX (either case)
// its byte; then, in the decoded text, %25, %26 and %3D (upper case, as SOFA matches them) are '%',
// '&' and '='; any other '%' stays as it is. Decoded bytes are kept as they are, valid UTF-8 or not
// (Java would read a U+FFFD for each invalid sequence; a Java peer never sends one).
//
// ok is false for a '%' not followed by two hex digits, where URLDecoder throws
// IllegalArgumentException (and a SOFATracer server fails the request): the caller drops that entry,
// and counts it, instead. A value without '%' or '+' is returned as it is, without allocating.
func decodeB3Value(s string) (v string, ok bool) {
	if !formEncoded(s) {
		return s, true
	}
	var stack [128]byte
	buf, ok := formDecode(stack[:0], s)
	if !ok {
		return "", false
	}
	return string(unescapeSOFA3(buf, false)), true
}

// decodeB3Field reads an id or sampled header value as SOFATracer reads it: URLDecoder.decode only
// (the ids a SOFA peer writes have nothing to encode, so it sends them as they are). A malformed
// %-sequence leaves the value as it is; the id check then rejects it.
func decodeB3Field(s string) string {
	if !formEncoded(s) {
		return s
	}
	var stack [128]byte
	if buf, ok := formDecode(stack[:0], s); ok {
		return string(buf)
	}
	return s
}

// formEncoded reports whether s holds anything URLDecoder would change: a '%' or a '+'. It is small
// enough to be inlined, so a caller can skip the call to a decoder for the plain values most are.
func formEncoded(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '%' || c == '+' {
			return true
		}
	}
	return false
}

// formDecode appends s decoded as URLDecoder decodes it to dst ('+' is a space, %XX in either case its
// byte, every other byte itself); ok is false for a '%' not followed by two hex digits. dst grows
// once, to len(s), if it is too small.
func formDecode(dst []byte, s string) (_ []byte, ok bool) {
	if cap(dst)-len(dst) < len(s) {
		dst = append(make([]byte, 0, len(dst)+len(s)), dst...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '+':
			dst = append(dst, ' ')
		case '%':
			if i+2 >= len(s) {
				return dst, false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return dst, false
			}
			dst = append(dst, hi<<4|lo)
			i += 2
		default:
			dst = append(dst, c)
		}
	}
	return dst, true
}

// unescapeSOFA3 is SOFATracer's unescapeEqualAndPercent, in place: %3D, %26 and %25 become '=', '&'
// and '%', in one pass from the left (the same result as Java's three replaceAll calls, since no two
// of the sequences can overlap and no replacement makes a new one that a later call would take).
// Other bytes, '%' included, are kept. Java matches "%3D" only; foldCase accepts "%3d" too, for header
// names, which HTTP stacks may fold to lower case.
func unescapeSOFA3(b []byte, foldCase bool) []byte {
	w := 0
	for r := 0; r < len(b); r++ {
		c := b[r]
		if c == '%' && r+2 < len(b) {
			switch x, y := b[r+1], b[r+2]; {
			case x == '2' && y == '5':
				c, r = '%', r+2
			case x == '2' && y == '6':
				c, r = '&', r+2
			case x == '3' && (y == 'D' || foldCase && y == 'd'):
				c, r = '=', r+2
			}
		}
		b[w] = c
		w++
	}
	return b[:w]
}

// sofa3 is SOFATracer's escapePercentEqualAnd.
var sofa3 = strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D")

// encodeB3Key escapes a baggage key for a B3 header name as SOFATracer does: escapePercentEqualAnd
// only ('%' → %25, '&' → %26, '=' → %3D), no URL encoding. ok is false when the result is not an HTTP
// token (the characters a header name may hold): such a key cannot be sent.
func encodeB3Key(k string) (string, bool) {
	if strings.ContainsAny(k, "%&=") {
		k = sofa3.Replace(k)
	}
	return k, isToken(k)
}

// decodeB3Key reverses encodeB3Key on the key part of a header name: SOFATracer's
// unescapeEqualAndPercent, taking %3d as well as %3D (a header name's case is not kept).
func decodeB3Key(k string) string {
	for i := 0; i < len(k); i++ {
		if k[i] == '%' {
			return string(unescapeSOFA3([]byte(k), true))
		}
	}
	return k
}
