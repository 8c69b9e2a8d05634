package export

import (
	"context"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/trace"
)

func hexOf(b []byte) string { return hex.EncodeToString(b) }

// record starts and finishes a span and returns its record.
func record(tr *trace.Tracer, ctx context.Context, op string, opts ...trace.StartOption) (context.Context, *trace.FinishedSpan) {
	ctx, s := tr.Start(ctx, op, opts...)
	s.Finish()
	return ctx, s.Record()
}

func TestIDsSOFA(t *testing.T) {
	tr := trace.New("app", trace.WithoutMDC())
	ctx, root := record(tr, context.Background(), "root")
	_, child := record(tr, ctx, "child")
	tid, sid, pid := IDs(root)
	if hexOf(tid[:]) != idmap.TraceHex(root.TraceID()) || hexOf(sid[:]) != "af63ad4c86019caf" || pid != ([8]byte{}) {
		t.Errorf("root: %x %x %x", tid, sid, pid)
	}
	_, sid, pid = IDs(child)
	if hexOf(sid[:]) != "4e18dd181d0a2066" || hexOf(pid[:]) != "af63ad4c86019caf" {
		t.Errorf("child 0.1: %x parent %x", sid, pid)
	}
}

func TestIDsW3CKept(t *testing.T) {
	tr := trace.New("app", trace.WithoutMDC(), trace.WithIDGenerator(trace.W3CIDGenerator()))
	_, s := record(tr, context.Background(), "op")
	tid, sid, _ := IDs(s)
	if hexOf(tid[:]) != s.TraceID() || hexOf(sid[:]) != s.SpanID() {
		t.Errorf("W3C ids changed: %x %x for %s %s", tid, sid, s.TraceID(), s.SpanID())
	}
	var attrs []trace.Tag
	for _, a := range AppendAttributes(attrs, s) {
		if a.Key == AttrOriginSpanID {
			t.Error("origin.span.id for an id passed as it is")
		}
	}
}

// A server that keeps its caller's span id (SOFARPC) gets an id of its own under the caller's
// client span, and its local children hang under that id.
func TestIDsKeptServer(t *testing.T) {
	remote, err := trace.NewSpanContext(trace.SpanContextConfig{TraceID: "0ad1348f1403169275002100356696", SpanID: "0.1", ParentID: "0", Sampled: true})
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New("srv", trace.WithoutMDC(), trace.WithDefaultServerSpanMode(trace.ServerSpanKeep))
	ctx, srv := record(tr, context.Background(), "rpc", trace.WithKind(trace.KindServer), trace.WithRemoteParent(remote))
	_, child := record(tr, ctx, "db", trace.WithKind(trace.KindClient))
	_, sid, pid := IDs(srv)
	client := idmap.SpanID("0.1")
	own := idmap.SpanID("0.1/server")
	if sid != own || pid != client {
		t.Errorf("kept server: id %x parent %x, want %x under the client %x", sid, pid, own, client)
	}
	_, csid, cpid := IDs(child)
	if csid != idmap.SpanID("0.1.1") || cpid != own {
		t.Errorf("child of the kept server: id %x parent %x, want parent %x", csid, cpid, own)
	}
	attrs := AppendAttributes(nil, srv)
	if v := tagOf(attrs, AttrOriginSpanID); v != "0.1" {
		t.Errorf("origin.span.id %q", v)
	}
	if v := tagOf(attrs, AttrOriginParentSpanID); v != "0" {
		t.Errorf("origin.parent.span.id %q", v)
	}
}

func tagOf(tags []trace.Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value.String()
		}
	}
	return ""
}

func TestStatus(t *testing.T) {
	tr := trace.New("app", trace.WithoutMDC())
	for _, tc := range []struct {
		logType, code string
		err           error
		failed        bool
		reason        string
	}{
		{"", "", nil, false, ""},
		{"", "00", nil, false, ""},
		{"", "200", nil, false, ""},
		{"", "99", nil, true, "result.code 99"},
		{"http-server", "200", nil, false, ""},
		{"http-server", "302", nil, false, ""},
		{"http-server", "404", nil, true, "result.code 404"},
		{"http-server", "00", nil, true, "result.code 00"},
		{"http-client", "00", nil, false, ""},
		{"http-client", "500", nil, true, "result.code 500"},
		{"rpc-server", "00", nil, false, ""},
		{"rpc-client", "03", nil, true, "result.code 03"},
		{"http-server", "200", errors.New("handler panicked"), true, "handler panicked"},
	} {
		_, s := tr.Start(context.Background(), "op", trace.WithLogType(tc.logType))
		if tc.code != "" {
			s.SetResultCode(tc.code)
		}
		s.SetError(tc.err)
		s.Finish()
		failed, reason := Status(s.Record())
		if failed != tc.failed || reason != tc.reason {
			t.Errorf("%s %q %v: %v %q, want %v %q", tc.logType, tc.code, tc.err, failed, reason, tc.failed, tc.reason)
		}
	}
}

