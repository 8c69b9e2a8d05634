package otlp

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/trace"
)

func attrs(sp *tracepb.Span) map[string]any {
	m := map[string]any{}
	for _, kv := range sp.Attributes {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = v.IntValue
		case *commonpb.AnyValue_BoolValue:
			m[kv.Key] = v.BoolValue
		}
	}
	return m
}

// The OTLP request of two applications' spans, read back with the official types, field by field.
func TestEncode(t *testing.T) {
	s := newSink(t, nil)
	t.Setenv(EnvResourceAttributes, "deployment.environment=test,service.name=ignored")
	e := newExporter(t, export.WithEndpointURL(s.url()))
	front := trace.New("frontend", trace.WithReporter(e), trace.WithoutMDC())
	back := trace.New("orders", trace.WithReporter(e), trace.WithoutMDC())
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ctx, root := front.Start(context.Background(), "GET /checkout", trace.WithKind(trace.KindServer),
		trace.WithStartTime(start), trace.WithLogType("http-server"), trace.WithLoadTest())
	_, call := front.Start(ctx, "GET /orders", trace.WithKind(trace.KindClient), trace.WithLogType("http-client"),
		trace.WithStartTime(start.Add(time.Millisecond)))
	call.SetTagInt("req.size.bytes", 12)
	call.SetResultCode("503")
	call.FinishAt(start.Add(2 * time.Millisecond))
	_, srv := back.Start(context.Background(), "GET /orders", trace.WithKind(trace.KindServer),
		trace.WithRemoteParent(call.Context()), trace.WithStartTime(start.Add(time.Millisecond)))
	srv.SetTagBool("cached", true)
	srv.SetError(errors.New("db down"))
	srv.FinishAt(start.Add(2 * time.Millisecond))
	root.SetResultCode("200")
	root.FinishAt(start.Add(3 * time.Millisecond))
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, export.Stats{Spans: 3, Exported: 3})

	spans, services := s.spans()
	if len(spans) != 3 {
		t.Fatalf("%d spans", len(spans))
	}
	by := map[string]*tracepb.Span{}
	svc := map[string]string{}
	for i, sp := range spans {
		by[hex.EncodeToString(sp.SpanId)] = sp
		svc[hex.EncodeToString(sp.SpanId)] = services[i]
	}
	r, c, sv := by[idmap.SpanHex("0")], by[idmap.SpanHex("0.1")], by[idmap.SpanHex("0.1.1")]
	if r == nil || c == nil || sv == nil {
		t.Fatalf("spans by id: %v", by)
	}
	tid := idmap.TraceHex(root.TraceID())
	for _, sp := range spans {
		if hex.EncodeToString(sp.TraceId) != tid || sp.Flags != 1 {
			t.Errorf("span %q: trace %x flags %d", sp.Name, sp.TraceId, sp.Flags)
		}
	}
	if len(r.ParentSpanId) != 0 || hex.EncodeToString(c.ParentSpanId) != idmap.SpanHex("0") || hex.EncodeToString(sv.ParentSpanId) != idmap.SpanHex("0.1") {
		t.Errorf("parents %x %x %x", r.ParentSpanId, c.ParentSpanId, sv.ParentSpanId)
	}
	if svc[idmap.SpanHex("0")] != "frontend" || svc[idmap.SpanHex("0.1")] != "frontend" || svc[idmap.SpanHex("0.1.1")] != "orders" {
		t.Errorf("services %v", svc)
	}
	if r.Kind != tracepb.Span_SPAN_KIND_SERVER || c.Kind != tracepb.Span_SPAN_KIND_CLIENT || sv.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("kinds %v %v %v", r.Kind, c.Kind, sv.Kind)
	}
	if r.StartTimeUnixNano != uint64(start.UnixNano()) || r.EndTimeUnixNano != uint64(start.Add(3*time.Millisecond).UnixNano()) {
		t.Errorf("root times %d %d", r.StartTimeUnixNano, r.EndTimeUnixNano)
	}
	if r.Status != nil || c.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || c.Status.GetMessage() != "result.code 503" ||
		sv.Status.GetMessage() != "db down" {
		t.Errorf("status %v / %v / %v", r.Status, c.Status, sv.Status)
	}
	ra, ca, sa := attrs(r), attrs(c), attrs(sv)
	if ra["load.test"] != true || ra["mark"] != "T" || ra["result.code"] != "200" || ra["log.type"] != "http-server" || ra["origin.span.id"] != "0" {
		t.Errorf("root attributes %v", ra)
	}
	if ca["req.size.bytes"] != int64(12) || ca["origin.parent.span.id"] != "0" {
		t.Errorf("client attributes %v", ca)
	}
	if sa["cached"] != true || sa["origin.span.id"] != "0.1.1" {
		t.Errorf("server attributes %v", sa)
	}
	// Resources: service.name from the tracer, then the SDK's name, then the environment's.
	s.mu.Lock()
	res := s.reqs[0].ResourceSpans[0].Resource.Attributes
	s.mu.Unlock()
	var keys []string
	for _, a := range res {
		keys = append(keys, a.Key+"="+a.Value.GetStringValue())
	}
	if got := strings.Join(keys, ","); !strings.HasPrefix(got, "service.name=") || !strings.HasSuffix(got, "telemetry.sdk.name=tracemdc,telemetry.sdk.language=go,deployment.environment=test") {
		t.Errorf("resource %s", got)
	}
}

