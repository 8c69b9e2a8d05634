package digest

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
)

// rpcSpans writes one rpc-client span and one rpc-server span of a gRPC unary call, as the gRPC module
// tags them, with fixed times.
func rpcSpans(tr *trace.Tracer, remoteParent trace.SpanContext) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ctx, c := tr.Start(context.Background(), "/shop.Inventory/Reserve", trace.WithKind(trace.KindClient),
		trace.WithLogType(LogTypeRPCClient), trace.WithStartTime(t0))
	c.SetBaggageItem("user", "a&b=c")
	c.SetTag(layout.FieldProtocol, layout.ProtocolGRPC)
	c.SetTag(layout.FieldInvokeType, layout.InvokeSync)
	c.SetTag(layout.FieldRemoteApp, "inventory")
	c.SetTag(layout.FieldRemoteIP, "127.0.0.1:50051")
	c.SetTag(layout.FieldLocalClientIP, "127.0.0.1")
	c.SetTagInt(layout.FieldLocalClientPort, 53124)
	c.SetTagInt(layout.FieldRPCReqSize, 15)
	c.SetTagInt(layout.FieldRPCRespSize, 12)
	c.SetResultCode(layout.CodeSuccess)
	_, sv := tr.Start(ctx, "/shop.Inventory/Reserve", trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeRPCServer),
		trace.WithStartTime(t0.Add(time.Millisecond)), trace.WithRemoteParent(remoteParent), trace.WithServerSpanMode(trace.ServerSpanKeep))
	sv.SetTag(layout.FieldRemoteIP, "127.0.0.1:53124")
	sv.SetTag(layout.FieldRemoteApp, "orders")
	sv.SetTag(layout.FieldProtocol, layout.ProtocolGRPC)
	sv.SetTag(layout.FieldInvokeType, layout.InvokeSync)
	sv.SetTagInt(layout.FieldBizImplTime, 1)
	sv.SetTagInt(layout.FieldRPCReqSize, 15)
	sv.SetTagInt(layout.FieldRPCRespSize, 12)
	sv.SetError(errors.New(`no "stock"` + "\nforged"))
	sv.SetResultCode(layout.CodeBizError)
	sv.FinishAt(t0.Add(2 * time.Millisecond))
	c.FinishAt(t0.Add(3 * time.Millisecond))
}

// jsonKeys returns the keys of a JSON object line, in order.
func jsonKeys(t *testing.T, line string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(line))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %q", line)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		if v[0] != '"' {
			t.Fatalf("%s: %s is not a JSON string (SOFARPC quotes numbers)", keys[len(keys)-1], v)
		}
	}
	return keys
}

