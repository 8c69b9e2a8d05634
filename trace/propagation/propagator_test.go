package propagation_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

const (
	sofaTrace = "0ad1348f1403169275002100356696"
	w3cTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	w3cSpan   = "00f067aa0ba902b7"
)

// hardBaggage holds the characters every format must survive: SOFA separators, percent signs, unicode
// and the load-test mark.
var hardBaggage = []trace.Pair{
	{Key: "mark", Value: "T"},
	{Key: "pct", Value: "100%"},
	{Key: "amp", Value: "a&b"},
	{Key: "eq", Value: "k=v"},
	{Key: "all", Value: "%&=%25%26%3D"},
	{Key: "uni", Value: "你好, wörld; ✓"},
}

var hardSys = []trace.Pair{{Key: "zone", Value: "gz00a&b=c%"}}

func newSC(t testing.TB, traceID, spanID, parentID string, sampled bool, sys, biz []trace.Pair) trace.SpanContext {
	t.Helper()
	sc, err := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: spanID, ParentID: parentID, Sampled: sampled, Sys: sys, Biz: biz,
	})
	if err != nil {
		t.Fatalf("NewSpanContext: %v", err)
	}
	return sc
}

func items(b trace.Baggage) map[string]string {
	m := map[string]string{}
	for k, v := range b.Range {
		m[k] = v
	}
	return m
}

func ordered(b trace.Baggage) []trace.Pair { return b.Pairs(nil) }

type scWant struct {
	traceID, spanID, parentID string
	sampled                   bool
	sys, biz                  map[string]string
}

func describe(sc trace.SpanContext) scWant {
	return scWant{sc.TraceID(), sc.SpanID(), sc.ParentID(), sc.Sampled(), items(sc.SysBaggage()), items(sc.BizBaggage())}
}

func TestRoundTrips(t *testing.T) {
	sofa := newSC(t, sofaTrace, "0.1.2", "0.1", true, hardSys, hardBaggage)
	sofaUnsampled := newSC(t, sofaTrace, "0", "", false, nil, []trace.Pair{{Key: "mark", Value: "T"}})
	w3c := newSC(t, w3cTrace, w3cSpan, "", true, nil, hardBaggage)
	w3cUnsampled := newSC(t, w3cTrace, w3cSpan, "", false, nil, nil)

	type tc struct {
		name  string
		p     propagation.Propagator
		sc    trace.SpanContext
		check func(t *testing.T, in, out trace.SpanContext)
	}
	full := func(t *testing.T, in, out trace.SpanContext) {
		if !reflect.DeepEqual(describe(in), describe(out)) {
			t.Fatalf("got %+v\nwant %+v", describe(out), describe(in))
		}
	}
	sameOrder := func(t *testing.T, in, out trace.SpanContext) {
		full(t, in, out)
		if !reflect.DeepEqual(ordered(in.BizBaggage()), ordered(out.BizBaggage())) {
			t.Fatalf("biz order: got %v want %v", ordered(out.BizBaggage()), ordered(in.BizBaggage()))
		}
	}
	mosn := func(t *testing.T, in, out trace.SpanContext) {
		if out.TraceID() != in.TraceID() || out.SpanID() != in.SpanID() || !out.Sampled() ||
			out.BizBaggage().Len() != 0 || out.ParentID() != in.ParentID() {
			t.Fatalf("got %+v", describe(out))
		}
	}
	w3cOnly := func(t *testing.T, in, out trace.SpanContext) {
		want := describe(in)
		want.parentID, want.sys = "", map[string]string{}
		if !reflect.DeepEqual(want, describe(out)) {
			t.Fatalf("got %+v\nwant %+v", describe(out), want)
		}
	}
	cases := []tc{
		{"b3/sofa", propagation.B3(), sofa, full},
		{"b3/unsampled", propagation.B3(), sofaUnsampled, full},
		{"b3/w3c ids", propagation.B3(), w3c, full},
		{"sftc_head/sofa", propagation.SofaHead(), sofa, sameOrder},
		{"sftc_head/unsampled", propagation.SofaHead(), sofaUnsampled, sameOrder},
		{"mosn/sofa", propagation.MOSN(), sofa, mosn},
		{"w3c", propagation.W3C(), w3c, sameOrder},
		{"w3c/unsampled", propagation.W3C(), w3cUnsampled, w3cOnly},
		{"default/sofa", propagation.Default(), sofa, full},
		{"default/w3c", propagation.Default(), w3c, full},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, carrier := range []propagation.Carrier{propagation.HeaderCarrier(http.Header{}), propagation.MapCarrier{}} {
				if err := c.p.Inject(context.Background(), c.sc, carrier); err != nil {
					t.Fatalf("Inject: %v", err)
				}
				_, out, err := c.p.Extract(context.Background(), carrier)
				if err != nil || !out.IsValid() {
					t.Fatalf("Extract from %T %v: %v, valid=%v", carrier, carrier, err, out.IsValid())
				}
				c.check(t, c.sc, out)
				if c.name != "mosn/sofa" && out.IsLoadTest() != c.sc.IsLoadTest() { // MOSN carries no baggage
					t.Fatalf("load test: got %v", out.IsLoadTest())
				}
			}
		})
	}
}

