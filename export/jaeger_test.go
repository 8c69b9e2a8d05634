package export

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/internal/jaegertest"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// A Java SOFATracer service (gateway) calls two Go services (orders → inventory) with SOFA ids.
// The Java spans go to Jaeger's Zipkin receiver as SOFATracer sends them; the Go spans go through
// this package's Zipkin exporter. Jaeger shows one trace of five spans with the right parents and
// services.
func TestZipkinJaegerWithSOFAJava(t *testing.T) {
	j := jaegertest.Start(t)
	var exps []*Exporter
	var tracers []*trace.Tracer
	for _, app := range []string{"orders", "inventory"} {
		e := newZipkin(t, j.ZipkinURL())
		exps = append(exps, e)
		tracers = append(tracers, trace.New(app, trace.WithReporter(e)))
	}
	chain := jaegertest.StartChain(t, tracers...)

	// The Java gateway: its server span 0 and its client span 0.1, whose context goes out in
	// SOFATracer's B3 header names with SOFA ids.
	sofaID := "0ad1348f" + fmt.Sprint(time.Now().UnixMilli()) + "1000" + "4242"
	h := http.Header{}
	h.Set(propagation.HeaderB3TraceID, sofaID)
	h.Set(propagation.HeaderB3SpanID, "0.1")
	h.Set(propagation.HeaderB3ParentSpanID, "0")
	h.Set(propagation.HeaderB3Sampled, "true")
	nowMs := time.Now().UnixMilli()
	if got := chain.Call(t, h); got != sofaID {
		t.Fatalf("orders continued trace %s, want %s", got, sofaID)
	}
	jaegertest.PostZipkin(t, j.ZipkinURL(),
		jaegertest.SOFAJavaSpan(sofaID, "0", "", "SERVER", "GET /checkout", "gateway", nowMs-5, 20, map[string]string{"request.url": "http://gateway/checkout", "method": "GET", "result.code": "200"}),
		jaegertest.SOFAJavaSpan(sofaID, "0.1", "0", "CLIENT", "GET", "gateway", nowMs-2, 15, map[string]string{"request.url": "http://orders/start", "method": "GET", "result.code": "200"}))
	for _, e := range exps {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		checkAccounting(t, e, Stats{Spans: e.Stats().Spans, Exported: e.Stats().Spans})
	}
	if s0, s1 := exps[0].Stats().Exported, exps[1].Stats().Exported; s0 != 2 || s1 != 1 {
		t.Fatalf("exported %d (orders) and %d (inventory), want 2 and 1", s0, s1)
	}

	tid := idmap.TraceHex(sofaID)
	tr := j.WaitTrace(t, tid, 5)
	want := []struct{ origin, parent, service, kind string }{
		{"0", "", "gateway", "server"},
		{"0.1", "0", "gateway", "client"},
		{"0.1.1", "0.1", "orders", "server"},
		{"0.1.1.1", "0.1.1", "orders", "client"},
		{"0.1.1.1.1", "0.1.1.1", "inventory", "server"},
	}
	if len(tr.Spans) != len(want) {
		t.Fatalf("%d spans in Jaeger, want %d", len(tr.Spans), len(want))
	}
	for _, w := range want {
		s, ok := tr.ByID(idmap.SpanHex(w.origin))
		if !ok {
			t.Errorf("no span %s (%s) in Jaeger", idmap.SpanHex(w.origin), w.origin)
			continue
		}
		wantParent := ""
		if w.parent != "" {
			wantParent = idmap.SpanHex(w.parent)
		}
		origin, _ := s.Tag("origin.span.id")
		kind, _ := s.Tag("span.kind")
		if s.Parent() != wantParent || tr.Service(s) != w.service || origin != w.origin || kind != w.kind {
			t.Errorf("span %s: parent %s service %s origin %s kind %s, want %s %s %s %s",
				w.origin, s.Parent(), tr.Service(s), origin, kind, wantParent, w.service, w.origin, w.kind)
		}
	}
	t.Logf("Jaeger trace %s: %d spans, services %v", tid, len(tr.Spans), services(tr))
}

func services(tr *jaegertest.Trace) []string {
	var out []string
	for _, s := range tr.Spans {
		out = append(out, tr.Service(s)+":"+s.OperationName)
	}
	return out
}

// An RPC server that keeps its caller's span id (SOFARPC's way) is exported with an id of its own
// under the client span, so Jaeger keeps both spans, distinct, on every query.
func TestZipkinJaegerKeptServerID(t *testing.T) {
	j := jaegertest.Start(t)
	ec, es := newZipkin(t, j.ZipkinURL()), newZipkin(t, j.ZipkinURL())
	caller := trace.New("caller", trace.WithReporter(ec))
	callee := trace.New("callee", trace.WithReporter(es), trace.WithDefaultServerSpanMode(trace.ServerSpanKeep))

	ctx, root := caller.Start(context.Background(), "job")
	cctx, call := caller.Start(ctx, "Greeter/SayHello", trace.WithKind(trace.KindClient), trace.WithLogType("rpc-client"))
	_ = cctx
	sctx, srv := callee.Start(context.Background(), "Greeter/SayHello", trace.WithKind(trace.KindServer),
		trace.WithLogType("rpc-server"), trace.WithRemoteParent(call.Context()))
	_, db := callee.Start(sctx, "db.query", trace.WithKind(trace.KindClient))
	if srv.SpanID() != call.SpanID() {
		t.Fatalf("the server did not keep the id: %s vs %s", srv.SpanID(), call.SpanID())
	}
	db.Finish()
	srv.SetResultCode("00")
	srv.Finish()
	call.SetResultCode("00")
	call.Finish()
	root.Finish()
	for _, e := range []*Exporter{ec, es} {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tid := idmap.TraceHex(root.TraceID())
	clientID, serverID := idmap.SpanHex("0.1"), idmap.SpanHex("0.1/server")
	for query := 1; query <= 2; query++ { // the second query sees what the first one's adjusting stored
		tr := j.WaitTrace(t, tid, 4)
		if len(tr.Spans) != 4 {
			t.Fatalf("query %d: %d spans, want 4: %v", query, len(tr.Spans), services(tr))
		}
		c, okc := tr.ByID(clientID)
		s, oks := tr.ByID(serverID)
		d, okd := tr.ByID(idmap.SpanHex("0.1.1"))
		if !okc || !oks || !okd {
			t.Fatalf("query %d: spans %v", query, services(tr))
		}
		if c.Parent() != idmap.SpanHex("0") || s.Parent() != clientID || d.Parent() != serverID {
			t.Errorf("query %d: parents client %s server %s db %s", query, c.Parent(), s.Parent(), d.Parent())
		}
		if tr.Service(c) != "caller" || tr.Service(s) != "callee" || tr.Service(d) != "callee" {
			t.Errorf("query %d: services %v", query, services(tr))
		}
		if o, _ := s.Tag("origin.span.id"); o != "0.1" {
			t.Errorf("query %d: server origin.span.id %q", query, o)
		}
	}
}
