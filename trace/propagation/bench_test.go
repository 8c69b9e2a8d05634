package propagation_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/tracemdc/tracemdc/trace/propagation"
)

// BenchmarkExtract measures Extract on the headers net/http hands a server (canonical keys, the fast
// path of HeaderCarrier), and on the same headers with lower-case keys as a carrier filled from gRPC
// metadata would hold them.
func BenchmarkExtract(b *testing.B) {
	canonical := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	lower := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h[toLower(kv[i])] = []string{kv[i+1]}
		}
		return h
	}
	b3 := []string{"X-B3-TraceId", sofaTrace, "X-B3-SpanId", "0.1.2", "X-B3-ParentSpanId", "0.1",
		"X-B3-Sampled", "true", "baggage-mark", "T", "baggage-sys-zone", "gz00a", "Accept", "*/*", "User-Agent", "bench"}
	// What a SOFATracer (Java) peer sends for baggage that needs its URL layer: the slow path.
	b3Java := []string{"X-B3-TraceId", sofaTrace, "X-B3-SpanId", "0.1.2", "X-B3-ParentSpanId", "0.1",
		"X-B3-Sampled", "true", "baggage-mark", "T", "baggage-k1", "a%2526b%253Dc", "baggage-k2", "hello+world",
		"baggage-sys-zone", "gz00a", "Accept", "*/*", "User-Agent", "bench"}
	head := []string{"sftc_head", "tcid=" + sofaTrace + "&spid=0.1.2&pspid=0.1&sample=true&_sys_zone=gz00a&mark=T&", "Accept", "*/*"}
	w3c := []string{"traceparent", "00-" + w3cTrace + "-" + w3cSpan + "-01", "tracestate", "rojo=00f067aa0ba902b7",
		"baggage", "mark=T,user=u1", "Accept", "*/*"}
	browser := []string{"Host", "example.com", "User-Agent", "Mozilla/5.0", "Accept-Language", "en-US",
		"Accept-Encoding", "gzip", "Connection", "keep-alive", "Cookie", "a=b", "Referer", "https://example.com/",
		"Cache-Control", "no-cache", "Pragma", "no-cache", "Sec-Fetch-Mode", "cors", "Sec-Fetch-Site", "same-origin",
		"Origin", "https://example.com"}
	cases := []struct {
		name string
		p    propagation.Propagator
		h    http.Header
	}{
		{"b3", propagation.B3(), canonical(b3...)},
		{"b3_lower", propagation.B3(), lower(b3...)},
		{"b3_java_encoded", propagation.B3(), canonical(b3Java...)},
		{"sofahead", propagation.SofaHead(), canonical(head...)},
		{"w3c", propagation.W3C(), canonical(w3c...)},
		{"w3c_lower", propagation.W3C(), lower(w3c...)},
		{"default_w3c", propagation.Default(), canonical(w3c...)},
		// A browser-sized request: every header Default looks for and does not find is a miss that the
		// case-insensitive fallback scans for.
		{"default_w3c_16hdr", propagation.Default(), canonical(append(w3c[:len(w3c):len(w3c)], browser...)...)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			carrier := propagation.HeaderCarrier(c.h)
			ctx := context.Background()
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, sc, _ := c.p.Extract(ctx, carrier); !sc.IsValid() {
					b.Fatal("no context")
				}
			}
		})
	}
}

func toLower(s string) string {
	out := []byte(s)
	for i, c := range out {
		if 'A' <= c && c <= 'Z' {
			out[i] = c + 'a' - 'A'
		}
	}
	return string(out)
}