// TestFixedVectorB3 is the SOFATracer HTTP vector: an inbound span 0.1 with the load-test mark makes a
// server span 0.1.1 under it, in the same trace.
func TestFixedVectorB3(t *testing.T) {
	h := http.Header{}
	h.Set("X-B3-TraceId", sofaTrace)
	h.Set("X-B3-SpanId", "0.1")
	h.Set("baggage-mark", "T")
	ctx, sc, err := propagation.Default().Extract(context.Background(), propagation.HeaderCarrier(h))
	if err != nil {
		t.Fatal(err)
	}
	if sc.TraceID() != sofaTrace || sc.SpanID() != "0.1" || !sc.Sampled() || !sc.IsLoadTest() {
		t.Fatalf("extracted %+v", describe(sc))
	}
	tr := trace.New("test")
	_, span := tr.Start(ctx, "GET /", trace.WithKind(trace.KindServer), trace.WithRemoteParent(sc))
	defer span.Finish()
	if span.TraceID() != sofaTrace || span.SpanID() != "0.1.1" || span.ParentID() != "0.1" || !span.IsLoadTest() {
		t.Fatalf("server span %s %s parent %s load %v", span.TraceID(), span.SpanID(), span.ParentID(), span.IsLoadTest())
	}
}

func TestFixedVectorSofaHead(t *testing.T) {
	m := propagation.MapCarrier{"sftc_head": "tcid=" + sofaTrace + "&spid=0.1&pspid=0&sample=false&_sys_zone=gz&mark=T&k%26=v%3D&"}
	_, sc, err := propagation.SofaHead().Extract(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	want := scWant{sofaTrace, "0.1", "0", false, map[string]string{"zone": "gz"}, map[string]string{"mark": "T", "k&": "v="}}
	if got := describe(sc); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
}

// TestSofaHeadInjectShape: sftc_head is written byte for byte as SOFATracer's
// SofaTracerSpanContext.serializeSpanContext writes it: the four context fields always, in order, a
// root's empty parent id as "pspid=&", the sampled flag as true/false, then sys and biz baggage.
func TestSofaHeadInjectShape(t *testing.T) {
	cases := []struct {
		name string
		sc   trace.SpanContext
		want string
	}{
		{"root", newSC(t, sofaTrace, "0", "", true, nil, nil),
			"tcid=" + sofaTrace + "&spid=0&pspid=&sample=true&"},
		{"root unsampled with baggage", newSC(t, sofaTrace, "0", "", false, []trace.Pair{{Key: "zone", Value: "gz"}}, mark),
			"tcid=" + sofaTrace + "&spid=0&pspid=&sample=false&_sys_zone=gz&mark=T&"},
		{"child", newSC(t, sofaTrace, "0.1", "0", true, nil, nil),
			"tcid=" + sofaTrace + "&spid=0.1&pspid=0&sample=true&"},
		{"grandchild", newSC(t, sofaTrace, "0.1.2", "0.1", true, nil, mark),
			"tcid=" + sofaTrace + "&spid=0.1.2&pspid=0.1&sample=true&mark=T&"},
	}
	for _, c := range cases {
		m := propagation.MapCarrier{}
		if err := propagation.SofaHead().Inject(context.Background(), c.sc, m); err != nil {
			t.Fatal(err)
		}
		if got := m["sftc_head"]; got != c.want {
			t.Errorf("%s: sftc_head = %q, want %q", c.name, got, c.want)
			continue
		}
		_, back, err := propagation.SofaHead().Extract(context.Background(), m)
		if err != nil || !reflect.DeepEqual(describe(back), describe(c.sc)) {
			t.Errorf("%s: read back %+v, %v", c.name, describe(back), err)
		}
	}
}

func TestFixedVectorMOSN(t *testing.T) {
	h := http.Header{}
	h.Set("SOFA-TraceId", sofaTrace)
	h.Set("SOFA-RpcId", "0.1.3")
	_, sc, err := propagation.Default().Extract(context.Background(), propagation.HeaderCarrier(h))
	if err != nil || sc.TraceID() != sofaTrace || sc.SpanID() != "0.1.3" || sc.ParentID() != "0.1" || !sc.Sampled() {
		t.Fatalf("got %+v, %v", describe(sc), err)
	}
}

func TestFixedVectorW3C(t *testing.T) {
	h := http.Header{}
	h.Set("traceparent", "00-"+w3cTrace+"-"+w3cSpan+"-01")
	h.Set("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	h.Set("baggage", "mark=T,user=J%C3%B6rg;prop=1")
	ctx, sc, err := propagation.Default().Extract(context.Background(), propagation.HeaderCarrier(h))
	if err != nil {
		t.Fatal(err)
	}
	want := scWant{w3cTrace, w3cSpan, "", true, map[string]string{}, map[string]string{"mark": "T", "user": "Jörg"}}
	if got := describe(sc); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	// A W3C tracer's server span continues the trace, and its outbound call carries tracestate unchanged.
	tr := trace.New("test", trace.WithIDGenerator(trace.W3CIDGenerator()))
	ctx, span := tr.Start(ctx, "GET /", trace.WithKind(trace.KindServer), trace.WithRemoteParent(sc))
	defer span.Finish()
	out := http.Header{}
	if err := propagation.Default().Inject(ctx, span.Context(), propagation.HeaderCarrier(out)); err != nil {
		t.Fatal(err)
	}
	if got := out.Get("Tracestate"); got != "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE" {
		t.Fatalf("tracestate %q", got)
	}
	if tp := out.Get("Traceparent"); !strings.HasPrefix(tp, "00-"+w3cTrace+"-") || strings.Contains(tp, w3cSpan) || !strings.HasSuffix(tp, "-01") {
		t.Fatalf("traceparent %q", tp)
	}
	if out.Get("X-B3-Traceid") != w3cTrace || out.Get("X-B3-Parentspanid") != w3cSpan {
		t.Fatalf("b3 headers %v", out)
	}
	// Another trace in the same context does not get this trace's tracestate.
	_, other := tr.Start(ctx, "job", trace.WithNewRoot())
	defer other.Finish()
	out = http.Header{}
	_ = propagation.W3C().Inject(ctx, other.Context(), propagation.HeaderCarrier(out))
	if out.Get("Tracestate") != "" {
		t.Fatalf("tracestate leaked into another trace: %v", out)
	}
}

func TestW3CInjectNeedsHexIDs(t *testing.T) {
	sc := newSC(t, sofaTrace, "0.1", "0", true, nil, nil)
	m := propagation.MapCarrier{}
	err := propagation.W3C().Inject(context.Background(), sc, m)
	if !errors.Is(err, propagation.ErrIncompatibleIDs) || len(m) != 0 {
		t.Fatalf("err %v, carrier %v", err, m)
	}
	// In a composite next to B3 it is not an error.
	if err := propagation.Default().Inject(context.Background(), sc, m); err != nil {
		t.Fatalf("Default.Inject: %v", err)
	}
	if m.Get("traceparent") != "" || m.Get("x-b3-traceid") != sofaTrace {
		t.Fatalf("carrier %v", m)
	}
}

func TestExtractErrors(t *testing.T) {
	long := strings.Repeat("a", 65)
	many := propagation.MapCarrier{"x-b3-traceid": sofaTrace, "x-b3-spanid": "0"}
	for i := 0; i < 65; i++ {
		many["baggage-k"+string(rune('a'+i/26))+string(rune('a'+i%26))] = "v"
	}
	cases := []struct {
		name    string
		carrier propagation.MapCarrier
		want    error
		kept    bool // the context is kept, the baggage dropped
	}{
		{"b3 bad char", propagation.MapCarrier{"x-b3-traceid": "abc\"\n{}", "x-b3-spanid": "0"}, propagation.ErrInvalidTraceID, false},
		{"b3 trace id too long", propagation.MapCarrier{"x-b3-traceid": long, "x-b3-spanid": "0"}, trace.ErrInvalidID, false},
		{"b3 bad span id", propagation.MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0 1"}, propagation.ErrInvalidSpanID, false},
		{"b3 bad parent", propagation.MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "x-b3-parentspanid": "x/y"}, propagation.ErrInvalidParentID, false},
		{"b3 missing span id", propagation.MapCarrier{"x-b3-traceid": "a"}, propagation.ErrMissingID, false},
		{"b3 too many baggage", many, propagation.ErrTooManyBaggage, true},
		{"b3 baggage too large", propagation.MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "baggage-k": strings.Repeat("v", 1024)}, trace.ErrBaggageLimit, true},
		{"sftc_head no tcid", propagation.MapCarrier{"sftc_head": "spid=0.1&"}, propagation.ErrMissingID, false},
		{"sftc_head bad id", propagation.MapCarrier{"sftc_head": "tcid=a%0Ab&"}, trace.ErrInvalidID, false},
		{"mosn bad rpc id", propagation.MapCarrier{"sofa-traceid": "a", "sofa-rpcid": "0..<1>"}, trace.ErrInvalidID, false},
		{"traceparent malformed", propagation.MapCarrier{"traceparent": "00-xyz"}, propagation.ErrMalformedTraceparent, false},
		{"traceparent zero", propagation.MapCarrier{"traceparent": "00-" + strings.Repeat("0", 32) + "-" + w3cSpan + "-01"}, trace.ErrInvalidID, false},
		{"w3c baggage malformed", propagation.MapCarrier{"traceparent": "00-" + w3cTrace + "-" + w3cSpan + "-01", "baggage": "a=\"q\""}, propagation.ErrMalformedBaggage, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			gotCtx, sc, err := propagation.Default().Extract(ctx, c.carrier)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			var pe *propagation.Error
			if !errors.As(err, &pe) {
				t.Fatalf("err %T is not an *Error", err)
			}
			if c.kept {
				if !sc.IsValid() || !errors.Is(err, propagation.ErrBaggageDropped) {
					t.Fatalf("context lost for a baggage drop: %+v, %v", describe(sc), err)
				}
			} else if sc.IsValid() || gotCtx != ctx {
				t.Fatalf("rejected input produced a context: %+v", describe(sc))
			}
			if strings.Contains(err.Error(), "\n") || strings.Contains(err.Error(), "\"q\"") || strings.Contains(err.Error(), long) {
				t.Fatalf("error message repeats the input: %q", err)
			}
		})
	}
}

