package otlp

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/internal/jaegertest"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// chainHop is one span of the three-service chain as Jaeger should show it.
type chainHop struct {
	service, kind, op string
	sofaID            string // its SOFA span id, for SOFA ids
}

// The chain frontend → orders → inventory over HTTP: each service has a server span and, but the
// last, a client span, each the child of the one before.
var chainHops = []chainHop{
	{"frontend", "server", "GET /start", "0"},
	{"frontend", "client", "GET /step", "0.1"},
	{"orders", "server", "GET /step", "0.1.1"},
	{"orders", "client", "GET /step", "0.1.1.1"},
	{"inventory", "server", "GET /step", "0.1.1.1.1"},
}

// startChain starts the three services, each with its own tracer and OTLP exporter to Jaeger.
func startChain(t *testing.T, j *jaegertest.Jaeger, topts ...trace.Option) (*jaegertest.Chain, []*export.Exporter) {
	var exps []*export.Exporter
	var tracers []*trace.Tracer
	for _, app := range []string{"frontend", "orders", "inventory"} {
		e := newExporter(t, export.WithEndpointURL(j.OTLPURL()))
		exps = append(exps, e)
		tracers = append(tracers, trace.New(app, append([]trace.Option{trace.WithReporter(e)}, topts...)...))
	}
	return jaegertest.StartChain(t, tracers...), exps
}

func closeAll(t *testing.T, exps []*export.Exporter) (spans uint64) {
	t.Helper()
	for _, e := range exps {
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		st := checkAccounting(t, e, export.Stats{Spans: e.Stats().Spans, Exported: e.Stats().Spans})
		spans += st.Exported
	}
	return spans
}

