package propagation

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
)

func TestEscapeSOFA(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"plain", "plain"},
		{"a%b&c=d", "a%25b%26c%3Dd"},
		{"%%", "%25%25"},
		{"line\nbreak\x7f", "line%0Abreak%7F"},
		{"ünï=cödé", "ünï%3Dcödé"},
	}
	for _, c := range cases {
		if got := EscapeSOFA(c.in); got != c.want {
			t.Errorf("EscapeSOFA(%q) = %q, want %q", c.in, got, c.want)
		}
		if got := UnescapeSOFA(c.want); got != c.in {
			t.Errorf("UnescapeSOFA(%q) = %q, want %q", c.want, got, c.in)
		}
	}
}

func TestUnescapeSOFALenient(t *testing.T) {
	cases := []struct{ in, want string }{
		{"100%", "100%"},
		{"%zz", "%zz"},
		{"%2", "%2"},
		{"a%3db", "a=b"},
		{"%25%3D%26", "%=&"},
		{"%E4%BD%A0", "你"},
	}
	for _, c := range cases {
		if got := UnescapeSOFA(c.in); got != c.want {
			t.Errorf("UnescapeSOFA(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEscapeSOFANoAllocWhenClean(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() { _ = EscapeSOFA("0ad1348f1403169275002100356696") })
	if allocs != 0 {
		t.Fatalf("EscapeSOFA allocated %v times for a clean string", allocs)
	}
}

func TestSofaHeadEncode(t *testing.T) {
	r := record{
		traceID: "0ad1348f1403169275002100356696", spanID: "0.1", parentID: "0", sampled: true,
		sys: []entry{{Key: "zone", Value: "gz00a"}},
		biz: []entry{{Key: "mark", Value: "T"}, {Key: "k&=%", Value: "v&=%"}, {Key: "empty", Value: ""}},
	}
	got, err := encodeSofaHead(mustSC(t, r))
	if err != nil {
		t.Fatal(err)
	}
	want := "tcid=0ad1348f1403169275002100356696&spid=0.1&pspid=0&sample=true&_sys_zone=gz00a&mark=T&k%26%3D%25=v%26%3D%25&"
	if got != want {
		t.Fatalf("encodeSofaHead =\n %q\nwant\n %q", got, want)
	}
}

func TestSofaHeadEncodeReservedBizKey(t *testing.T) {
	r := record{traceID: "t1", spanID: "0", sampled: false, biz: []entry{{Key: "tcid", Value: "evil"}, {Key: "_sys_x", Value: "y"}, {Key: "ok", Value: "1"}}}
	got, err := encodeSofaHead(mustSC(t, r))
	if !errors.Is(err, ErrInvalidBaggageKey) {
		t.Fatalf("err = %v, want ErrInvalidBaggageKey", err)
	}
	if got != "tcid=t1&spid=0&pspid=&sample=false&ok=1&" {
		t.Fatalf("encodeSofaHead = %q", got)
	}
}

func TestDecodeSofaHead(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want record
		err  error
	}{
		{"full", "tcid=0ad1348f1403169275002100356696&spid=0.1.2&pspid=0.1&sample=false&_sys_zone=gz&mark=T&k%26=v%3D%25&",
			record{traceID: "0ad1348f1403169275002100356696", spanID: "0.1.2", parentID: "0.1", sampled: false,
				sys: []entry{{Key: "zone", Value: "gz"}}, biz: []entry{{Key: "mark", Value: "T"}, {Key: "k&", Value: "v=%"}}}, nil},
		{"missing spid is 0, sampled default true", "tcid=abc",
			record{traceID: "abc", spanID: "0", sampled: true}, nil},
		{"empty parts, keys and values skipped", "&&tcid=abc&=x&y=&z&spid=0.2&&",
			record{traceID: "abc", spanID: "0.2", sampled: true}, nil},
		{"first value wins", "tcid=a&tcid=b&spid=1&spid=2&k=1&k=2&sample=1&sample=x",
			record{traceID: "a", spanID: "1", sampled: true, biz: []entry{{Key: "k", Value: "1"}}}, nil},
		{"sys key only prefix", "tcid=a&_sys_=v",
			record{traceID: "a", spanID: "0", sampled: true}, nil},
		{"missing tcid", "spid=0.1&mark=T", record{}, ErrMissingID},
		{"bad sample ignored", "tcid=a&sample=maybe&sample=false&k=v",
			record{traceID: "a", spanID: "0", sampled: true, badSampled: HeaderSofaHead, biz: []entry{{Key: "k", Value: "v"}}}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := decodeSofaHead(c.in, limits{}, new(BaggageDropError))
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("err = %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestDecodeSofaHeadDrops: baggage over the limits, or past the parsed part of the header, is dropped
// and recorded; the ids are kept.
func TestDecodeSofaHeadDrops(t *testing.T) {
	var k64 []entry
	for i := 0; i < trace.MaxBaggageEntries; i++ {
		k64 = append(k64, entry{Key: "k" + strconv.Itoa(i), Value: "v"})
	}
	cases := []struct {
		name                  string
		in                    string
		biz                   []entry
		size, entries, unread int
	}{
		{"too many", "tcid=a&" + manyEntries(65), k64, 0, 1, 0},
		{"too large", "tcid=a&k=" + strings.Repeat("v", 1024) + "&x=y", []entry{{Key: "x", Value: "y"}}, 1, 0, 0},
		{"a refused key's later value is not taken", "tcid=a&k=" + strings.Repeat("v", 1024) + "&k=small", nil, 1, 0, 0},
		{"header too long", "tcid=a&x=y&k=" + strings.Repeat("v", maxHeaderValue) + "&z=1&&", []entry{{Key: "x", Value: "y"}}, 0, 0, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var d BaggageDropError
			got, err := decodeSofaHead(c.in, limits{}, &d)
			if err != nil {
				t.Fatal(err)
			}
			if want := (record{traceID: "a", spanID: "0", sampled: true, biz: c.biz}); !reflect.DeepEqual(got, want) {
				t.Fatalf("got %+v\nwant %+v", got, want)
			}
			size, entries := d.counts()
			if size != c.size || entries != c.entries || d.Unread != c.unread {
				t.Fatalf("drops %+v", d)
			}
		})
	}
}

func manyEntries(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		b.WriteString("k")
		b.WriteString(strconv.Itoa(i))
		b.WriteString("=v&")
	}
	return b.String()
}

func TestB3Codec(t *testing.T) {
	r := record{
		traceID: "0ad1348f1403169275002100356696", spanID: "0.1", parentID: "0", sampled: false,
		sys: []entry{{Key: "zone", Value: "a&b"}},
		biz: []entry{{Key: "mark", Value: "T"}, {Key: "pct", Value: "100%=x&y"}, {Key: "uni", Value: "你好"}},
	}
	h := http.Header{}
	if err := encodeB3(mustSC(t, r), HeaderCarrier(h)); err != nil {
		t.Fatal(err)
	}
	if h.Get("X-B3-TraceId") != r.traceID || h.Get("x-b3-spanid") != "0.1" || h.Get("X-B3-ParentSpanId") != "0" ||
		h.Get("X-B3-Sampled") != "false" || h.Get("baggage-sys-zone") != "a%2526b" || h.Get("baggage-pct") != "100%2525%253Dx%2526y" || h.Get("baggage-uni") != "%E4%BD%A0%E5%A5%BD" {
		t.Fatalf("headers: %v", h)
	}
	if h.Get("baggage-sys-zone") == "" || h.Get("baggage-zone") != "" {
		t.Fatalf("sys baggage must appear only as baggage-sys-: %v", h)
	}
	got, present, err := decodeB3(HeaderCarrier(h), limits{}, new(BaggageDropError))
	if err != nil || !present {
		t.Fatalf("decode: present=%v err=%v", present, err)
	}
	// B3 baggage comes back sorted by key (carriers are maps).
	want := r
	want.biz = []entry{{Key: "mark", Value: "T"}, {Key: "pct", Value: "100%=x&y"}, {Key: "uni", Value: "你好"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestB3DecodeCases(t *testing.T) {
	t.Run("absent", func(t *testing.T) {
		_, present, err := decodeB3(MapCarrier{"baggage-mark": "T"}, limits{}, new(BaggageDropError))
		if present || err != nil {
			t.Fatalf("present=%v err=%v", present, err)
		}
	})
	t.Run("only trace id", func(t *testing.T) {
		_, present, err := decodeB3(MapCarrier{"x-b3-traceid": "abc"}, limits{}, new(BaggageDropError))
		if !present || !errors.Is(err, ErrMissingID) {
			t.Fatalf("present=%v err=%v", present, err)
		}
	})
	t.Run("only span id", func(t *testing.T) {
		_, _, err := decodeB3(MapCarrier{"X-B3-SpanId": "0.1"}, limits{}, new(BaggageDropError))
		if !errors.Is(err, ErrMissingID) {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("sampled values", func(t *testing.T) {
		for v, want := range map[string]bool{"1": true, "0": false, "true": true, "false": false, "TRUE": true, "False": false} {
			r, _, err := decodeB3(MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "x-b3-sampled": v}, limits{}, new(BaggageDropError))
			if err != nil || r.sampled != want {
				t.Errorf("sampled %q: got %v err %v", v, r.sampled, err)
			}
		}
		// Any other value is ignored, as if absent (sampled), and named for the error.
		for _, v := range []string{"yes", "d", "2", "truee"} {
			r, present, err := decodeB3(MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "x-b3-sampled": v}, limits{}, new(BaggageDropError))
			if !present || err != nil || !r.sampled || r.badSampled != HeaderB3Sampled || r.traceID != "a" {
				t.Errorf("sampled %q: got %+v, %v, %v", v, r, present, err)
			}
		}
	})
	t.Run("first value and spelling win", func(t *testing.T) {
		h := http.Header{}
		h.Add("X-B3-TraceId", "first")
		h.Add("x-b3-traceid", "second")
		h.Add("X-B3-SpanId", "0.1")
		h.Add("Baggage-Mark", "T")
		h.Add("baggage-mark", "F")
		r, _, err := decodeB3(HeaderCarrier(h), limits{}, new(BaggageDropError))
		if err != nil || r.traceID != "first" || len(r.biz) != 1 || r.biz[0] != (entry{Key: "mark", Value: "T"}) {
			t.Fatalf("got %+v err %v", r, err)
		}
		m := MapCarrier{"x-b3-traceid": "lower", "X-B3-TRACEID": "upper", "x-b3-spanid": "0", "baggage-k": "lower", "BAGGAGE-K": "upper"}
		r, _, err = decodeB3(m, limits{}, new(BaggageDropError))
		if err != nil || r.traceID != "upper" || r.biz[0].Value != "upper" {
			t.Fatalf("map carrier: got %+v err %v", r, err)
		}
	})
	t.Run("sys not copied into biz", func(t *testing.T) {
		r, _, err := decodeB3(MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "baggage-sys-k": "v"}, limits{}, new(BaggageDropError))
		if err != nil || len(r.biz) != 0 || !reflect.DeepEqual(r.sys, []entry{{Key: "k", Value: "v"}}) {
			t.Fatalf("got %+v err %v", r, err)
		}
	})
	t.Run("too many", func(t *testing.T) {
		m := MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0"}
		for i := 0; i < 65; i++ {
			m["baggage-k"+strconv.Itoa(i)] = "v"
		}
		var d BaggageDropError
		r, _, err := decodeB3(m, limits{}, &d)
		if err != nil || len(r.biz) != trace.MaxBaggageEntries || len(d.Refused) != 1 || d.Refused[0].Reason != "entries" {
			t.Fatalf("kept %d, drops %+v, err %v", len(r.biz), d, err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		m := MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "baggage-big": strings.Repeat("v", 1022), "baggage-small": "v"}
		var d BaggageDropError
		r, _, err := decodeB3(m, limits{}, &d)
		if err != nil || !reflect.DeepEqual(r.biz, []entry{{Key: "small", Value: "v"}}) || len(d.Refused) != 1 || d.Refused[0].Key != "big" {
			t.Fatalf("kept %+v, drops %+v, err %v", r.biz, d, err)
		}
	})
}

func TestB3EncodeBadKeys(t *testing.T) {
	r := record{traceID: "a", spanID: "0", biz: []entry{{Key: "sys-x", Value: "1"}, {Key: "bad key", Value: "2"}, {Key: "ok", Value: "3"}}, sys: []entry{{Key: "a:b", Value: "4"}}}
	m := MapCarrier{}
	if err := encodeB3(mustSC(t, r), m); !errors.Is(err, ErrInvalidBaggageKey) {
		t.Fatalf("err %v", err)
	}
	want := MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "x-b3-sampled": "false", "baggage-ok": "3"}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("got %v", m)
	}
}

func TestParseTraceparent(t *testing.T) {
	const tid, sid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	ok := []struct {
		in      string
		sampled bool
	}{
		{"00-" + tid + "-" + sid + "-01", true},
		{"00-" + tid + "-" + sid + "-00", false},
		{"00-" + tid + "-" + sid + "-03", true},
		{" 00-" + tid + "-" + sid + "-01 ", true},
		{"01-" + tid + "-" + sid + "-01-future", true},
		{"cc-" + tid + "-" + sid + "-00", false},
	}
	for _, c := range ok {
		gt, gs, samp, err := parseTraceparent(c.in)
		if err != nil || gt != tid || gs != sid || samp != c.sampled {
			t.Errorf("parse %q = %q %q %v %v", c.in, gt, gs, samp, err)
		}
	}
	bad := []struct {
		in  string
		err error
	}{
		{"", ErrMalformedTraceparent},
		{"00-" + tid + "-" + sid + "-01-x", ErrMalformedTraceparent},
		{"01-" + tid + "-" + sid + "-01x", ErrMalformedTraceparent},
		{"ff-" + tid + "-" + sid + "-01", ErrMalformedTraceparent},
		{"0g-" + tid + "-" + sid + "-01", ErrMalformedTraceparent},
		{"00-" + strings.ToUpper(tid) + "-" + sid + "-01", ErrInvalidTraceID},
		{"00-" + strings.Repeat("0", 32) + "-" + sid + "-01", ErrInvalidTraceID},
		{"00-" + tid + "-" + strings.Repeat("0", 16) + "-01", ErrInvalidSpanID},
		{"00-" + tid + "-" + sid + "-0x", ErrMalformedTraceparent},
		{"00_" + tid + "-" + sid + "-01", ErrMalformedTraceparent},
	}
	for _, c := range bad {
		if _, _, _, err := parseTraceparent(c.in); !errors.Is(err, c.err) {
			t.Errorf("parse %q: err %v, want %v", c.in, err, c.err)
		}
	}
	if got := formatTraceparent(tid, sid, true); got != "00-"+tid+"-"+sid+"-01" {
		t.Errorf("format = %q", got)
	}
	if got := formatTraceparent(tid, sid, false); got != "00-"+tid+"-"+sid+"-00" {
		t.Errorf("format = %q", got)
	}
}

func TestW3CBaggageCodec(t *testing.T) {
	in := []entry{{Key: "mark", Value: "T"}, {Key: "pct", Value: "100%=x&y,z;w"}, {Key: "uni", Value: "你好 world"}, {Key: "empty", Value: ""}}
	s, err := encodeW3CBaggage(entriesRange(in))
	if err != nil {
		t.Fatal(err)
	}
	if want := "mark=T,pct=100%25=x&y%2Cz%3Bw,uni=%E4%BD%A0%E5%A5%BD%20world,empty="; s != want {
		t.Fatalf("encode = %q, want %q", s, want)
	}
	var d BaggageDropError
	out := decodeW3CBaggage(s, limits{}, &d)
	if dropped(&d) != nil || !reflect.DeepEqual(out, in) {
		t.Fatalf("decode = %+v, %+v", out, d)
	}
	got := decodeW3CBaggage(" a = 1 ;prop=x;flag , ,b=%41%62, a=2, ;p", limits{}, &d)
	if dropped(&d) != nil || !reflect.DeepEqual(got, []entry{{Key: "a", Value: "1"}, {Key: "b", Value: "Ab"}}) {
		t.Fatalf("decode = %+v, %+v", got, d)
	}
	for _, bad := range []string{"novalue", "a b=1", "k=v v", "k=%zz", "k=%4", `k="q"`, "=v"} {
		var d BaggageDropError
		out := decodeW3CBaggage("x=1,"+bad+",y=2", limits{}, &d)
		if d.Malformed != 1 || !reflect.DeepEqual(out, []entry{{Key: "x", Value: "1"}, {Key: "y", Value: "2"}}) {
			t.Errorf("decode %q: %+v, drops %+v", bad, out, d)
		}
	}
	if _, err := encodeW3CBaggage(entriesRange([]entry{{Key: "bad key", Value: "v"}})); !errors.Is(err, ErrInvalidBaggageKey) {
		t.Errorf("encode bad key: %v", err)
	}
}

func TestMapCarrier(t *testing.T) {
	m := MapCarrier{"X-Key": "old", "x-KEY": "older"}
	if got := m.Get("x-key"); got != "old" { // "X-Key" sorts before "x-KEY"
		t.Fatalf("Get = %q", got)
	}
	m.Set("X-KEY", "new")
	if len(m) != 1 || m["x-key"] != "new" || m.Get("X-Key") != "new" {
		t.Fatalf("after Set: %v", m)
	}
	if m.Get("absent") != "" {
		t.Fatal("absent key found")
	}
	n := 0
	m.Range(func(k, v string) bool { n++; return false })
	if n != 1 {
		t.Fatalf("Range visited %d", n)
	}
}

func TestHeaderCarrier(t *testing.T) {
	h := http.Header{}
	c := HeaderCarrier(h)
	c.Set("x-b3-traceid", "a")
	if h.Get("X-B3-TraceId") != "a" || c.Get("X-B3-TRACEID") != "a" || c.Get(HeaderB3TraceID) != "a" {
		t.Fatalf("header %v", h)
	}
	h["Empty"] = nil
	seen := map[string]string{}
	c.Range(func(k, v string) bool { seen[k] = v; return true })
	if !reflect.DeepEqual(seen, map[string]string{"X-B3-Traceid": "a"}) {
		t.Fatalf("Range saw %v", seen)
	}
}

// mustSC builds the span context r describes.
func mustSC(t testing.TB, r record) trace.SpanContext {
	t.Helper()
	sc, err := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: r.traceID, SpanID: r.spanID, ParentID: r.parentID, Sampled: r.sampled, Sys: r.sys, Biz: r.biz,
	})
	if err != nil {
		t.Fatalf("NewSpanContext(%+v): %v", r, err)
	}
	return sc
}
