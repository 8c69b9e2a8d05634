package digestread

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// sofaRPCClientLine is a real gRPC client line written by SOFARPC (Java), as SOFA-FACTS.md quotes it.
const sofaRPCClientLine = `{"timestamp":"2020-03-16 20:23:36.635","tracerId":"0a0fe9071584361415996100161966","spanId":"0","span.kind":"client","local.app":"grpc-client","protocol":"grpc","service":"io.grpc.examples.helloworld.SofaGreeterGrpc$IGreeter","method":"sayHello","current.thread.name":"main","invoke.type":"sync","router.record":"REGISTRY","remote.app":"grpc-server","remote.ip":"10.15.233.7:50052","local.client.ip":"10.15.233.7","result.code":"00","client.elapse.time":"634","local.client.port":"0","baggage":""}`

// shuffleJSON returns an object line with its members in a random order, as SOFATracer 3.1.4 and later
// print an rpc line's tags (hash order).
func shuffleJSON(t *testing.T, line string, rng *rand.Rand) string {
	t.Helper()
	fields, err := parseJSONObject(line)
	if err != nil {
		t.Fatal(err)
	}
	rng.Shuffle(len(fields), func(i, j int) { fields[i], fields[j] = fields[j], fields[i] })
	parts := make([]string, len(fields))
	for i, f := range fields {
		// The line's values hold no character that needs escaping.
		parts[i] = `"` + f.Key + `":"` + f.Value + `"`
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// TestParseSOFARPCJava: a real SOFARPC client line is read: timestamp and tracerId as time and trace id,
// the quoted client.elapse.time as the cost, "service/method" as URL, "00" as success; with its keys in
// any order the record is the same. (Before, such a line was malformed: no time, no traceId.)
func TestParseSOFARPCJava(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20; i++ {
		line := sofaRPCClientLine
		if i > 0 {
			line = shuffleJSON(t, line, rng)
		}
		r, err := ParseLine([]byte(line), time.UTC)
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if !r.Time.Equal(time.Date(2020, 3, 16, 20, 23, 36, 635e6, time.UTC)) || r.TraceID != "0a0fe9071584361415996100161966" ||
			r.SpanID != "0" || r.Kind != layout.KindClient || r.App != "grpc-client" || r.ResultCode != "00" ||
			r.Thread != "main" || r.Cost != 634*time.Millisecond || r.Method != "" || r.LoadTest ||
			r.URL != "io.grpc.examples.helloworld.SofaGreeterGrpc$IGreeter/sayHello" {
			t.Fatalf("record %+v", r)
		}
		if !r.Success() {
			t.Fatal("00 is no success")
		}
		if v, _ := r.Get(layout.FieldRemoteIP); v != "10.15.233.7:50052" {
			t.Fatalf("remote.ip %q", v)
		}
	}
}

// TestRPCSuccessRule: rpc lines are judged by SOFARPC's rule: "00" and blank are successes, 01..04 and
// HTTP-looking codes are not.
func TestRPCSuccessRule(t *testing.T) {
	for code, want := range map[string]bool{"00": true, "": true, "01": false, "02": false, "03": false, "04": false, "200": false} {
		line := strings.Replace(sofaRPCClientLine, `"result.code":"00"`, `"result.code":"`+code+`"`, 1)
		r, err := ParseLine([]byte(line), nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Success() != want {
			t.Errorf("code %q: success %v", code, r.Success())
		}
	}
}

// TestTreeMixedHTTPRPC: an HTTP server span calling over gRPC (unary, then a server stream from the
// callee): the rpc server spans, which keep their client's span id, hang under their client spans, and
// the callee's own client call under its server span.
func TestTreeMixedHTTPRPC(t *testing.T) {
	const tid = "0a0fe9071584361415996100161966"
	lines := []string{
		`{"time":"2024-05-01 12:00:00.050","local.app":"orders","traceId":"` + tid + `","spanId":"0","span.kind":"server","result.code":"200","current.thread.name":"goroutine","time.cost.milliseconds":"50ms","request.url":"http://orders/checkout","method":"POST","req.size.bytes":0,"resp.size.bytes":2,"error":"","sys.baggage":"","biz.baggage":""}`,
		`{"timestamp":"2024-05-01 12:00:00.040","tracerId":"` + tid + `","spanId":"0.1","span.kind":"client","local.app":"orders","protocol":"grpc","service":"shop.Inventory","method":"Reserve","result.code":"00","client.elapse.time":"30","baggage":""}`,
		`{"timestamp":"2024-05-01 12:00:00.038","tracerId":"` + tid + `","spanId":"0.1","span.kind":"server","service":"shop.Inventory","method":"Reserve","local.app":"inventory","result.code":"00","biz.impl.time":"25","baggage":""}`,
		`{"timestamp":"2024-05-01 12:00:00.036","tracerId":"` + tid + `","spanId":"0.1.1","span.kind":"client","local.app":"inventory","service":"shop.Stock","method":"Watch","invoke.type":"server_stream","result.code":"03","client.elapse.time":"10","baggage":""}`,
		`{"timestamp":"2024-05-01 12:00:00.035","tracerId":"` + tid + `","spanId":"0.1.1","span.kind":"server","local.app":"stock","service":"shop.Stock","method":"Watch","invoke.type":"server_stream","result.code":"03","biz.impl.time":"8","baggage":""}`,
	}
	var recs []*Record
	for _, l := range lines {
		r, err := ParseLine([]byte(l), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	tr := BuildTree(recs)
	var got []string
	tr.Walk(func(n *Node) bool {
		got = append(got, strings.Repeat(" ", n.Depth)+n.SpanID+" "+n.App+" "+n.Kind)
		return true
	})
	want := []string{"0 orders server", " 0.1 orders client", "  0.1 inventory server", "   0.1.1 inventory client", "    0.1.1 stock server"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("tree\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if tr.Errors != 2 {
		t.Fatalf("errors %d, want 2 (the two 03 spans)", tr.Errors)
	}
	var b strings.Builder
	if err := RenderTree(&b, tr, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"shop.Inventory/Reserve", "shop.Stock/Watch", "POST http://orders/checkout"} {
		if !strings.Contains(b.String(), s) {
			t.Fatalf("tree rendering lacks %q:\n%s", s, b.String())
		}
	}
}
