package propagation_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// dropCase is inbound baggage (biz entries, in the order the format carries them) that goes over a
// limit or holds a malformed entry, and what must survive of it.
type dropCase struct {
	name     string
	biz      []trace.Pair
	wantBiz  []trace.Pair
	wantErrs []error  // each must match the extract error with errors.Is
	refused  []string // the keys in BaggageDropError.Refused
}

func bizItems(prefix string, n int, value string) []trace.Pair {
	out := make([]trace.Pair, n)
	for i := range out {
		out[i] = trace.Pair{Key: fmt.Sprintf("%s%02d", prefix, i), Value: value}
	}
	return out
}

func cat(lists ...[]trace.Pair) []trace.Pair {
	var out []trace.Pair
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

var mark = []trace.Pair{{Key: "mark", Value: "T"}}

func dropCases() []dropCase {
	big := []trace.Pair{{Key: "big", Value: strings.Repeat("x", 1100)}}
	// keys sort as they are listed (B3 carries baggage in key order): a00.. < big < k.. < mark < z..
	return []dropCase{
		{name: "one entry over the size limit", biz: cat(big, mark, []trace.Pair{{Key: "zone", Value: "gz"}}),
			wantBiz: cat(mark, []trace.Pair{{Key: "zone", Value: "gz"}}), wantErrs: []error{trace.ErrBaggageLimit, propagation.ErrBaggageTooLarge}, refused: []string{"big"}},
		{name: "entries that fill the limit come before the mark", biz: cat(bizItems("a", 2, strings.Repeat("v", 505)), bizItems("k", 1, "v"), mark),
			wantBiz: cat(bizItems("a", 2, strings.Repeat("v", 505)), mark), wantErrs: []error{propagation.ErrBaggageTooLarge}, refused: []string{"k00"}},
		{name: "more than MaxBaggageEntries", biz: cat(bizItems("k", 70, "v"), mark),
			wantBiz: cat(bizItems("k", 63, "v"), mark), wantErrs: []error{propagation.ErrTooManyBaggage},
			refused: []string{"k63", "k64", "k65", "k66", "k67", "k68", "k69"}},
	}
}

// TestExtractKeepsContextWhenBaggageDropped: baggage over the limits no longer costs the caller its
// trace: the ids, the sampled flag and the load-test mark come through, the entries that do not fit
// are dropped, and the error says so.
func TestExtractKeepsContextWhenBaggageDropped(t *testing.T) {
	type format struct {
		name    string
		p       propagation.Propagator
		carrier func(biz []trace.Pair) propagation.Carrier
		traceID string
	}
	formats := []format{
		{"b3 header", propagation.B3(), func(biz []trace.Pair) propagation.Carrier {
			h := http.Header{}
			h.Set("X-B3-TraceId", sofaTrace)
			h.Set("X-B3-SpanId", "0.1")
			h.Set("X-B3-ParentSpanId", "0")
			h.Set("X-B3-Sampled", "false")
			for _, e := range biz {
				h.Set("baggage-"+e.Key, propagation.EscapeSOFA(e.Value))
			}
			return propagation.HeaderCarrier(h)
		}, sofaTrace},
		{"b3 map", propagation.B3(), func(biz []trace.Pair) propagation.Carrier {
			m := propagation.MapCarrier{"x-b3-traceid": sofaTrace, "x-b3-spanid": "0.1", "x-b3-parentspanid": "0", "x-b3-sampled": "false"}
			for _, e := range biz {
				m["baggage-"+e.Key] = propagation.EscapeSOFA(e.Value)
			}
			return m
		}, sofaTrace},
		{"sftc_head", propagation.SofaHead(), func(biz []trace.Pair) propagation.Carrier {
			var b strings.Builder
			b.WriteString("tcid=" + sofaTrace + "&spid=0.1&pspid=0&sample=false&_sys_zone=gz&")
			for _, e := range biz {
				b.WriteString(propagation.EscapeSOFA(e.Key) + "=" + propagation.EscapeSOFA(e.Value) + "&")
			}
			return propagation.MapCarrier{"sftc_head": b.String()}
		}, sofaTrace},
		{"w3c", propagation.W3C(), func(biz []trace.Pair) propagation.Carrier {
			var parts []string
			for _, e := range biz {
				parts = append(parts, e.Key+"="+e.Value)
			}
			h := http.Header{}
			h.Set("Traceparent", "00-"+w3cTrace+"-"+w3cSpan+"-00")
			h.Set("Baggage", strings.Join(parts, ","))
			return propagation.HeaderCarrier(h)
		}, w3cTrace},
	}
	for _, f := range formats {
		for _, c := range dropCases() {
			t.Run(f.name+"/"+c.name, func(t *testing.T) {
				_, sc, err := f.p.Extract(context.Background(), f.carrier(c.biz))
				if !sc.IsValid() {
					t.Fatalf("context lost: err %v", err)
				}
				wantSpan := "0.1"
				if f.name == "w3c" {
					wantSpan = w3cSpan
				}
				if sc.TraceID() != f.traceID || sc.SpanID() != wantSpan || sc.Sampled() {
					t.Fatalf("ids %q %q sampled %v", sc.TraceID(), sc.SpanID(), sc.Sampled())
				}
				if got := ordered(sc.BizBaggage()); !reflect.DeepEqual(got, c.wantBiz) {
					t.Fatalf("biz baggage\n got %v\nwant %v", got, c.wantBiz)
				}
				if f.name == "sftc_head" && !reflect.DeepEqual(ordered(sc.SysBaggage()), []trace.Pair{{Key: "zone", Value: "gz"}}) {
					t.Fatalf("sys baggage lost: %v", ordered(sc.SysBaggage()))
				}
				if err == nil {
					t.Fatal("dropped baggage not reported")
				}
				for _, w := range c.wantErrs {
					if !errors.Is(err, w) {
						t.Fatalf("err %v is not %v", err, w)
					}
				}
				var pe *propagation.Error
				if !errors.As(err, &pe) {
					t.Fatalf("err %T is not an *Error", err)
				}
				var de *propagation.BaggageDropError
				if !errors.Is(err, propagation.ErrBaggageDropped) || !errors.As(err, &de) {
					t.Fatalf("err %v is not a baggage drop", err)
				}
				var keys []string
				for _, r := range de.Refused {
					keys = append(keys, r.Key)
				}
				if !reflect.DeepEqual(keys, c.refused) {
					t.Fatalf("refused %v, want %v", keys, c.refused)
				}
				// The tracer counts each refused entry, and the error once.
				tr := trace.New("go", trace.WithoutMDC())
				tr.ReportError(err)
				if st := tr.Stats(); st.BaggageRefused != uint64(len(c.refused)) || st.Errors != 1 {
					t.Fatalf("stats %+v", st)
				}
			})
		}
	}
}

// TestW3CMalformedBaggageMember: a list-member that cannot be parsed is dropped; the other members
// and the traceparent are kept (W3C Baggage).
func TestW3CMalformedBaggageMember(t *testing.T) {
	for _, bg := range []string{"k=v,bad,mark=T", "k=v,a b=1,mark=T", "k=v,x=%zz,mark=T", `k=v,q="x",mark=T`, "k=v,=v,mark=T"} {
		h := http.Header{"Traceparent": {"00-" + w3cTrace + "-" + w3cSpan + "-01"}, "Baggage": {bg}}
		_, sc, err := propagation.W3C().Extract(context.Background(), propagation.HeaderCarrier(h))
		want := []trace.Pair{{Key: "k", Value: "v"}, {Key: "mark", Value: "T"}}
		if !sc.IsValid() || sc.TraceID() != w3cTrace || !reflect.DeepEqual(ordered(sc.BizBaggage()), want) {
			t.Errorf("%q: valid %v biz %v err %v", bg, sc.IsValid(), ordered(sc.BizBaggage()), err)
			continue
		}
		if !errors.Is(err, propagation.ErrMalformedBaggage) {
			t.Errorf("%q: err %v, want ErrMalformedBaggage", bg, err)
		}
	}
}

// TestServerKeepsTraceWithOversizedBaggage: a SOFATracer (Java) client, which does not enforce the
// baggage limit, calls a Go server with a load-test mark and 1100 bytes of biz baggage. The server
// span continues the caller's trace as its child and keeps the mark; the dropped entry is counted.
func TestServerKeepsTraceWithOversizedBaggage(t *testing.T) {
	tr := trace.New("go", trace.WithoutMDC())
	type seen struct {
		traceID, spanID, parentID string
		load                      bool
	}
	got := make(chan seen, 1)
	srv := httptest.NewServer(tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := trace.SpanFromContext(r.Context())
		got <- seen{s.TraceID(), s.SpanID(), s.ParentID(), s.IsLoadTest()}
	})))
	defer srv.Close()
	req, err := http.NewRequest("GET", srv.URL+"/pay", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-B3-TraceId", sofaTrace)
	req.Header.Set("X-B3-SpanId", "0.1")
	req.Header.Set("X-B3-ParentSpanId", "0")
	req.Header.Set("X-B3-Sampled", "true")
	req.Header.Set("baggage-mark", "T")
	req.Header.Set("baggage-order", strings.Repeat("x", 1100))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := <-got
	if want := (seen{sofaTrace, "0.1.1", "0.1", true}); s != want {
		t.Fatalf("server span %+v, want %+v", s, want)
	}
	st := tr.Stats()
	if st.BaggageRefused != 1 || st.Errors != 1 {
		t.Fatalf("stats %+v, want BaggageRefused 1, Errors 1", st)
	}
}

