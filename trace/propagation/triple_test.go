package propagation_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestTripleFixedVector: SOFARPC's ids in gRPC metadata (sofa-traceid, sofa-rpcid) give that trace id,
// span id 0.1 and parent 0, sampled, as a SOFARPC server reads them.
func TestTripleFixedVector(t *testing.T) {
	md := propagation.HeaderCarrier{"sofa-traceid": {"0a0fe9071584361415996100161966"}, "sofa-rpcid": {"0.1"}}
	_, sc, err := propagation.Triple().Extract(context.Background(), md)
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(sc); !reflect.DeepEqual(got, scWant{"0a0fe9071584361415996100161966", "0.1", "0", true, map[string]string{}, map[string]string{}}) {
		t.Fatalf("%+v", got)
	}
}

// TestTripleKeys: the sofa-* keys win over the tri-trace-* ones; either alone is read; a span id alone
// is ErrMissingID; a trace id alone takes span id "0".
func TestTripleKeys(t *testing.T) {
	p := propagation.Triple()
	for _, c := range []struct {
		name        string
		md          propagation.MapCarrier
		trace, span string
		err         error
	}{
		{"sofa first", propagation.MapCarrier{"sofa-traceid": "a1", "sofa-rpcid": "0.2", "tri-trace-traceid": "b2", "tri-trace-rpcid": "0.3"}, "a1", "0.2", nil},
		{"tri only", propagation.MapCarrier{"tri-trace-traceid": "b2", "tri-trace-rpcid": "0.3"}, "b2", "0.3", nil},
		{"mixed", propagation.MapCarrier{"tri-trace-traceid": "b2", "sofa-rpcid": "0.4"}, "b2", "0.4", nil},
		{"trace only", propagation.MapCarrier{"SOFA-TraceId": "c3"}, "c3", "0", nil},
		{"span only", propagation.MapCarrier{"sofa-rpcid": "0.1"}, "", "", propagation.ErrMissingID},
		{"bad trace", propagation.MapCarrier{"sofa-traceid": "a\"b", "sofa-rpcid": "0.1"}, "", "", propagation.ErrInvalidTraceID},
		{"bad span", propagation.MapCarrier{"sofa-traceid": "a", "sofa-rpcid": strings.Repeat("1", 600)}, "", "", propagation.ErrInvalidSpanID},
		{"absent", propagation.MapCarrier{"traceparent": "x"}, "", "", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, sc, err := p.Extract(context.Background(), c.md)
			if !errors.Is(err, c.err) || (err == nil) != (c.err == nil) {
				t.Fatalf("err %v, want %v", err, c.err)
			}
			if sc.TraceID() != c.trace || sc.SpanID() != c.span {
				t.Fatalf("ids %q %q, want %q %q", sc.TraceID(), sc.SpanID(), c.trace, c.span)
			}
		})
	}
}

// TestTripleRoundTrip: a context with hard baggage and each sampled flag survives Inject and Extract;
// the ids are written once, as sofa-*, tri-trace-samp only when unsampled, and every value injected is
// printable ASCII, as gRPC metadata requires (unicode baggage would fail the call otherwise).
func TestTripleRoundTrip(t *testing.T) {
	p := propagation.Triple()
	for _, in := range []trace.SpanContext{
		newSC(t, sofaTrace, "0.1.2", "0.1", true, hardSys, hardBaggage),
		newSC(t, sofaTrace, "0", "", false, nil, nil),
	} {
		md := propagation.MapCarrier{}
		if err := p.Inject(context.Background(), in, md); err != nil {
			t.Fatal(err)
		}
		for k, v := range md {
			if k != strings.ToLower(k) {
				t.Errorf("key %q not lower case", k)
			}
			for i := 0; i < len(v); i++ {
				if v[i] < 0x20 || v[i] > 0x7e {
					t.Fatalf("%s: %q is not printable ASCII", k, v)
				}
			}
		}
		if md["sofa-traceid"] != in.TraceID() || md["sofa-rpcid"] != in.SpanID() || md["tri-trace-traceid"] != "" || md["tri-trace-rpcid"] != "" {
			t.Fatalf("ids not written once, as sofa-*: %v", md)
		}
		if _, ok := md["tri-trace-samp"]; ok == in.Sampled() {
			t.Fatalf("tri-trace-samp written for sampled=%v: %v", in.Sampled(), md)
		}
		_, out, err := p.Extract(context.Background(), md)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(describe(out), describe(in)) {
			t.Fatalf("got %+v\nwant %+v", describe(out), describe(in))
		}
		if !reflect.DeepEqual(ordered(out.BizBaggage()), ordered(in.BizBaggage())) {
			t.Fatalf("biz order %v", ordered(out.BizBaggage()))
		}
	}
}