// TestRPCLines: rpc-client and rpc-server spans are written in SOFARPC's layouts, byte for byte: the
// documented key order, timestamp and tracerId, numbers as JSON strings, biz baggage only, client
// elapse time from the span's duration, service and method from a gRPC operation name, the error
// text escaped after the documented keys. Their stat lines are keyed by local.app, remote.app, service
// and method with SOFARPC's success rule and no load.test. (Before, they got the generic layout.)
func TestRPCLines(t *testing.T) {
	r, dir := newReporter(t, Config{Policy: Block, Location: time.UTC, Clock: fixedClock()})
	tr := trace.New("orders", trace.WithReporter(r))
	sc, err := trace.NewSpanContext(trace.SpanContextConfig{TraceID: "0a0fe9071584361415996100161966", SpanID: "0.1", Sampled: true,
		Biz: []trace.Pair{{Key: "user", Value: "a&b=c"}}, Sys: []trace.Pair{{Key: "zone", Value: "gz"}}})
	if err != nil {
		t.Fatal(err)
	}
	rpcSpans(tr, sc)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	client := readLines(t, filepath.Join(dir, "rpc-client-digest.log"))
	server := readLines(t, filepath.Join(dir, "rpc-server-digest.log"))
	if len(client) != 1 || len(server) != 1 {
		t.Fatalf("client %q server %q", client, server)
	}
	wantServer := `{"timestamp":"2024-05-01 12:00:00.002","tracerId":"0a0fe9071584361415996100161966","spanId":"0.1","span.kind":"server",` +
		`"service":"shop.Inventory","method":"Reserve","remote.ip":"127.0.0.1:53124","remote.app":"orders","protocol":"grpc",` +
		`"local.app":"orders","current.thread.name":"goroutine","result.code":"01","biz.impl.time":"1","resp.size":"12","req.size":"15",` +
		`"invoke.type":"sync","error":"no \"stock\"\nforged","baggage":"user=a%26b%3Dc&"}`
	if server[0] != wantServer {
		t.Fatalf("server line\n%s\nwant\n%s", server[0], wantServer)
	}
	keys := jsonKeys(t, client[0])
	want := slices.DeleteFunc(slices.Clone(layout.RPCClientFields), func(k string) bool {
		switch k { // what the span did not measure
		case layout.FieldRouterRecord, layout.FieldReqSerializeTime, layout.FieldRespDeserializeTime, layout.FieldClientConnTime:
			return true
		}
		return false
	})
	if !slices.Equal(keys, want) {
		t.Fatalf("client keys %q\nwant %q", keys, want)
	}
	rec, err := digestread.ParseLine([]byte(client[0]), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"client.elapse.time": "3", "local.client.port": "53124", "service": "shop.Inventory",
		"method": "Reserve", "baggage": "user=a%26b%3Dc&", "remote.app": "inventory", "invoke.type": "sync"} {
		if got, _ := rec.Get(k); got != v {
			t.Errorf("client %s = %q, want %q", k, got, v)
		}
	}
	if rec.TraceID == "" || rec.SpanID != "0" || rec.Time.Format(layout.TimeLayout) != "2024-05-01 12:00:00.003" {
		t.Errorf("client record %+v", rec)
	}
	wantStat := map[string]string{
		"rpc-client-stat.log": `{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"orders","remote.app":"inventory","service":"shop.Inventory","method":"Reserve"},"count":1,"total.cost.milliseconds":3,"success":"Y"}`,
		"rpc-server-stat.log": `{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"orders","remote.app":"orders","service":"shop.Inventory","method":"Reserve"},"count":1,"total.cost.milliseconds":1,"success":"N"}`,
	}
	for f, w := range wantStat {
		if got := readLines(t, filepath.Join(dir, f)); len(got) != 1 || got[0] != w {
			t.Errorf("%s\n%q\nwant\n%q", f, got, w)
		}
	}
}

// TestRPCLinesCSV: with CSV, rpc lines keep the common columns and put SOFARPC's other keys, all of
// them, empty when not measured, between them and the baggage.
func TestRPCLinesCSV(t *testing.T) {
	r, dir := newReporter(t, Config{Policy: Block, Format: CSV, Location: time.UTC, StatInterval: -1})
	tr := trace.New("orders", trace.WithReporter(r))
	rpcSpans(tr, trace.SpanContext{})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	client := readLines(t, filepath.Join(dir, "rpc-client-digest.log"))
	if len(client) != 1 {
		t.Fatalf("%q", client)
	}
	cols := strings.Split(client[0], ",")
	want := len(layout.Common) + len(layout.RPCClientFields) - 8 + 2
	if len(cols) != want {
		t.Fatalf("%d columns, want %d: %s", len(cols), want, client[0])
	}
	tail := strings.Join(cols[len(layout.Common):], ",")
	const wantTail = "grpc,shop.Inventory,Reserve,sync,,inventory,127.0.0.1:50051,127.0.0.1,,,12,15,,3,53124,,user=a%2526b%253Dc&" // CSV escapes the '%' of the baggage
	if tail != wantTail {
		t.Fatalf("component columns %s\nwant %s", tail, wantTail)
	}
}

