package propagation_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// javaB3Vectors are baggage values and the B3 header value SOFATracer writes for each:
// URLEncoder.encode(StringUtils.escapePercentEqualAnd(v), "UTF-8") (HttpHeadersB3Formatter). URLEncoder
// keeps A-Z a-z 0-9 and ". - * _", writes a space as '+' and every other byte of the UTF-8 text as %XX.
var javaB3Vectors = []struct{ value, header string }{
	{"a&b=c", "a%2526b%253Dc"},
	{"100%", "100%2525"},
	{"hello world", "hello+world"},
	{"ab+c/d==", "ab%2Bc%2Fd%253D%253D"},
	{"ü", "%C3%BC"},
	{"=", "%253D"},
	{"&", "%2526"},
	{"%", "%2525"},
	{" ", "+"},
	{"T", "T"},
	{"Az09.-*_", "Az09.-*_"},
	{"~!'()", "%7E%21%27%28%29"},
	{"%41", "%252541"},
	{"line\nbreak\x7f", "line%0Abreak%7F"},
	{"你好 😀", "%E4%BD%A0%E5%A5%BD+%F0%9F%98%80"},
}

// TestB3JavaInject: Inject writes every baggage value, biz and sys, byte for byte as SOFATracer writes
// it, and Extract reads it back; an empty value is not sent (trace.NewSpanContext keeps no empty
// entry; SOFATracer would send an empty header, which reads back as nothing here).
func TestB3JavaInject(t *testing.T) {
	p := propagation.B3()
	for _, v := range javaB3Vectors {
		sc := newSC(t, sofaTrace, "0.1", "0", true,
			[]trace.Pair{{Key: "zone", Value: v.value}}, []trace.Pair{{Key: "k1", Value: v.value}})
		h := http.Header{}
		if err := p.Inject(context.Background(), sc, propagation.HeaderCarrier(h)); err != nil {
			t.Fatalf("%q: inject: %v", v.value, err)
		}
		if got := h.Get("baggage-k1"); got != v.header {
			t.Errorf("%q: sent baggage-k1: %q, SOFATracer sends %q", v.value, got, v.header)
		}
		if got := h.Get("baggage-sys-zone"); got != v.header {
			t.Errorf("%q: sent baggage-sys-zone: %q, SOFATracer sends %q", v.value, got, v.header)
		}
		_, back, err := p.Extract(context.Background(), propagation.HeaderCarrier(h))
		if err != nil {
			t.Fatalf("%q: extract: %v", v.value, err)
		}
		if got, _ := back.BizBaggage().Get("k1"); got != v.value {
			t.Errorf("%q: read back biz %q", v.value, got)
		}
		if got, _ := back.SysBaggage().Get("zone"); got != v.value {
			t.Errorf("%q: read back sys %q", v.value, got)
		}
	}

	sc := newSC(t, sofaTrace, "0.1", "0", true, nil, []trace.Pair{{Key: "empty", Value: ""}, {Key: "k", Value: "v"}})
	h := http.Header{}
	if err := p.Inject(context.Background(), sc, propagation.HeaderCarrier(h)); err != nil {
		t.Fatal(err)
	}
	if _, ok := h["Baggage-Empty"]; ok || h.Get("baggage-k") != "v" {
		t.Fatalf("empty value: headers %v", h)
	}
	h.Set("baggage-empty", "")
	_, back, err := p.Extract(context.Background(), propagation.HeaderCarrier(h))
	if _, ok := back.BizBaggage().Get("empty"); err != nil || ok {
		t.Fatalf("an empty baggage header read as an entry: %v %v", ordered(back.BizBaggage()), err)
	}
}