// Encoding the same batch twice gives the same bytes: the pooled messages are set afresh.
func TestEncodeReuse(t *testing.T) {
	tr := trace.New("app", trace.WithoutMDC())
	var recs []*trace.FinishedSpan
	for i := 0; i < 50; i++ {
		_, s := tr.Start(context.Background(), "op", trace.WithTag("i", string(rune('a'+i%26))))
		if i%3 == 0 {
			s.SetResultCode("99")
		}
		s.Finish()
		recs = append(recs, s.Record())
	}
	enc := newEncoder(nil)
	first, err := enc.Encode(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := enc.Encode(nil, recs[:7]); err != nil { // a smaller batch in between
		t.Fatal(err)
	}
	again, err := enc.Encode(nil, recs)
	if err != nil {
		t.Fatal(err)
	}
	var a, b collectorpb.ExportTraceServiceRequest
	if proto.Unmarshal(first, &a) != nil || proto.Unmarshal(again, &b) != nil || !proto.Equal(&a, &b) {
		t.Error("the second encoding differs")
	}
	// A span that failed by its result code costs its status message ("result.code 99"); the
	// others cost nothing once the pools are warm.
	var ok []*trace.FinishedSpan
	for i, r := range recs {
		if i%3 != 0 {
			ok = append(ok, r)
		}
	}
	if n := testing.AllocsPerRun(20, func() { first, _ = enc.Encode(first[:0], ok) }); n != 0 {
		t.Errorf("Encode of %d spans in the steady state: %v allocs", len(ok), n)
	}
	if n := testing.AllocsPerRun(20, func() { first, _ = enc.Encode(first[:0], recs) }); n != 17 {
		t.Errorf("Encode of 50 spans, 17 failed: %v allocs, want 17", n)
	}
}

// A partial success counts the rejected spans as failed and reports the backend's message.
func TestPartialSuccess(t *testing.T) {
	s := newSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{PartialSuccess: &collectorpb.ExportTracePartialSuccess{
			RejectedSpans: 2, ErrorMessage: "2 spans too old"}})
		_, _ = w.Write(out)
		return true
	})
	log := &errorLog{}
	e := newExporter(t, export.WithEndpointURL(s.url()), export.WithErrorReporter(log))
	tr := trace.New("app", trace.WithReporter(e))
	for i := 0; i < 5; i++ {
		_, sp := tr.Start(context.Background(), "op")
		sp.Finish()
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, export.Stats{Spans: 5, Exported: 3, Failed: 2})
	errs := log.all()
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "2 spans failed") || !strings.Contains(errs[0].Error(), "partial success: 2 spans too old") ||
		errs[1].Error() != "export: 2 of 5 spans not exported: POST "+e.Endpoint()+": 3 exported, 0 dropped, 2 failed" {
		t.Errorf("errors %v", errs)
	}
}