// TestRPCLineW3C: an rpc line of a span with a W3C id carries parent.span.id, which the id itself
// cannot give; an rpcId-style id does not.
func TestRPCLineW3C(t *testing.T) {
	r, dir := newReporter(t, Config{Policy: Block, StatInterval: -1})
	tr := trace.New("w3c", trace.WithReporter(r), trace.WithIDGenerator(trace.W3CIDGenerator()))
	ctx, parent := tr.Start(context.Background(), "handle")
	_, c := tr.Start(ctx, "/a.B/C", trace.WithKind(trace.KindClient), trace.WithLogType(LogTypeRPCClient))
	c.Finish()
	parent.Finish()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "rpc-client-digest.log"))
	if len(lines) != 1 {
		t.Fatalf("%q", lines)
	}
	rec, err := digestread.ParseLine([]byte(lines[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := rec.Get(layout.FieldParentSpanID); p != parent.SpanID() {
		t.Fatalf("parent.span.id %q, want %q: %s", p, parent.SpanID(), lines[0])
	}
}

// TestRPCHostile: hostile tag values, service names and baggage never break an rpc line: each span
// is one valid JSON line whose values read back as written (invalid UTF-8 replaced, long ones cut).
func TestRPCHostile(t *testing.T) {
	r, dir := newReporter(t, Config{Policy: Block, StatInterval: -1})
	tr := trace.New("h\"ost\nile", trace.WithReporter(r), trace.WithBaggageLimits(1<<20, 1<<20))
	for _, v := range hostile {
		_, s := tr.Start(context.Background(), "/"+v+"/"+v, trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeRPCServer))
		s.SetTag(layout.FieldRemoteApp, v)
		s.SetTag(layout.FieldRemoteIP, v)
		s.SetTag(v, v)
		s.SetBaggageItem("k", v[:min(len(v), 100)])
		s.SetResultCode(v)
		s.Finish()
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "rpc-server-digest.log"))
	if len(lines) != len(hostile) {
		t.Fatalf("%d lines for %d spans", len(lines), len(hostile))
	}
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d not JSON: %.200q", i, l)
		}
		rec, err := digestread.ParseLine([]byte(l), nil)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		want := expectValue(hostile[i], DefaultMaxValueBytes)
		for _, k := range []string{layout.FieldRemoteApp, layout.FieldRemoteIP, layout.FieldResultCode} {
			if got, _ := rec.Get(k); got != want {
				t.Fatalf("line %d %s = %.100q, want %.100q", i, k, got, want)
			}
		}
	}
}

// TestEncodeLineNoAlloc: writing an rpc line into a grown buffer allocates nothing.
func TestEncodeLineNoAlloc(t *testing.T) {
	rec := benchRPCSpan()
	e := lineEncoder{limit: DefaultMaxValueBytes, loc: time.Local}
	for _, enc := range []Encoder{rpcClientEnc, rpcServerEnc} {
		if a := testing.AllocsPerRun(100, func() {
			e.buf = e.buf[:0]
			e.line(enc.(LineEncoder), rec, rec.ResultCode())
		}); a != 0 {
			t.Fatalf("%T: %v allocs", enc, a)
		}
	}
}

// benchRPCSpan is a finished rpc-client span as the gRPC module makes it, with one biz baggage entry.
func benchRPCSpan() *trace.FinishedSpan {
	tr := trace.New("bench-app")
	_, s := tr.Start(context.Background(), "/shop.Inventory/Reserve", trace.WithKind(trace.KindClient),
		trace.WithLogType(LogTypeRPCClient))
	s.SetTag(layout.FieldProtocol, layout.ProtocolGRPC)
	s.SetTag(layout.FieldInvokeType, layout.InvokeSync)
	s.SetTag(layout.FieldRemoteApp, "inventory")
	s.SetTag(layout.FieldRemoteIP, "127.0.0.1:50051")
	s.SetTag(layout.FieldLocalClientIP, "127.0.0.1")
	s.SetTagInt(layout.FieldLocalClientPort, 53124)
	s.SetTagInt(layout.FieldRPCReqSize, 15)
	s.SetTagInt(layout.FieldRPCRespSize, 12)
	s.SetResultCode(layout.CodeSuccess)
	s.SetBaggageItem("user", "alice")
	s.Finish()
	return s.Record()
}

// BenchmarkEncodeLine measures writing one rpc-client line into a reused buffer.
func BenchmarkEncodeLine(b *testing.B) {
	rec := benchRPCSpan()
	e := lineEncoder{limit: DefaultMaxValueBytes, loc: time.Local}
	le := rpcClientEnc.(LineEncoder)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e.buf = e.buf[:0]
		e.line(le, rec, rec.ResultCode())
	}
	b.SetBytes(int64(len(e.buf)))
}

// TestObserverRPC: the Observer sees an rpc span's stat key as its stat line has it (remote.app,
// service, method) and SOFARPC's success; Route and Operation are empty.
func TestObserverRPC(t *testing.T) {
	type seen struct {
		rpc                            bool
		remote, service, method, route string
		op                             string
		success                        bool
	}
	var got []seen
	obs := ObserverFunc(func(o Observation) {
		got = append(got, seen{o.RPC(), o.RemoteApp(), o.Service(), o.Method(), o.Route(), o.Operation(), o.Success()})
	})
	r, _ := newReporter(t, Config{Policy: Block, Observer: obs, StatInterval: -1})
	tr := trace.New("orders", trace.WithReporter(r))
	rpcSpans(tr, trace.SpanContext{})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{true, "orders", "shop.Inventory", "Reserve", "", "", false}, // the server span finishes first, code 01
		{true, "inventory", "shop.Inventory", "Reserve", "", "", true},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("observed %+v\nwant %+v", got, want)
	}
}