// TestB3JavaExtract: header values as a SOFATracer peer (or anyone) sends them are read as SOFATracer
// reads them: URLDecoder.decode, then unescapeEqualAndPercent. Where URLDecoder throws (a '%' not
// followed by two hex digits; a SOFATracer server then fails the whole request) that one entry is
// dropped, counted in BaggageDropError.Malformed and reported (ErrMalformedBaggage); the trace and
// the other entries are kept.
func TestB3JavaExtract(t *testing.T) {
	cases := []struct {
		header, want string
		malformed    bool
	}{
		{"hello%20world", "hello world", false},
		{"%c3%bc", "ü", false},          // lower-case hex, as URLDecoder takes it
		{"ab+c/d==", "ab c/d==", false}, // the bytes Go sent before: Java reads a space
		{"a%26b%3Dc", "a&b=c", false},   // likewise
		{"%2541", "%41", false},         // SOFA unescapes %25, %26 and %3D only
		{"%253d", "%3d", false},         // and %3D in upper case only
		{"%25%", "", true},              // URL layer first: the lone '%' is malformed
		{"100%", "", true},              // URLDecoder: incomplete trailing escape
		{"%", "", true},                 //
		{"a%2", "", true},               //
		{"%zz", "", true},               // URLDecoder: illegal hex characters
		{"%+1", "", true},               // Java's parseInt takes the sign (byte 1); no encoder writes it
		{"%e4%bd", "\xe4\xbd", false},   // bytes kept as they are (Java: U+FFFD)
		{"x%0Ay%00", "x\ny\x00", false}, // control bytes decode; the digest escapes them
		{"++", "  ", false},             //
		{"%E4%BD%A0%2B", "你+", false},   //
		{"plain.value-*_", "plain.value-*_", false},
	}
	for _, v := range javaB3Vectors {
		cases = append(cases, struct {
			header, want string
			malformed    bool
		}{v.header, v.value, false})
	}
	p := propagation.B3()
	for _, c := range cases {
		m := propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0.1", "baggage-k": c.header,
			"baggage-ok": "v%2Bw", "baggage-sys-s": c.header}
		_, sc, err := p.Extract(context.Background(), m)
		if !sc.IsValid() {
			t.Fatalf("%q: context rejected: %v", c.header, err)
		}
		if got, _ := sc.BizBaggage().Get("ok"); got != "v+w" {
			t.Errorf("%q: the other entry read as %q", c.header, got)
		}
		gotBiz, okBiz := sc.BizBaggage().Get("k")
		gotSys, okSys := sc.SysBaggage().Get("s")
		if c.malformed {
			var de *propagation.BaggageDropError
			if okBiz || okSys || !errors.As(err, &de) || de.Malformed != 2 ||
				!errors.Is(err, propagation.ErrMalformedBaggage) || !errors.Is(err, propagation.ErrBaggageDropped) {
				t.Errorf("%q: kept biz %v sys %v, err %v: want both dropped as malformed", c.header, okBiz, okSys, err)
			}
			continue
		}
		if err != nil || gotBiz != c.want || gotSys != c.want {
			t.Errorf("%q: read biz %q sys %q, %v; want %q", c.header, gotBiz, gotSys, err, c.want)
		}
	}
}

