package propagation_test

import (
	"context"
	"testing"

	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestParentDerived: when the parent id is absent or empty, an rpcId-style span id gives it, as
// SOFATracer derives it (the part before the last '.'; a root "0" has none). Ids of any other style
// (W3C's 16 hex digits, or anything that is not dot-separated decimal components) carry no parent
// that could be derived: theirs stays empty. A parent id that is given is kept as it is.
func TestParentDerived(t *testing.T) {
	cases := []struct {
		name       string
		p          propagation.Propagator
		c          propagation.MapCarrier
		wantParent string
	}{
		{"sftc_head no pspid", propagation.SofaHead(),
			propagation.MapCarrier{"sftc_head": "tcid=" + sofaTrace + "&spid=0.1.1&sample=true&"}, "0.1"},
		{"sftc_head empty pspid", propagation.SofaHead(),
			propagation.MapCarrier{"sftc_head": "tcid=" + sofaTrace + "&spid=0.1.1&pspid=&sample=true&"}, "0.1"},
		{"sftc_head pspid given", propagation.SofaHead(),
			propagation.MapCarrier{"sftc_head": "tcid=" + sofaTrace + "&spid=0.1.1&pspid=0.7&sample=true&"}, "0.7"},
		{"sftc_head root", propagation.SofaHead(),
			propagation.MapCarrier{"sftc_head": "tcid=" + sofaTrace + "&spid=0&pspid=&sample=true&"}, ""},
		{"sftc_head no spid", propagation.SofaHead(),
			propagation.MapCarrier{"sftc_head": "tcid=" + sofaTrace + "&sample=true&"}, ""},
		{"sftc_head deep", propagation.SofaHead(),
			propagation.MapCarrier{"sftc_head": "tcid=" + sofaTrace + "&spid=0.12.3.45&"}, "0.12.3"},
		{"b3 no parent header", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0.1.2"}, "0.1"},
		{"b3 empty parent header", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0.1.2", "X-B3-ParentSpanId": ""}, "0.1"},
		{"b3 parent given", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0.1.2", "X-B3-ParentSpanId": "0.9"}, "0.9"},
		{"b3 root", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0"}, ""},
		{"b3 single", propagation.B3(),
			propagation.MapCarrier{"b3": sofaTrace + "-0.1.2-1"}, "0.1"},
		{"mosn", propagation.MOSN(),
			propagation.MapCarrier{"SOFA-TraceId": sofaTrace, "SOFA-RpcId": "0.2.1"}, "0.2"},
		// W3C-style ids: no parent can be derived.
		{"b3 w3c ids", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": w3cTrace, "X-B3-SpanId": w3cSpan}, ""},
		{"b3 w3c decimal-only span id", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": w3cTrace, "X-B3-SpanId": "1234567890123456"}, ""},
		{"sftc_head w3c ids", propagation.SofaHead(),
			propagation.MapCarrier{"sftc_head": "tcid=" + w3cTrace + "&spid=" + w3cSpan + "&pspid=&"}, ""},
		{"traceparent", propagation.W3C(),
			propagation.MapCarrier{"traceparent": "00-" + w3cTrace + "-" + w3cSpan + "-01"}, ""},
		// Not rpcId style: dots, but not between decimal components.
		{"b3 dotted non-rpcId", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "a.b"}, ""},
		{"b3 trailing dot", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": "0.1."}, ""},
		{"b3 leading dot", propagation.B3(),
			propagation.MapCarrier{"X-B3-TraceId": sofaTrace, "X-B3-SpanId": ".1"}, ""},
		{"mosn non-rpcId", propagation.MOSN(),
			propagation.MapCarrier{"SOFA-TraceId": sofaTrace, "SOFA-RpcId": "x_1.y"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, sc, err := c.p.Extract(context.Background(), c.c)
			if err != nil || !sc.IsValid() {
				t.Fatalf("Extract: %v, valid %v", err, sc.IsValid())
			}
			if got := sc.ParentID(); got != c.wantParent {
				t.Fatalf("parent id %q, want %q (span id %q)", got, c.wantParent, sc.SpanID())
			}
		})
	}
}