func TestEnv(t *testing.T) {
	s := newSink(t, nil)
	t.Setenv(EnvEndpoint, s.srv.URL+"/")
	t.Setenv(EnvHeaders, "api-key=secret%20one, tenant = t1")
	t.Setenv(EnvTracesHeaders, "") // empty: the general one applies
	t.Setenv(EnvTimeout, "3000")
	t.Setenv(EnvTracesCompression, "gzip")
	t.Setenv(EnvProtocol, "http/protobuf")
	e := newExporter(t)
	if e.Endpoint() != s.url() {
		t.Errorf("endpoint %s, want %s", e.Endpoint(), s.url())
	}
	tr := trace.New("app", trace.WithReporter(e))
	_, sp := tr.Start(context.Background(), "op")
	sp.Finish()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, export.Stats{Spans: 1, Exported: 1})
	s.mu.Lock()
	h := s.headers[0]
	s.mu.Unlock()
	if h.Get("Api-Key") != "secret one" || h.Get("Tenant") != "t1" || h.Get("Content-Encoding") != "gzip" {
		t.Errorf("headers %v", h)
	}

	// The traces variable wins and is used as it is; an option wins over both.
	t.Setenv(EnvTracesEndpoint, "http://127.0.0.1:1/custom")
	e2 := newExporter(t)
	if e2.Endpoint() != "http://127.0.0.1:1/custom" {
		t.Errorf("endpoint %s", e2.Endpoint())
	}
	e3 := newExporter(t, export.WithEndpointURL("http://127.0.0.1:2/v1/traces"))
	if e3.Endpoint() != "http://127.0.0.1:2/v1/traces" {
		t.Errorf("endpoint %s", e3.Endpoint())
	}

	// Bad values are errors naming the variable.
	for name, v := range map[string]string{
		EnvTracesTimeout: "1s", EnvTracesCompression: "zstd", EnvTracesProtocol: "grpc", EnvTracesHeaders: "novalue",
		EnvResourceAttributes: "k=%zz",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, v)
			if _, err := New(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%s=%s: %v", name, v, err)
			}
		})
	}
}

// A span with invalid UTF-8 (a tag, its name, a baggage value decoded from a caller's header, the
// application's name) is exported with U+FFFD in place of the bad bytes, and the spans batched with
// it are exported too: protobuf refuses to marshal a string field that is not UTF-8, which failed
// the whole batch.
func TestEncodeInvalidUTF8(t *testing.T) {
	s := newSink(t, nil)
	t.Setenv(EnvResourceAttributes, "team=caf%E9")
	log := &errorLog{}
	e := newExporter(t, export.WithEndpointURL(s.url()), export.WithErrorReporter(log), export.WithBatch(100, time.Hour))
	good := trace.New("shop", trace.WithReporter(e), trace.WithoutMDC())
	bad := trace.New("sh\xffop", trace.WithReporter(e), trace.WithoutMDC())
	for i := 0; i < 4; i++ {
		_, sp := good.Start(context.Background(), "op")
		sp.Finish()
	}
	_, sp := bad.Start(context.Background(), "GET /\xc3(", trace.WithTag("bad\xff", "x\xffy"))
	sp.SetBaggageItem("k", "v\xfe")
	sp.SetError(errors.New("failed \xff"))
	sp.Finish()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, export.Stats{Spans: 5, Exported: 5})
	if errs := log.all(); len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
	got, services := s.spans()
	if len(got) != 5 {
		t.Fatalf("%d spans", len(got))
	}
	for i, sp := range got {
		if services[i] != "shop" {
			if services[i] != "sh\uFFFDop" || sp.Name != "GET /\uFFFD(" || sp.Status.GetMessage() != "failed \uFFFD" {
				t.Errorf("span %q of %q, status %q", sp.Name, services[i], sp.Status.GetMessage())
			}
			a := attrs(sp)
			if a["bad\uFFFD"] != "x\uFFFDy" || a["k"] != "v\uFFFD" {
				t.Errorf("attributes %v", a)
			}
		}
	}
}