// TestB3JavaKeysAndIDs: baggage keys travel in the header name SOFA-escaped ('%', '&', '='), not
// URL-encoded, as SOFATracer writes them; the ids and the sampled flag are URL-decoded when read,
// as SOFATracer reads them.
func TestB3JavaKeysAndIDs(t *testing.T) {
	p := propagation.B3()
	sc := newSC(t, sofaTrace, "0.1", "0", true, nil,
		[]trace.Pair{{Key: "a&b", Value: "1"}, {Key: "a=b", Value: "2"}, {Key: "100%", Value: "3"}, {Key: "bad key", Value: "4"}})
	m := propagation.MapCarrier{}
	err := p.Inject(context.Background(), sc, m)
	if !errors.Is(err, propagation.ErrInvalidBaggageKey) {
		t.Fatalf("a key with a space: %v, want ErrInvalidBaggageKey", err)
	}
	for name, want := range map[string]string{"baggage-a%26b": "1", "baggage-a%3Db": "2", "baggage-100%25": "3"} {
		if got := m.Get(name); got != want {
			t.Errorf("header %s: %q, want %q (all: %v)", name, got, want, m)
		}
	}
	// Read back from the map, and from the canonical header net/http makes of it ("Baggage-A%3db").
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	for _, c := range []propagation.Carrier{m, propagation.HeaderCarrier(h)} {
		_, back, err := p.Extract(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"a&b": "1", "a=b": "2", "100%": "3"}
		if got := items(back.BizBaggage()); len(got) != 3 || got["a&b"] != "1" || got["a=b"] != "2" || got["100%"] != "3" {
			t.Errorf("keys read back %v, want %v", got, want)
		}
	}

	_, sc, err = p.Extract(context.Background(), propagation.MapCarrier{
		"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0%2E1%2e2", "X-B3-Sampled": "fals%65"})
	if err != nil || sc.SpanID() != "0.1.2" || sc.ParentID() != "0.1" || sc.Sampled() {
		t.Fatalf("URL-encoded ids: span %q parent %q sampled %v, %v", sc.SpanID(), sc.ParentID(), sc.Sampled(), err)
	}
	for _, bad := range []string{"0%2", "0+1", "0%2F1"} {
		_, sc, err = p.Extract(context.Background(), propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": bad})
		if sc.IsValid() || !errors.Is(err, propagation.ErrInvalidSpanID) {
			t.Errorf("span id %q: valid %v, %v; want ErrInvalidSpanID", bad, sc.IsValid(), err)
		}
	}
}

// TestB3JavaOverHTTP: over a real loopback connection, a Go client's baggage arrives at a Go server in
// SOFATracer's bytes and is read back exactly; a request carrying the bytes a SOFATracer client sends
// gives the server span the values the Java side set; a malformed value costs only its own entry, and
// the server reports it.
func TestB3JavaOverHTTP(t *testing.T) {
	errs := &errorList{}
	server := trace.New("server", trace.WithoutMDC(), trace.WithReporter(errs))
	type seen struct {
		header http.Header
		biz    map[string]string
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(tracehttp.Middleware(server)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Clone(), items(trace.SpanFromContext(r.Context()).Context().BizBaggage())}
	})))
	defer srv.Close()

	client := trace.New("client", trace.WithoutMDC())
	ctx, span := client.Start(context.Background(), "call")
	for i, v := range javaB3Vectors {
		span.SetBaggageItem("k"+strconv.Itoa(i), v.value)
	}
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
	resp, err := (&http.Client{Transport: tracehttp.NewTransport(client, nil)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	span.Finish()
	s := <-got
	for i, v := range javaB3Vectors {
		k := "k" + strconv.Itoa(i)
		if h := s.header.Get("baggage-" + k); h != v.header {
			t.Errorf("%q: on the wire %q, SOFATracer sends %q", v.value, h, v.header)
		}
		if s.biz[k] != v.value {
			t.Errorf("%q: the server read %q", v.value, s.biz[k])
		}
	}

	// A SOFATracer client's request, byte for byte, with one malformed value beside.
	req, _ = http.NewRequest("GET", srv.URL, nil)
	req.Header["X-B3-TraceId"] = []string{sofaTrace}
	req.Header["X-B3-SpanId"] = []string{"0.1"}
	req.Header["X-B3-ParentSpanId"] = []string{"0"}
	req.Header["X-B3-Sampled"] = []string{"true"}
	req.Header["baggage-k1"] = []string{"a%2526b%253Dc"}
	req.Header["baggage-k2"] = []string{"hello+world"}
	req.Header["baggage-bad"] = []string{"100%"}
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s = <-got
	if len(s.biz) != 2 || s.biz["k1"] != "a&b=c" || s.biz["k2"] != "hello world" {
		t.Fatalf("server span baggage %v", s.biz)
	}
	var de *propagation.BaggageDropError
	if e := errs.all(); len(e) != 1 || !errors.As(e[0], &de) || de.Malformed != 1 {
		t.Fatalf("reported %v, want one error with one malformed entry", e)
	}
	if st := server.Stats(); st.BaggageRefused != 1 || st.Errors != 1 {
		t.Fatalf("stats %+v, want BaggageRefused 1 (the malformed entry), Errors 1", st)
	}
}

// errorList is a reporter that keeps the errors the tracer reports.
type errorList struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorList) Report(*trace.FinishedSpan) {}

func (l *errorList) ReportError(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, err)
}

func (l *errorList) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}
