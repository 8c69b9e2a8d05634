package propagation_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// checkExtracted holds for every context Extract returns: an *Error, a valid context, or both when
// (and only when) baggage was dropped or an invalid sampled flag ignored (then the context is
// sampled); ids that are safe to log as they are; and a context that survives its own format's round
// trip.
func checkExtracted(t *testing.T, p propagation.Propagator, sc trace.SpanContext, err error) {
	t.Helper()
	if err != nil {
		var pe *propagation.Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %T %v is not an *Error", err, err)
		}
		var de *propagation.BaggageDropError
		dropped, ignored := errors.As(err, &de), errors.Is(err, propagation.ErrSampledIgnored)
		if (dropped || ignored) != sc.IsValid() || dropped != errors.Is(err, propagation.ErrBaggageDropped) {
			t.Fatalf("error %v (baggage dropped: %v, sampled ignored: %v) with a valid context: %v", err, dropped, ignored, sc.IsValid())
		}
		if ignored && !sc.Sampled() {
			t.Fatalf("sampled flag ignored, but the context is not sampled: %v", err)
		}
		if !sc.IsValid() {
			return
		}
	}
	if !sc.IsValid() {
		return
	}
	for _, id := range []string{sc.TraceID(), sc.SpanID(), sc.ParentID()} {
		if strings.ContainsFunc(id, func(r rune) bool {
			return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '_' || r == '-')
		}) {
			t.Fatalf("id %q holds an unsafe character", id)
		}
	}
	if sc.BizBaggage().Len() > trace.MaxBaggageEntries || sc.BizBaggage().Size() > trace.DefaultBaggageLimit ||
		sc.SysBaggage().Len() > trace.MaxBaggageEntries || sc.SysBaggage().Size() > trace.DefaultBaggageLimit {
		t.Fatalf("baggage over the limits: biz %d/%d sys %d/%d", sc.BizBaggage().Len(), sc.BizBaggage().Size(),
			sc.SysBaggage().Len(), sc.SysBaggage().Size())
	}
	h := http.Header{}
	if err := p.Inject(context.Background(), sc, propagation.HeaderCarrier(h)); err != nil {
		t.Fatalf("re-inject: %v", err)
	}
	_, back, err := p.Extract(context.Background(), propagation.HeaderCarrier(h))
	if err != nil {
		t.Fatalf("re-extract %v: %v", h, err)
	}
	if !reflect.DeepEqual(describe(back), describe(sc)) {
		t.Fatalf("round trip changed the context:\n%+v\n%+v", describe(back), describe(sc))
	}
}

func FuzzExtractB3(f *testing.F) {
	f.Add(sofaTrace, "0.1", "0", "true", "mark", "T", "zone", "gz")
	f.Add(w3cTrace, w3cSpan, "", "1", "k", "%&=%25", "", "")
	f.Add("a", "0", "", "d", "sys-x", "你好", "x", "")
	f.Add("abc\n", "0 1", "x/y", "FALSE", "Bad Key", "v\x00", "k", strings.Repeat("v", 1100))
	// SOFATracer's URL layer: what a Java peer sends, and what makes its URLDecoder throw.
	f.Add(sofaTrace, "0%2E1", "", "tru%65", "k1", "a%2526b%253Dc", "zone", "hello+world")
	f.Add(sofaTrace, "0.1.2", "", "true", "k", "100%", "z", "ab+c/d==")
	f.Add(sofaTrace, "0.1", "0", "false", "a%26b", "%C3%BC", "a%3db", "%253D%2526%2525")
	f.Add(sofaTrace, "0+1", "0%zz", "1", "k", "%+1", "z", "%e4%bd")
	f.Fuzz(func(t *testing.T, traceID, spanID, parentID, sampled, bizKey, bizVal, sysKey, sysVal string) {
		m := propagation.MapCarrier{
			"X-B3-TraceId": traceID, "x-b3-spanid": spanID, "X-B3-ParentSpanId": parentID, "x-b3-sampled": sampled,
			"baggage-" + bizKey: bizVal, "baggage-sys-" + sysKey: sysVal,
		}
		p := propagation.B3()
		_, sc, err := p.Extract(context.Background(), m)
		checkExtracted(t, p, sc, err)
		// Ids are read as SOFATracer reads them: URL-decoded (net/url is the oracle; it differs from
		// Java's URLDecoder only on "%+1"-like input, which no id survives).
		if err == nil && sc.IsValid() && (sc.TraceID() != javaURLDecoded(traceID) || sc.SpanID() != javaURLDecoded(spanID)) {
			t.Fatalf("ids changed: %q %q from %q %q", sc.TraceID(), sc.SpanID(), traceID, spanID)
		}
		// A plain key's value is what SOFATracer reads (URLDecoder, then unescapeEqualAndPercent), or,
		// where URLDecoder throws, the entry is dropped and reported as malformed.
		if sc.IsValid() && plainKey(bizKey) && bizVal != "" {
			got, ok := sc.BizBaggage().Get(bizKey)
			want, decodable := javaB3Read(bizVal)
			switch {
			case !decodable && (ok || !errors.Is(err, propagation.ErrMalformedBaggage)):
				t.Fatalf("baggage-%s: %q: kept %v (%q), err %v; want a malformed drop", bizKey, bizVal, ok, got, err)
			case decodable && err == nil && got != want:
				t.Fatalf("baggage-%s: %q read as %q, SOFATracer reads %q", bizKey, bizVal, got, want)
			}
		}
		// The same headers through http.Header, which keeps only what net/http would keep.
		h := http.Header{}
		for k, v := range m {
			h[http.CanonicalHeaderKey(k)] = append(h[http.CanonicalHeaderKey(k)], v)
		}
		_, sc, err = p.Extract(context.Background(), propagation.HeaderCarrier(h))
		checkExtracted(t, p, sc, err)
	})
}