func TestCompositeOrder(t *testing.T) {
	m := propagation.MapCarrier{
		"x-b3-traceid": "b3trace", "x-b3-spanid": "0.1",
		"sftc_head":   "tcid=headtrace&spid=0.2&",
		"traceparent": "00-" + w3cTrace + "-" + w3cSpan + "-01",
	}
	_, sc, err := propagation.Default().Extract(context.Background(), m)
	if err != nil || sc.TraceID() != "b3trace" {
		t.Fatalf("B3 should win: %+v %v", describe(sc), err)
	}
	delete(m, "x-b3-traceid")
	delete(m, "x-b3-spanid")
	if _, sc, _ = propagation.Default().Extract(context.Background(), m); sc.TraceID() != "headtrace" {
		t.Fatalf("sftc_head should win: %+v", describe(sc))
	}
	_, sc, _ = propagation.Composite(propagation.W3C(), propagation.SofaHead()).Extract(context.Background(), m)
	if sc.TraceID() != w3cTrace {
		t.Fatalf("W3C should win: %+v", describe(sc))
	}
	// A malformed first format does not hide a valid later one, and is still reported.
	m["x-b3-traceid"], m["x-b3-spanid"] = "bad id", "0"
	_, sc, err = propagation.Default().Extract(context.Background(), m)
	if sc.TraceID() != "headtrace" || !errors.Is(err, propagation.ErrInvalidTraceID) {
		t.Fatalf("got %+v, %v", describe(sc), err)
	}
	// Nothing present: no context, no error.
	_, sc, err = propagation.Default().Extract(context.Background(), propagation.MapCarrier{"other": "x"})
	if sc.IsValid() || err != nil {
		t.Fatalf("got %+v, %v", describe(sc), err)
	}
}