func TestAppendAttributes(t *testing.T) {
	tr := trace.New("app", trace.WithoutMDC())
	ctx, root := tr.Start(context.Background(), "root", trace.WithLoadTest())
	root.Finish()
	_, s := tr.Start(ctx, "op", trace.WithLogType("redis"), trace.WithTags(trace.String("cmd", "GET"), trace.Int("n", 3)))
	s.SetTagBool("hit", true)
	s.SetTag("user", "from-tag")
	s.SetBaggageItem("user", "from-baggage") // a tag wins over baggage of the same key
	s.SetBaggageItem("tenant", "t1")
	s.SetSysBaggageItem("zone", "gz")
	s.SetResultCode("00")
	s.Finish()
	got := AppendAttributes([]trace.Tag{{Key: "before"}}, s.Record())
	want := []struct{ k, v string }{
		{"before", ""}, {"cmd", "GET"}, {"n", "3"}, {"hit", "true"}, {"user", "from-tag"},
		{AttrResultCode, "00"}, {AttrLogType, "redis"}, {"mark", "T"}, {"tenant", "t1"}, {"zone", "gz"},
		{AttrLoadTest, "true"}, {AttrOriginSpanID, "0.1"}, {AttrOriginParentSpanID, "0"},
	}
	if len(got) != len(want) {
		t.Fatalf("attributes %v, want %v", got, want)
	}
	for i, w := range want {
		if got[i].Key != w.k || got[i].Value.String() != w.v {
			t.Errorf("attribute %d: %s=%s, want %s=%s", i, got[i].Key, got[i].Value.String(), w.k, w.v)
		}
	}
	if got[2].Value.Kind() != trace.TagInt || got[3].Value.Kind() != trace.TagBool || got[10].Value.Kind() != trace.TagBool {
		t.Error("attribute types not kept")
	}
}

func TestAppendAttributesAllocs(t *testing.T) {
	tr := trace.New("app", trace.WithoutMDC())
	_, s := tr.Start(context.Background(), "op", trace.WithTags(trace.String("a", "1"), trace.String("b", "2")))
	s.SetBaggageItem("k", "v")
	s.Finish()
	rec := s.Record()
	buf := make([]trace.Tag, 0, 16)
	if n := testing.AllocsPerRun(100, func() { buf = AppendAttributes(buf[:0], rec) }); n != 0 {
		t.Errorf("AppendAttributes: %v allocs", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, _, _ = IDs(rec) }); n != 0 {
		t.Errorf("IDs: %v allocs", n)
	}
}

// The Zipkin JSON of a small SOFA trace, field by field.
func TestZipkinJSON(t *testing.T) {
	sink := newZipkinSink(t, nil)
	e := newZipkin(t, sink.url())
	tr := trace.New("frontend", trace.WithReporter(e), trace.WithoutMDC())
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ctx, root := tr.Start(context.Background(), "GET /checkout", trace.WithKind(trace.KindServer), trace.WithStartTime(start),
		trace.WithLogType("http-server"))
	_, call := tr.Start(ctx, "GET /orders", trace.WithKind(trace.KindClient), trace.WithStartTime(start.Add(time.Millisecond)),
		trace.WithLogType("http-client"))
	call.SetTag("remote.app", "orders")
	call.SetResultCode("500")
	call.FinishAt(start.Add(3 * time.Millisecond))
	_, local := tr.Start(ctx, "render", trace.WithStartTime(start.Add(4*time.Millisecond)))
	local.FinishAt(start.Add(4*time.Millisecond + 300*time.Nanosecond))
	root.SetResultCode("200")
	root.FinishAt(start.Add(5 * time.Millisecond))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	spans, _ := sink.got()
	if len(spans) != 3 {
		t.Fatalf("%d spans", len(spans))
	}
	byName := map[string]zipkinSpan{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	r, c, l := byName["GET /checkout"], byName["GET /orders"], byName["render"]
	tid := idmap.TraceHex(root.TraceID())
	if r.TraceID != tid || c.TraceID != tid || l.TraceID != tid {
		t.Errorf("trace ids %s %s %s, want %s", r.TraceID, c.TraceID, l.TraceID, tid)
	}
	if r.ID != "af63ad4c86019caf" || r.ParentID != "" || c.ID != "4e18dd181d0a2066" || c.ParentID != r.ID || l.ParentID != r.ID {
		t.Errorf("ids: root %s/%s client %s/%s local parent %s", r.ID, r.ParentID, c.ID, c.ParentID, l.ParentID)
	}
	if r.Kind != "SERVER" || c.Kind != "CLIENT" || l.Kind != "" {
		t.Errorf("kinds %q %q %q: a local span has none", r.Kind, c.Kind, l.Kind)
	}
	if r.Timestamp != start.UnixMicro() || r.Duration != 5000 || c.Duration != 2000 || l.Duration != 1 {
		t.Errorf("times: root %d+%d client %d local %d", r.Timestamp, r.Duration, c.Duration, l.Duration)
	}
	if r.LocalEndpoint == nil || r.LocalEndpoint.ServiceName != "frontend" || c.RemoteEndpoint == nil || c.RemoteEndpoint.ServiceName != "orders" {
		t.Errorf("endpoints %+v %+v", r.LocalEndpoint, c.RemoteEndpoint)
	}
	if c.Tags["error"] != "result.code 500" || c.Tags["result.code"] != "500" || c.Tags["origin.span.id"] != "0.1" || c.Tags["origin.parent.span.id"] != "0" {
		t.Errorf("client tags %v", c.Tags)
	}
	if _, ok := r.Tags["error"]; ok || r.Tags["origin.span.id"] != "0" {
		t.Errorf("root tags %v", r.Tags)
	}
}