// TestTripleJavaBaggage: baggage as a SOFARPC (Java) client serializes it, with its own escapes and
// no trailing '&', and an invalid tri-trace-samp: the context is kept, sampled, the flag reported.
func TestTripleJavaBaggage(t *testing.T) {
	md := propagation.MapCarrier{"sofa-traceid": sofaTrace, "sofa-rpcid": "0.1.1",
		"tri-trace-biz-baggage": "mark=T&k%26=v%3D%25&=x&y=&z", "tri-trace-sys-baggage": "zone=gz&", "tri-trace-samp": "maybe"}
	_, sc, err := propagation.Triple().Extract(context.Background(), md)
	if !errors.Is(err, propagation.ErrSampledIgnored) {
		t.Fatalf("err %v", err)
	}
	want := scWant{sofaTrace, "0.1.1", "0.1", true, map[string]string{"zone": "gz"}, map[string]string{"mark": "T", "k&": "v=%"}}
	if got := describe(sc); !reflect.DeepEqual(got, want) {
		t.Fatalf("%+v", got)
	}
	md["tri-trace-samp"] = "false"
	if _, sc, err = propagation.Triple().Extract(context.Background(), md); err != nil || sc.Sampled() {
		t.Fatalf("samp=false: sampled %v, err %v", sc.Sampled(), err)
	}
}

// TestTripleHugeBaggage: a baggage value far over the limits keeps the ids and the load-test mark (its
// room reserved even when it comes last), drops the rest, and says how much in a *BaggageDropError
// that trace.Tracer.ReportError counts entry by entry.
func TestTripleHugeBaggage(t *testing.T) {
	big := strings.Repeat("k=vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv&", 2000) + "mark=T&"
	md := propagation.MapCarrier{"sofa-traceid": sofaTrace, "sofa-rpcid": "0.1", "tri-trace-biz-baggage": big,
		"tri-trace-sys-baggage": strings.Repeat("s", 5000) + "=1&"}
	_, sc, err := propagation.Triple().Extract(context.Background(), md)
	if !sc.IsValid() || !errors.Is(err, propagation.ErrBaggageDropped) {
		t.Fatalf("valid %v err %v", sc.IsValid(), err)
	}
	if sc.BizBaggage().Size() > trace.DefaultBaggageLimit || sc.SysBaggage().Len() != 0 {
		t.Fatalf("biz %d bytes, sys %d entries", sc.BizBaggage().Size(), sc.SysBaggage().Len())
	}
	tr := trace.New("t")
	tr.ReportError(err)
	if st := tr.Stats(); st.BaggageRefused == 0 || st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// FuzzExtractTriple: whatever the metadata, Extract never panics and returns what checkExtracted
// allows.
func FuzzExtractTriple(f *testing.F) {
	f.Add("0a0fe9071584361415996100161966", "0.1", "", "", "mark=T&k=v&", "zone=gz&", "true")
	f.Add("", "", "b2", "0.3", "k%26=v%3D%25&%E4%BD%A0=1", "", "0")
	f.Add("a\n", "0 1", "x", "y", "&&==&", "_sys_x=1", "maybe")
	f.Add(sofaTrace, strings.Repeat("1.", 300), "", "", strings.Repeat("k=v&", 3000), "", "")
	f.Fuzz(func(t *testing.T, sofaTraceID, sofaRpcID, triTraceID, triRpcID, biz, sys, samp string) {
		md := propagation.MapCarrier{"sofa-traceid": sofaTraceID, "sofa-rpcid": sofaRpcID, "tri-trace-traceid": triTraceID,
			"tri-trace-rpcid": triRpcID, "tri-trace-biz-baggage": biz, "tri-trace-sys-baggage": sys, "tri-trace-samp": samp}
		p := propagation.Triple()
		_, sc, err := p.Extract(context.Background(), md)
		checkExtracted(t, p, sc, err)
	})
}
