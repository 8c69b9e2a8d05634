package propagation

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
)

// entriesFrom splits s at NUL bytes into alternating keys and values.
func entriesFrom(s string) []entry {
	parts := strings.Split(s, "\x00")
	var out []entry
	for i := 0; i+1 < len(parts); i += 2 {
		out = append(out, entry{Key: parts[i], Value: parts[i+1]})
	}
	return out
}

// dedupe keeps the first entry of each key and the entries keep(e) accepts, at most one more than
// MaxBaggageEntries (enough to cross the limit; more would only make the fuzzer slow).
func dedupe(in []entry, keep func(entry) bool) []entry {
	var out []entry
	for _, e := range in {
		if len(out) > trace.MaxBaggageEntries {
			break
		}
		if keep(e) {
			out, _ = addEntry(out, e.Key, e.Value)
		}
	}
	return out
}

// withinLimits reports whether es fits trace.DefaultBaggageLimit and trace.MaxBaggageEntries (entries
// with an empty value take no room).
func withinLimits(es []entry) bool {
	size, n := 0, 0
	for _, e := range es {
		if e.Value != "" {
			size += len(e.Key) + len(e.Value)
			n++
		}
	}
	return size <= trace.DefaultBaggageLimit && n <= trace.MaxBaggageEntries
}

// subsequence reports whether sub is in in, in the same order.
func subsequence(sub, in []entry) bool {
	i := 0
	for _, e := range in {
		if i < len(sub) && sub[i] == e {
			i++
		}
	}
	return i == len(sub)
}

// checkDecoded: input within the limits decodes exactly and drops nothing; input over them decodes to
// an in-order part of it that fits, and the drop is reported.
func checkDecoded(t *testing.T, what string, got, want []entry, fits bool, d *BaggageDropError) {
	t.Helper()
	if d.Malformed != 0 || d.InvalidKeys != 0 {
		t.Fatalf("%s: encoder output read as malformed: %+v", what, d)
	}
	if fits {
		if dropped(d) != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: decode(encode(%+v)) = %+v, drops %+v", what, want, got, d)
		}
		return
	}
	if dropped(d) == nil || !errors.Is(d, ErrBaggageDropped) {
		t.Fatalf("%s: over the limits, nothing reported dropped", what)
	}
	if !subsequence(got, want) || !withinLimits(got) {
		t.Fatalf("%s: kept %+v of %+v", what, got, want)
	}
}