func FuzzExtractSofaHead(f *testing.F) {
	f.Add("tcid=" + sofaTrace + "&spid=0.1&pspid=0&sample=true&_sys_zone=gz&mark=T&")
	f.Add("tcid=a&spid=0.1&sample=false&k%26=v%3D%25&uni=%E4%BD%A0&")
	f.Add("spid=0.1&mark=T")
	f.Add("tcid=a\n&spid=&&=&_sys_=x&tcid=b&sample=maybe")
	f.Add("tcid=a&" + strings.Repeat("k=v&", 100))
	f.Fuzz(func(t *testing.T, head string) {
		p := propagation.SofaHead()
		_, sc, err := p.Extract(context.Background(), propagation.MapCarrier{"sftc_head": head})
		checkExtracted(t, p, sc, err)
	})
}

func FuzzExtractW3C(f *testing.F) {
	tp := "00-" + w3cTrace + "-" + w3cSpan + "-01"
	f.Add(tp, "rojo=00f067aa0ba902b7", "mark=T,user=J%C3%B6rg;p=1")
	f.Add("01-"+w3cTrace+"-"+w3cSpan+"-00-extra", "", "")
	f.Add("ff-"+w3cTrace+"-"+w3cSpan+"-01", "x", "k=%zz")
	f.Add("00-"+strings.Repeat("0", 32)+"-"+w3cSpan+"-01", "", ",,a = b ,")
	f.Add(tp, "\x00", "k=\"v\"")
	f.Fuzz(func(t *testing.T, traceparent, tracestate, baggage string) {
		p := propagation.W3C()
		m := propagation.MapCarrier{"traceparent": traceparent, "tracestate": tracestate, "baggage": baggage}
		ctx, sc, err := p.Extract(context.Background(), m)
		checkExtracted(t, p, sc, err)
		if sc.IsValid() && (!propagation.IsW3CTraceID(sc.TraceID()) || !propagation.IsW3CSpanID(sc.SpanID())) {
			t.Fatalf("non-W3C ids accepted: %q %q", sc.TraceID(), sc.SpanID())
		}
		if sc.IsValid() {
			out := propagation.MapCarrier{}
			if err := p.Inject(ctx, sc, out); err != nil {
				t.Fatalf("inject: %v", err)
			}
			if ts := out.Get("tracestate"); ts != "" && ts != tracestate {
				t.Fatalf("tracestate changed: %q -> %q", tracestate, ts)
			}
		}
	})
}

// javaURLDecoded is s as Java's URLDecoder.decode(s, "UTF-8") reads it (net/url's QueryUnescape, written
// independently of this package), or s itself where that fails.
func javaURLDecoded(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// javaB3Read is a B3 baggage value as SOFATracer reads it: URLDecoder.decode, then
// StringUtils.unescapeEqualAndPercent, literally its three replacements in its order. ok is false
// where URLDecoder throws.
func javaB3Read(s string) (v string, ok bool) {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return "", false
	}
	return strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(u, "%3D", "="), "%26", "&"), "%25", "%"), true
}

// plainKey: a biz baggage key that comes back as it is (lower-case letters and digits, not the mark).
func plainKey(k string) bool {
	if k == "" || k == trace.BaggageKeyLoadTest || strings.HasPrefix(k, "sys") {
		return false
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}