func TestInjectSkipsKeysTheFormatCannotCarry(t *testing.T) {
	sc := newSC(t, sofaTrace, "0", "", true, nil, []trace.Pair{{Key: "ok", Value: "1"}, {Key: "bad key", Value: "2"}, {Key: "sys-x", Value: "3"}})
	m := propagation.MapCarrier{}
	err := propagation.B3().Inject(context.Background(), sc, m)
	if !errors.Is(err, propagation.ErrInvalidBaggageKey) {
		t.Fatalf("err %v", err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if want := []string{"baggage-ok", "x-b3-sampled", "x-b3-spanid", "x-b3-traceid"}; !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys %v", keys)
	}
	// sftc_head carries them all.
	if err := propagation.SofaHead().Inject(context.Background(), sc, m); err != nil {
		t.Fatal(err)
	}
	_, back, err := propagation.SofaHead().Extract(context.Background(), m)
	if err != nil || back.BizBaggage().Len() != 3 {
		t.Fatalf("sftc_head: %+v %v", describe(back), err)
	}
}

func TestExtractOnlyAndInvalid(t *testing.T) {
	sc := newSC(t, sofaTrace, "0", "", true, nil, nil)
	m := propagation.MapCarrier{}
	for _, p := range []propagation.Propagator{propagation.B3(propagation.ExtractOnly()), propagation.SofaHead(propagation.ExtractOnly()),
		propagation.MOSN(propagation.ExtractOnly()), propagation.W3C(propagation.ExtractOnly())} {
		if err := p.Inject(context.Background(), sc, m); err != nil || len(m) != 0 {
			t.Fatalf("%T wrote %v, %v", p, m, err)
		}
	}
	if err := propagation.Default().Inject(context.Background(), trace.SpanContext{}, m); err != nil || len(m) != 0 {
		t.Fatalf("invalid context wrote %v, %v", m, err)
	}
}

func TestBaggageLimitsOption(t *testing.T) {
	m := propagation.MapCarrier{"x-b3-traceid": "a", "x-b3-spanid": "0", "baggage-k": strings.Repeat("v", 2000)}
	if _, _, err := propagation.B3().Extract(context.Background(), m); !errors.Is(err, trace.ErrBaggageLimit) {
		t.Fatalf("default limit: %v", err)
	}
	_, sc, err := propagation.B3(propagation.WithBaggageLimits(4096, 4096)).Extract(context.Background(), m)
	if err != nil || sc.BizBaggage().Size() != 2001 {
		t.Fatalf("raised limit: %v", err)
	}
}

// TestNilCarrier: a nil Carrier is empty; Extract finds nothing and Inject writes nothing, without
// panicking (Extract used to dereference it).
func TestNilCarrier(t *testing.T) {
	sc := newSC(t, w3cTrace, w3cSpan, "", true, hardSys, hardBaggage)
	ps := map[string]propagation.Propagator{
		"b3": propagation.B3(), "sftc_head": propagation.SofaHead(), "mosn": propagation.MOSN(),
		"w3c": propagation.W3C(), "default": propagation.Default(),
	}
	ctx := context.Background()
	for name, p := range ps {
		got, gotSC, err := p.Extract(ctx, nil)
		if err != nil || gotSC.IsValid() || got != ctx {
			t.Errorf("%s: Extract(nil carrier) = %v, valid %v, err %v; want ctx, zero, nil", name, got, gotSC.IsValid(), err)
		}
		if err := p.Inject(ctx, sc, nil); err != nil {
			t.Errorf("%s: Inject(nil carrier) = %v, want nil", name, err)
		}
	}
}