// FuzzBaggageCodec checks decode(encode(x)) == x for the three baggage encodings (SOFA escaping,
// sftc_head, W3C baggage), and that decoding arbitrary text never panics and is stable.
func FuzzBaggageCodec(f *testing.F) {
	for _, s := range []string{
		"mark\x00T",
		"k%\x00v%25&=\x00amp&\x00=eq=",
		"uni\x00你好, wörld;\x00sys-x\x00y",
		"tcid\x00evil\x00_sys_a\x00b",
		"a\x00\x00\x00v",
		"ctl\x00line\nbreak\x7f\x00pct\x00%zz%4",
		"mark=T,pct=100%25=x&y%2Cz%3Bw,uni=%E4%BD%A0",
		"tcid=abc&spid=0.1&pspid=0&sample=true&_sys_zone=gz&mark=T&",
		"a%2526b%253Dc", "hello+world", "ab+c/d==", "100%", "%C3%bc", "~*'", "%+1", "%252541", "a=b&c%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// SOFA escaping is exact for every string, and its output carries no separator or control byte.
		esc := EscapeSOFA(s)
		if got := UnescapeSOFA(esc); got != s {
			t.Fatalf("UnescapeSOFA(EscapeSOFA(%q)) = %q", s, got)
		}
		if strings.ContainsAny(esc, "&=\r\n\x00") {
			t.Fatalf("EscapeSOFA(%q) = %q keeps a separator", s, esc)
		}
		// B3 values: SOFATracer's bytes (the oracle is net/url's QueryEscape, which differs from Java's
		// URLEncoder only on '*' and '~'), and back exactly; the output is a legal header value.
		b3 := encodeB3Value(s)
		if want := javaB3Written(s); b3 != want {
			t.Fatalf("encodeB3Value(%q) = %q, SOFATracer writes %q", s, b3, want)
		}
		if back, ok := decodeB3Value(b3); !ok || back != s {
			t.Fatalf("decodeB3Value(encodeB3Value(%q)) = %q, %v", s, back, ok)
		}
		if strings.Trim(b3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-*_+%") != "" {
			t.Fatalf("encodeB3Value(%q) = %q holds a byte URLEncoder never writes", s, b3)
		}
		// Arbitrary header values decode as SOFATracer decodes them, or are malformed where it throws,
		// and what decodes encodes to a value that decodes to the same.
		v, ok := decodeB3Value(s)
		if u, err := url.QueryUnescape(s); (err == nil) != ok ||
			ok && v != strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(u, "%3D", "="), "%26", "&"), "%25", "%") {
			t.Fatalf("decodeB3Value(%q) = %q, %v; net/url: %q, %v", s, v, ok, u, err)
		}
		if ok {
			if again, ok := decodeB3Value(encodeB3Value(v)); !ok || again != v {
				t.Fatalf("unstable: %q -> %q -> %q", s, v, again)
			}
		}
		// B3 keys: SOFA-escaped only, read back (in lower case, as header names come) exactly.
		if ek, ok := encodeB3Key(s); ok {
			if got := decodeB3Key(strings.ToLower(ek)); got != strings.ToLower(s) {
				t.Fatalf("decodeB3Key(encodeB3Key(%q) = %q) = %q", s, ek, got)
			}
		}

		in := entriesFrom(s)

		// W3C baggage: keys must be tokens; empty values are carried.
		w3c := dedupe(in, func(e entry) bool { return isToken(e.Key) })
		enc, err := encodeW3CBaggage(entriesRange(w3c))
		if err != nil {
			t.Fatalf("encode %+v: %v", w3c, err)
		}
		var d BaggageDropError
		dec := decodeW3CBaggage(enc, limits{}, &d)
		checkDecoded(t, "w3c", dec, w3c, len(enc) <= maxHeaderValue && withinLimits(w3c), &d)

		// sftc_head: biz and sys baggage with non-empty keys and values, biz keys not reserved.
		biz := dedupe(in, func(e entry) bool { return e.Key != "" && e.Value != "" && !reservedSofaKey(e.Key) })
		sys := dedupe(in, func(e entry) bool { return e.Key != "" && e.Value != "" })
		r := record{traceID: "0ad1348f1403169275002100356696", spanID: "0.1", parentID: "0", sampled: true, sys: sys, biz: biz}
		head, err := encodeSofaFields(r.traceID, r.spanID, r.parentID, r.sampled, entriesRange(sys), entriesRange(biz))
		if err != nil {
			t.Fatalf("encodeSofaHead: %v", err)
		}
		d = BaggageDropError{}
		back, err := decodeSofaHead(head, limits{}, &d)
		if err != nil || back.traceID != r.traceID || back.spanID != r.spanID || back.parentID != r.parentID || !back.sampled {
			t.Fatalf("decodeSofaHead(%q) = %+v, %v", head, back, err)
		}
		fits := len(head) <= maxHeaderValue && withinLimits(sys) && withinLimits(biz)
		checkDecoded(t, "sftc_head sys", back.sys, sys, fits, &d)
		checkDecoded(t, "sftc_head biz", back.biz, biz, fits, &d)

		// Arbitrary input: never panics, and what decodes re-encodes to the same entries.
		got := decodeW3CBaggage(s, limits{}, new(BaggageDropError))
		again, err := encodeW3CBaggage(entriesRange(got))
		if err != nil {
			t.Fatalf("re-encode %+v: %v", got, err)
		}
		d = BaggageDropError{}
		if got2 := decodeW3CBaggage(again, limits{}, &d); dropped(&d) != nil || !reflect.DeepEqual(got2, got) {
			t.Fatalf("unstable: %q -> %+v -> %q -> %+v, %+v", s, got, again, got2, d)
		}
		if got, err := decodeSofaHead(s, limits{}, new(BaggageDropError)); err == nil {
			if got.checkIDs() != nil {
				t.Fatalf("decodeSofaHead(%q) accepted bad ids %+v", s, got)
			}
		}
	})
}

// javaB3Written is what SOFATracer writes into a B3 header for the value s:
// URLEncoder.encode(escapePercentEqualAnd(s), "UTF-8"), built from net/url's QueryEscape (which keeps
// '~' and escapes '*', where URLEncoder does the opposite) and the SOFA escaping written out.
func javaB3Written(s string) string {
	sofa := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D").Replace(s)
	return strings.NewReplacer("%2A", "*", "~", "%7E").Replace(url.QueryEscape(sofa))
}