// checkChain finds every hop in the trace by service and kind and checks its parent, name and the
// attributes every HTTP span has.
func checkChain(t *testing.T, tr *jaegertest.Trace, hops []chainHop, sofa bool) {
	t.Helper()
	if len(tr.Spans) != len(hops) {
		t.Fatalf("%d spans in Jaeger, want %d: %v", len(tr.Spans), len(hops), describe(tr))
	}
	parent := ""
	for _, h := range hops {
		var found []jaegertest.Span
		for _, s := range tr.Spans {
			if k, _ := s.Tag("span.kind"); k == h.kind && tr.Service(s) == h.service {
				found = append(found, s)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%s %s: %d spans in Jaeger: %v", h.service, h.kind, len(found), describe(tr))
		}
		s := found[0]
		if s.Parent() != parent || s.OperationName != h.op {
			t.Errorf("%s %s: parent %q op %q, want %q %q", h.service, h.kind, s.Parent(), s.OperationName, parent, h.op)
		}
		code, _ := s.Tag("result.code")
		method, _ := s.Tag("method")
		lt, _ := s.Tag("log.type")
		if code != "200" || method != "GET" || lt != "http-"+h.kind {
			t.Errorf("%s %s: result.code %q method %q log.type %q", h.service, h.kind, code, method, lt)
		}
		origin, hasOrigin := s.Tag("origin.span.id")
		switch {
		case sofa && (s.SpanID != idmap.SpanHex(h.sofaID) || origin != h.sofaID):
			t.Errorf("%s %s: span id %s origin %q, want %s (%s)", h.service, h.kind, s.SpanID, origin, idmap.SpanHex(h.sofaID), h.sofaID)
		case !sofa && hasOrigin:
			t.Errorf("%s %s: origin.span.id %q on a W3C id", h.service, h.kind, origin)
		}
		parent = s.SpanID
	}
}

func describe(tr *jaegertest.Trace) []string {
	var out []string
	for _, s := range tr.Spans {
		k, _ := s.Tag("span.kind")
		out = append(out, fmt.Sprintf("%s/%s %q %s<-%s", tr.Service(s), k, s.OperationName, s.SpanID, s.Parent()))
	}
	return out
}

// Three services over HTTP, SOFA ids then W3C ids, exported by OTLP: Jaeger returns one trace with
// every span, the right parents, services and attributes, from both of its query APIs.
func TestOTLPJaegerThreeServices(t *testing.T) {
	for _, tc := range []struct {
		name string
		ids  trace.IDGenerator
		sofa bool
	}{
		{"sofa", trace.SOFAIDGenerator(), true},
		{"w3c", trace.W3CIDGenerator(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := jaegertest.Start(t)
			chain, exps := startChain(t, j, trace.WithIDGenerator(tc.ids))
			traceID := chain.Call(t, nil)
			if n := closeAll(t, exps); n != 5 {
				t.Fatalf("%d spans exported, want 5", n)
			}
			tid := idmap.TraceHex(traceID)
			if !tc.sofa && tid != traceID {
				t.Fatalf("W3C trace id %s mapped to %s", traceID, tid)
			}
			tr := j.WaitTrace(t, tid, 5)
			checkChain(t, tr, chainHops, tc.sofa)
			v3, err := j.GetV3(context.Background(), tid)
			if err != nil {
				t.Fatal(err)
			}
			for _, svc := range []string{"frontend", "orders", "inventory"} {
				if !bytes.Contains(v3, []byte(`{"key":"service.name","value":{"stringValue":"`+svc+`"}}`)) {
					t.Errorf("/api/v3/traces/%s lacks service %s: %s", tid, svc, v3)
				}
			}
			t.Logf("Jaeger trace %s (%s ids): %v", tid, tc.name, describe(tr))
		})
	}
}

// A Java SOFATracer gateway (its spans as SOFATracer's Zipkin reporter sends them) calls the Go chain
// with SOFA ids; the Go spans go by OTLP. Jaeger joins them in one trace with the right parents.
func TestOTLPJaegerWithSOFAJava(t *testing.T) {
	j := jaegertest.Start(t)
	chain, exps := startChain(t, j)
	sofaID := "0ad1348f" + fmt.Sprint(time.Now().UnixMilli()) + "2000" + "31337"
	h := http.Header{}
	h.Set(propagation.HeaderB3TraceID, sofaID)
	h.Set(propagation.HeaderB3SpanID, "0.1")
	h.Set(propagation.HeaderB3ParentSpanID, "0")
	h.Set(propagation.HeaderB3Sampled, "true")
	nowMs := time.Now().UnixMilli()
	if got := chain.Call(t, h); got != sofaID {
		t.Fatalf("frontend continued trace %s, want %s", got, sofaID)
	}
	jaegertest.PostZipkin(t, j.ZipkinURL(),
		jaegertest.SOFAJavaSpan(sofaID, "0", "", "SERVER", "GET /gateway", "gateway", nowMs-5, 30,
			map[string]string{"request.url": "http://gateway/gateway", "method": "GET", "result.code": "200"}),
		jaegertest.SOFAJavaSpan(sofaID, "0.1", "0", "CLIENT", "GET /start", "gateway", nowMs-3, 25,
			map[string]string{"request.url": "http://frontend/start", "method": "GET", "result.code": "200"}))
	if n := closeAll(t, exps); n != 5 {
		t.Fatalf("%d Go spans exported, want 5", n)
	}
	tr := j.WaitTrace(t, idmap.TraceHex(sofaID), 7)
	if len(tr.Spans) != 7 {
		t.Fatalf("%d spans: %v", len(tr.Spans), describe(tr))
	}
	root, ok1 := tr.ByID(idmap.SpanHex("0"))
	client, ok2 := tr.ByID(idmap.SpanHex("0.1"))
	if !ok1 || !ok2 || root.Parent() != "" || client.Parent() != root.SpanID || tr.Service(root) != "gateway" {
		t.Fatalf("Java spans: %v", describe(tr))
	}
	// The Go chain hangs under the Java client span 0.1: its server span is 0.1.1.
	var goSpans jaegertest.Trace
	goSpans.Processes = tr.Processes
	for _, s := range tr.Spans {
		if tr.Service(s) != "gateway" {
			goSpans.Spans = append(goSpans.Spans, s)
		}
	}
	// Frontend's server span continues the Java client 0.1: 0.1.1, its client 0.1.1.1, and so on.
	hops := make([]chainHop, len(chainHops))
	for i, hop := range chainHops {
		hop.sofaID = "0.1.1" + strings.TrimPrefix(hop.sofaID, "0")
		hops[i] = hop
	}
	checkChainUnder(t, &goSpans, hops, client.SpanID)
	t.Logf("Jaeger trace %s: %v", idmap.TraceHex(sofaID), describe(tr))
}

// checkChainUnder is checkChain for a chain whose first span is the child of parent.
func checkChainUnder(t *testing.T, tr *jaegertest.Trace, hops []chainHop, parent string) {
	t.Helper()
	for _, h := range hops {
		s, ok := tr.ByID(idmap.SpanHex(h.sofaID))
		if !ok {
			t.Fatalf("no span %s (%s) in %v", idmap.SpanHex(h.sofaID), h.sofaID, describe(tr))
		}
		k, _ := s.Tag("span.kind")
		if s.Parent() != parent || tr.Service(s) != h.service || k != h.kind {
			t.Errorf("%s: parent %s service %s kind %s, want %s %s %s", h.sofaID, s.Parent(), tr.Service(s), k, parent, h.service, h.kind)
		}
		parent = s.SpanID
	}
}

// spans finishes n spans of one new trace (a root and n-1 children) and returns its trace id.
func spans(tr *trace.Tracer, n int, op string) string {
	ctx, root := tr.Start(context.Background(), op)
	for i := 1; i < n; i++ {
		_, s := tr.Start(ctx, op)
		s.Finish()
	}
	root.Finish()
	return root.TraceID()
}

// Jaeger killed mid-run and restarted on the same ports: the batch reported while it was down is
// retried until it is back, then taken; nothing is lost or counted twice.
func TestOTLPJaegerKilledAndRestarted(t *testing.T) {
	j := jaegertest.Start(t)
	log := &errorLog{}
	e := newExporter(t, export.WithEndpointURL(j.OTLPURL()), export.WithRetry(20*time.Millisecond, 200*time.Millisecond, 2*time.Minute),
		export.WithErrorReporter(log))
	tr := trace.New("orders", trace.WithReporter(e))

	before := spans(tr, 10, "before")
	e.Flush()
	j.WaitTrace(t, idmap.TraceHex(before), 10)

	j.Kill()
	during := spans(tr, 20, "during")
	flushed := make(chan struct{})
	go func() {
		e.Flush() // returns once the batch is taken or failed
		close(flushed)
	}()
	for deadline := time.Now().Add(30 * time.Second); e.Stats().Retries < 2; { // refused at least twice: the exporter is retrying
		if time.Now().After(deadline) {
			t.Fatalf("no retry while Jaeger was down: %+v", e.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	j.Restart()
	<-flushed
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkAccounting(t, e, export.Stats{Spans: 30, Exported: 30})
	if len(log.all()) != 0 {
		t.Errorf("errors reported for batches that got through: %v", log.all())
	}
	got := j.WaitTrace(t, idmap.TraceHex(during), 20)
	if len(got.Spans) != 20 {
		t.Errorf("%d spans of the retried trace in Jaeger, want 20", len(got.Spans))
	}
	// The first trace went with the killed process's memory: Jaeger really restarted.
	if old, err := j.Get(context.Background(), idmap.TraceHex(before)); err != nil || old != nil {
		t.Errorf("trace of before the kill: %v, %v", old, err)
	}
	t.Logf("kill and restart: %d spans, %d exported, %d failed, %d dropped, %d requests, %d retries",
		st.Spans, st.Exported, st.Failed, st.Dropped, st.Requests, st.Retries)
}

// corrupt makes the bodies of batches whose first span is named "bad" unreadable.
type corrupt struct{ *encoder }

func (c corrupt) Encode(dst []byte, spans []*trace.FinishedSpan) ([]byte, error) {
	out, err := c.encoder.Encode(dst, spans)
	if len(spans) > 0 && spans[0].Operation() == "bad" {
		out = append(out[:len(dst)], 0xff, 0xff, 0xff)
	}
	return out, err
}

// Jaeger answers 400 to a batch it cannot read: the batch is not retried, its spans count as failed,
// the error with Jaeger's answer goes to tracer-self.log, and the next batch gets through.
func TestOTLPJaegerBadRequest(t *testing.T) {
	j := jaegertest.Start(t)
	root := t.TempDir()
	dr, err := digest.New(digest.Config{Root: root, StatInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer dr.Close()
	e, err := export.New(corrupt{newEncoder(nil)}, export.WithEndpointURL(j.OTLPURL()), export.WithErrorReporter(dr))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	tr := trace.New("orders", trace.WithReporter(dr), trace.WithReporter(e))
	spans(tr, 3, "bad")
	e.Flush()
	good := spans(tr, 2, "good")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkAccounting(t, e, export.Stats{Spans: 5, Exported: 2, Failed: 3})
	if st.Retries != 0 || st.Requests != 2 {
		t.Errorf("requests %d retries %d: a 400 is not retried", st.Requests, st.Retries)
	}
	j.WaitTrace(t, idmap.TraceHex(good), 2)
	if err := dr.Close(); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(filepath.Join(layout.DigestDir(root), layout.SelfLogName))
	if err != nil {
		t.Fatal(err)
	}
	want := "export: 3 spans failed: POST " + j.OTLPURL() + ": 400 Bad Request: unexpected EOF\n"
	totals := "export: 3 of 5 spans not exported: POST " + j.OTLPURL() + ": 2 exported, 0 dropped, 3 failed\n"
	if !bytes.Contains(self, []byte(want)) || !bytes.Contains(self, []byte(totals)) || bytes.Count(self, []byte("\n")) != 2 {
		t.Errorf("tracer-self.log, want a line with %q and the totals %q:\n%s", want, totals, self)
	}
	t.Logf("400: %d spans, %d exported, %d failed; tracer-self.log: %s", st.Spans, st.Exported, st.Failed, bytes.TrimSpace(self))
}

// Jaeger stalled (SIGSTOP: connections are accepted, requests never answered) under the Discard
// policy: Finish never waits, what does not fit the queue is dropped and counted, Close gives up at
// its deadline, and every span is accounted for.
func TestOTLPJaegerStalledDiscard(t *testing.T) {
	j := jaegertest.Start(t)
	log := &errorLog{}
	e := newExporter(t, export.WithEndpointURL(j.OTLPURL()), export.WithPolicy(asyncwriter.Discard),
		export.WithQueueCapacity(256), export.WithBatch(64, 10*time.Millisecond), export.WithTimeout(time.Second),
		export.WithCloseTimeout(500*time.Millisecond), export.WithErrorReporter(log))
	tr := trace.New("orders", trace.WithReporter(e))
	j.Pause()
	defer j.Resume()
	const n = 20000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n/100; i++ {
			spans(tr, 100, "stalled")
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Finish waited for a stalled Jaeger under the Discard policy")
	}
	err := e.Close()
	if err == nil || !strings.Contains(err.Error(), "not exported at close") {
		t.Errorf("Close: %v", err)
	}
	st := e.Stats()
	if st.Spans != n || st.Exported != 0 || st.Dropped+st.Failed != n || st.Dropped < n-256-64 {
		t.Errorf("stats %+v", st)
	}
	var reported uint64
	for _, err := range log.all() {
		if x, ok := err.(*export.Error); ok && x.Op == "drop" {
			reported += uint64(x.Spans)
		}
	}
	if reported != st.Dropped {
		t.Errorf("drop reports add up to %d, Stats.Dropped %d", reported, st.Dropped)
	}
	j.Resume()
	t.Logf("stalled: %d spans, %d exported, %d dropped, %d failed, %d requests; Close: %v", st.Spans, st.Exported, st.Dropped, st.Failed, st.Requests, err)
}
