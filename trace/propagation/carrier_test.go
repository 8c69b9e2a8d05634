package propagation_test

import (
	"context"
	"net/http"
	"reflect"
	"testing"

	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestHeaderCarrierAnyCase: a HeaderCarrier built by hand, or copied from gRPC metadata (lower-case
// names), is read whatever the case of its keys, by every propagator: header names match
// case-insensitively.
func TestHeaderCarrierAnyCase(t *testing.T) {
	tp := "00-" + w3cTrace + "-" + w3cSpan + "-01"
	cases := []struct {
		name string
		p    propagation.Propagator
		h    http.Header
		want scWant
	}{
		{"b3 lower case (gRPC metadata)", propagation.B3(), http.Header{
			"x-b3-traceid": {sofaTrace}, "x-b3-spanid": {"0.1.2"}, "x-b3-parentspanid": {"0.1"}, "x-b3-sampled": {"false"},
			"baggage-mark": {"T"}, "baggage-sys-zone": {"gz"},
		}, scWant{sofaTrace, "0.1.2", "0.1", false, map[string]string{"zone": "gz"}, map[string]string{"mark": "T"}}},
		{"b3 spec spelling", propagation.B3(), http.Header{
			"X-B3-TraceId": {sofaTrace}, "X-B3-SpanId": {"0.1"}, "X-B3-ParentSpanId": {"0"}, "X-B3-Sampled": {"0"},
		}, scWant{sofaTrace, "0.1", "0", false, map[string]string{}, map[string]string{}}},
		{"b3 single lower case", propagation.B3(), http.Header{"b3": {w3cTrace + "-" + w3cSpan + "-0"}},
			scWant{w3cTrace, w3cSpan, "", false, map[string]string{}, map[string]string{}}},
		{"sftc_head as SOFATracer spells it", propagation.SofaHead(), http.Header{
			"sftc_head": {"tcid=" + sofaTrace + "&spid=0.1&pspid=0&sample=false&mark=T&"},
		}, scWant{sofaTrace, "0.1", "0", false, map[string]string{}, map[string]string{"mark": "T"}}},
		{"mosn as MOSN spells it", propagation.MOSN(), http.Header{"SOFA-TraceId": {sofaTrace}, "SOFA-RpcId": {"0.1.3"}},
			scWant{sofaTrace, "0.1.3", "0.1", true, map[string]string{}, map[string]string{}}},
		{"w3c lower case, several baggage fields", propagation.W3C(), http.Header{
			"traceparent": {tp}, "baggage": {"mark=T", "user=alice"},
		}, scWant{w3cTrace, w3cSpan, "", true, map[string]string{}, map[string]string{"mark": "T", "user": "alice"}}},
		{"default, lower case", propagation.Default(), http.Header{"x-b3-traceid": {sofaTrace}, "x-b3-spanid": {"0.1"}},
			scWant{sofaTrace, "0.1", "0", true, map[string]string{}, map[string]string{}}},
	}
	for _, c := range cases {
		_, sc, err := c.p.Extract(context.Background(), propagation.HeaderCarrier(c.h))
		if err != nil || !reflect.DeepEqual(describe(sc), c.want) {
			t.Errorf("%s: got %+v, %v\nwant %+v", c.name, describe(sc), err, c.want)
		}
	}

	// tracestate read from a lower-case key is carried on.
	ctx, sc, err := propagation.W3C().Extract(context.Background(), propagation.HeaderCarrier(http.Header{
		"traceparent": {tp}, "tracestate": {"rojo=1", "congo=2"},
	}))
	if err != nil || !sc.IsValid() {
		t.Fatalf("w3c: %v", err)
	}
	out := propagation.MapCarrier{}
	child := newSC(t, w3cTrace, "b7ad6b7169203331", w3cSpan, true, nil, nil)
	if err := propagation.W3C().Inject(ctx, child, out); err != nil || out.Get("tracestate") != "rojo=1,congo=2" {
		t.Fatalf("tracestate %q, %v", out.Get("tracestate"), err)
	}
}

// TestHeaderCarrierSpellings: which spelling is read when a header holds a name in several (as given,
// canonical, lower case, the specification's), and that Get, Values and Range agree.
func TestHeaderCarrierSpellings(t *testing.T) {
	c := propagation.HeaderCarrier{
		"x-b3-traceid": {"lower", "lower2"}, "X-B3-TraceId": {"spec"}, "X-B3-TRACEID": {"upper"},
		"Sftc_head": {"canonical"}, "sftc_head": {"lower"},
		"X-Empty": {}, "x-empty": {"v"},
		"SOFA-TraceId": {"mosn"}, "Weird-CASE": {"w"},
	}
	cases := []struct{ key, want string }{
		{"x-b3-traceid", "lower"},              // stored as given
		{"X-B3-TraceId", "spec"},               // stored as given
		{"X-B3-TRACEID", "upper"},              // stored as given
		{propagation.HeaderB3TraceID, "lower"}, // canonical absent: lower case before the spec's spelling
		{"x-B3-tRACEid", "lower"},
		{"SFTC_HEAD", "canonical"},              // canonical before lower case
		{"X-EMPTY", "v"},                        // a spelling without values is as absent
		{propagation.HeaderSofaTraceID, "mosn"}, // neither canonical nor lower case: the spec's spelling
		{"weird-case", ""},                      // any other spelling is not looked for
		{propagation.HeaderB3SpanID, ""},
	}
	for _, tc := range cases {
		for i := 0; i < 20; i++ { // map iteration order varies from call to call; the answer may not
			if got := c.Get(tc.key); got != tc.want {
				t.Fatalf("Get(%q) = %q, want %q", tc.key, got, tc.want)
			}
			vs := c.Values(tc.key)
			if (tc.want == "") != (vs == nil) || (vs != nil && vs[0] != tc.want) {
				t.Fatalf("Values(%q) = %q, Get gives %q", tc.key, vs, tc.want)
			}
		}
	}
	if got := c.Values("x-B3-traceid"); !reflect.DeepEqual(got, []string{"lower", "lower2"}) {
		t.Fatalf("Values = %q", got)
	}
	// Every key Range gives reads back the value Range gave with it.
	n := 0
	c.Range(func(k, v string) bool {
		n++
		if c.Get(k) != v || c.Values(k)[0] != v {
			t.Errorf("Range gave %q=%q, Get gives %q", k, v, c.Get(k))
		}
		return true
	})
	if n != 8 {
		t.Fatalf("Range visited %d keys, want 8 (the key without values is skipped)", n)
	}
	// Such a spelling is found by a MapCarrier, which matches any case.
	if got := (propagation.MapCarrier{"Weird-CASE": "w"}).Get("weird-case"); got != "w" {
		t.Fatalf("MapCarrier Get = %q", got)
	}
}

// TestHeaderCarrierAllocs: neither the canonical fast path nor the case-insensitive fallback
// allocates.
func TestHeaderCarrierAllocs(t *testing.T) {
	canonical := propagation.HeaderCarrier(http.Header{})
	canonical.Set("X-B3-TraceId", sofaTrace)
	lower := propagation.HeaderCarrier{"x-b3-traceid": {sofaTrace}, "accept": {"*/*"}, "user-agent": {"go"}}
	for name, c := range map[string]propagation.HeaderCarrier{"canonical": canonical, "lower": lower} {
		var got string
		if a := testing.AllocsPerRun(100, func() { got = c.Get(propagation.HeaderB3TraceID) }); a != 0 || got != sofaTrace {
			t.Errorf("%s: Get allocated %v times, got %q", name, a, got)
		}
		if a := testing.AllocsPerRun(100, func() { _ = c.Values(propagation.HeaderB3TraceID) }); a != 0 {
			t.Errorf("%s: Values allocated %v times", name, a)
		}
		if a := testing.AllocsPerRun(100, func() { got = c.Get(propagation.HeaderTraceparent) }); a != 0 || got != "" {
			t.Errorf("%s: a miss allocated %v times, got %q", name, a, got)
		}
	}
}