// TestB3ManyBaggageHeaders: of thousands of baggage headers the first maxB3Baggage in key order are read
// (the same ones whatever the map order), the load-test mark among them wherever it sorts, and the
// others are counted as not read.
func TestB3ManyBaggageHeaders(t *testing.T) {
	m := propagation.MapCarrier{"x-b3-traceid": sofaTrace, "x-b3-spanid": "0.1", "baggage-zzz-mark": "x", "baggage-mark": "T"}
	for i := 0; i < 5000; i++ {
		m[fmt.Sprintf("baggage-k%04d", i)] = "v"
	}
	var first []trace.Pair
	for round := 0; round < 3; round++ {
		_, sc, err := propagation.B3().Extract(context.Background(), m)
		var de *propagation.BaggageDropError
		if !sc.IsValid() || !errors.As(err, &de) || !errors.Is(err, propagation.ErrTooManyBaggage) {
			t.Fatalf("valid %v err %v", sc.IsValid(), err)
		}
		got := ordered(sc.BizBaggage())
		want := cat(bizItems("k00", 10, "v"), bizItems("k00", 63, "v")[10:], mark)
		for i := range want[:63] {
			want[i].Key = fmt.Sprintf("k%04d", i)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("kept %v", got)
		}
		if de.Unread != 5001-4*trace.MaxBaggageEntries || len(de.Refused) != 4*trace.MaxBaggageEntries-63 {
			t.Fatalf("unread %d refused %d", de.Unread, len(de.Refused))
		}
		if round == 0 {
			first = got
		} else if !reflect.DeepEqual(got, first) {
			t.Fatal("result depends on map order")
		}
	}
}
