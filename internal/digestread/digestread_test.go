package digestread

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	jsonLine = `{"time":"2024-05-01 12:00:00.400","local.app":"frontend","traceId":"0ad1348f1714564800000100012345","spanId":"0.1","span.kind":"client","result.code":"500","current.thread.name":"main","time.cost.milliseconds":"320ms","request.url":"http://h/a?q=\"x\"","method":"POST","req.size.bytes":64,"resp.size.bytes":128,"remote.app":"orders","sys.baggage":"","biz.baggage":"mark=T&"}`
	csvLine  = `2024-05-01 12:00:00.280,inventory,0ad1348f1714564800000100012345,0.1.1.1.1,server,503,http-nio,150ms,/api/stock,GET,0,64,down,,note=a%2Cb&`
)

func TestParseLineJSON(t *testing.T) {
	r, err := ParseLine([]byte(jsonLine), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 5, 1, 12, 0, 0, 400e6, time.UTC)
	if !r.Time.Equal(want) || r.App != "frontend" || r.TraceID != "0ad1348f1714564800000100012345" ||
		r.SpanID != "0.1" || r.Kind != layout.KindClient || r.ResultCode != "500" || r.Thread != "main" ||
		r.Cost != 320*time.Millisecond || r.URL != `http://h/a?q="x"` || r.Method != "POST" || !r.LoadTest {
		t.Fatalf("record %+v", r)
	}
	if r.Success() {
		t.Error("500 is a success")
	}
	if !r.Start().Equal(want.Add(-320 * time.Millisecond)) {
		t.Errorf("start %v", r.Start())
	}
	var keys []string
	for _, f := range r.Fields {
		keys = append(keys, f.Key)
	}
	wantKeys := slices.Concat(layout.Common, layout.HTTPClientFields, []string{layout.FieldSysBaggage, layout.FieldBizBaggage})
	if !slices.Equal(keys, wantKeys) {
		t.Errorf("keys %v, want %v", keys, wantKeys)
	}
	if v, _ := r.Get(layout.FieldReqSize); v != "64" {
		t.Errorf("req size %q", v)
	}
	if _, ok := r.Get("nope"); ok {
		t.Error("Get of a missing field")
	}
}

func TestParseLineCSV(t *testing.T) {
	r, err := ParseLine([]byte(csvLine), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if r.SpanID != "0.1.1.1.1" || r.Kind != layout.KindServer || r.Cost != 150*time.Millisecond || r.URL != "/api/stock" ||
		r.Method != "GET" || r.LoadTest {
		t.Fatalf("record %+v", r)
	}
	if v, _ := r.Get(layout.FieldError); v != "down" {
		t.Errorf("error field %q", v)
	}
	if v, _ := r.Get(layout.FieldBizBaggage); v != "note=a,b&" {
		t.Errorf("biz baggage %q", v)
	}
	// A client line names the fifth component field remote.app; other layouts get generic names.
	r, err = ParseLine([]byte(strings.Replace(csvLine, ",server,", ",client,", 1)), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := r.Get(layout.FieldRemoteApp); v != "down" {
		t.Errorf("remote.app %q", v)
	}
	r, err = ParseLine([]byte("2024-05-01 12:00:00.000,a,t1,0,client,00,main,3,SET k,x,y,,mark=T&"), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if r.URL != "SET k" || r.Method != "x" || !r.LoadTest || r.Cost != 3*time.Millisecond {
		t.Errorf("generic CSV record %+v", r)
	}
	if v, _ := r.Get("field.11"); v != "y" {
		t.Errorf("field.11 = %q (fields %v)", v, r.Fields)
	}
}

func TestParseLineMalformed(t *testing.T) {
	for _, line := range []string{
		"",
		"   ",
		"hello world",
		`{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0"`,
		`{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0"} trailing`,
		`{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0","x":tru}`,
		`{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0","x":{"a":]}`,
		`{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0","x":"bad \q escape"}`,
		"{\"time\":\"2024-05-01 12:00:00.400\",\"traceId\":\"t\",\"spanId\":\"0\",\"x\":\"ctl \x01\"}",
		`{"time":"yesterday","traceId":"t","spanId":"0"}`,
		`{"time":"2024-05-01 12:00:00.400","spanId":"0"}`,
		`{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0","time.cost.milliseconds":"fast"}`,
		`{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0","time.cost.milliseconds":"-3ms"}`,
		`[1,2]`,
		"2024-05-01 12:00:00.600,inventory,too,few",
	} {
		if r, err := ParseLine([]byte(line), time.UTC); err == nil || !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseLine(%q) = %+v, %v; want ErrMalformed", line, r, err)
		}
	}
	// Valid edge cases.
	for _, line := range []string{
		`{}`[:0] + `{"time":"2024-05-01 12:00:00.400","traceId":"t","spanId":"0","n":-1.5e3,"o":{"a":[1,"}"]},"b":null}`,
		` {"time" : "2024-05-01 12:00:00.400" , "traceId":"t\u0031", "spanId":"0"} `,
	} {
		if _, err := ParseLine([]byte(line), time.UTC); err != nil {
			t.Errorf("ParseLine(%q): %v", line, err)
		}
	}
}

// TestRecordSuccess: the reader judges a line by the rule the writer counted it with (package layout):
// "00" is a success of a client and of a non-HTTP span, a failure of an HTTP server span. The writer
// printed the latter's stat line with success N; the reader used to list it as a success.
func TestRecordSuccess(t *testing.T) {
	const common = `"time":"2024-05-01 12:00:00.400","local.app":"a","traceId":"t","spanId":"0",`
	for _, c := range []struct {
		line string
		want bool
	}{
		{`{` + common + `"span.kind":"server","result.code":"200","req.size.bytes":0}`, true},
		{`{` + common + `"span.kind":"server","result.code":"302","req.size.bytes":0}`, true},
		{`{` + common + `"span.kind":"server","result.code":"00","req.size.bytes":0}`, false},
		{`{` + common + `"span.kind":"client","result.code":"00","req.size.bytes":0}`, true},
		{`{` + common + `"span.kind":"client","result.code":"99","req.size.bytes":0}`, false},
		{`{` + common + `"span.kind":"client","result.code":"","req.size.bytes":0}`, false},
		{`{` + common + `"span.kind":"client","result.code":"00","operation":"x"}`, true},
		{`{` + common + `"span.kind":"client","result.code":"200","operation":"x"}`, true},
		{`{` + common + `"span.kind":"client","result.code":"404","operation":"x"}`, false},
		{`{` + common + `"span.kind":"server","result.code":"99","operation":"x"}`, false},
	} {
		rec, err := ParseLine([]byte(c.line), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		if got := rec.Success(); got != c.want {
			t.Errorf("Success() = %v, want %v: %s", got, c.want, c.line)
		}
	}
}

func TestCompareSpanIDs(t *testing.T) {
	ids := []string{"0.10", "0.2", "ab12", "0.1.1", "0", "0.9", "0.1", "0.1.10", "0.1.2", "00ff", "0.02"}
	slices.SortStableFunc(ids, CompareSpanIDs)
	want := []string{"0", "0.1", "0.1.1", "0.1.2", "0.1.10", "0.2", "0.02", "0.9", "0.10", "00ff", "ab12"}
	if !slices.Equal(ids, want) {
		t.Errorf("sorted %v\nwant   %v", ids, want)
	}
	if ParentSpanID("0.1.2") != "0.1" || ParentSpanID("0") != "" {
		t.Error("ParentSpanID")
	}
}

func TestParseDigestPath(t *testing.T) {
	for path, want := range map[string]DigestFile{
		"/l/tracelog/spring-mvc-digest.log":                         {LogType: "spring-mvc"},
		"/l/tracelog/shadow/spring-mvc-digest.log":                  {LogType: "spring-mvc", Shadow: true},
		"/l/tracelog/spring-mvc-digest.log.2024-05-01":              {LogType: "spring-mvc", Backup: true},
		"/l/tracelog/spring-mvc-digest.log.2024-05-01_13":           {LogType: "spring-mvc", Backup: true},
		"/l/tracelog/httpclient-digest.log.1.gz":                    {LogType: "httpclient", Backup: true, Gzip: true},
		"/l/tracelog/httpclient-digest.log.gz":                      {LogType: "httpclient", Backup: true, Gzip: true},
		"/l/tracelog/rpc-digest-2024-05-01T13-00-00.000.log":        {LogType: "rpc", Backup: true},
		"/l/tracelog/rpc-digest-2024-05-01T13-00-00.000.log.gz":     {LogType: "rpc", Backup: true, Gzip: true},
		"/l/tracelog/my-digest-service-digest.log":                  {LogType: "my-digest-service"},
		"/l/tracelog/shadow/spring-mvc-digest.log.2024-05-01_13.gz": {LogType: "spring-mvc", Shadow: true, Backup: true, Gzip: true},
	} {
		got, ok := ParseDigestPath(path)
		want.Path = path
		if !ok || got != want {
			t.Errorf("ParseDigestPath(%q) = %+v, %v; want %+v", path, got, ok, want)
		}
	}
	for _, path := range []string{"spring-mvc-stat.log", "-digest.log", "app.log", "x-digest.txt", "x-digestlog"} {
		if got, ok := ParseDigestPath(path); ok {
			t.Errorf("ParseDigestPath(%q) = %+v, want not a digest file", path, got)
		}
	}
}

func TestSplitter(t *testing.T) {
	var got []string
	emit := func(b []byte) error { got = append(got, string(b)); return nil }
	s := newSplitter(8)
	for _, chunk := range []string{"ab", "c\r\nd", "efghijklmnop", "q\nshort\n", "12345678\n123456789\nx", "yz"} {
		if err := s.feed([]byte(chunk), emit); err != nil {
			t.Fatal(err)
		}
		if cap(s.pending) > 8 {
			t.Fatalf("pending buffer grew to %d bytes, max 8", cap(s.pending))
		}
	}
	if err := s.flush(emit); err != nil {
		t.Fatal(err)
	}
	want := []string{"abc", "short", "12345678", "xyz"}
	if !slices.Equal(got, want) || s.overlong != 2 {
		t.Errorf("lines %q overlong %d; want %q and 2", got, s.overlong, want)
	}
}

func TestTailOffset(t *testing.T) {
	long := strings.Repeat("y", 3*chunkSize/2) // lines across chunk boundaries
	for _, content := range []string{"", "a\n", "a", "a\nb\nc\n", "a\nb\nc", "\n\n\n", long + "\n" + long + "\nz\n" + long} {
		lines := strings.SplitAfter(content, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		for n := 0; n <= len(lines)+1; n++ {
			off, err := TailOffset(strings.NewReader(content), int64(len(content)), n)
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Join(lines[len(lines)-min(n, len(lines)):], "")
			if got := content[off:]; got != want {
				t.Errorf("content %.20q n=%d: tail %.20q (len %d), want %.20q (len %d)", content, n, got, len(got), want, len(want))
			}
		}
	}
}

func rec(t *testing.T, end string, id, kind, code string, cost int, app string) *Record {
	t.Helper()
	line := fmt.Sprintf(`{"time":"2024-05-01 12:00:%s","local.app":%q,"traceId":"T","spanId":%q,"span.kind":%q,"result.code":%q,"time.cost.milliseconds":"%dms","request.url":"/%s"}`,
		end, app, id, kind, code, cost, id)
	r, err := ParseLine([]byte(line), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestBuildTree(t *testing.T) {
	recs := []*Record{
		rec(t, "00.900", "0.1", layout.KindServer, "00", 100, "rpc-server"), // SOFARPC: the server keeps the client's id
		rec(t, "00.950", "0.1", layout.KindClient, "00", 200, "web"),
		rec(t, "01.000", "0", layout.KindServer, "200", 1000, "web"),
		rec(t, "00.880", "0.1.1", layout.KindClient, "99", 10, "rpc-server"),
		rec(t, "00.500", "0.2.1.1", layout.KindServer, "200", 10, "deep"), // parent 0.2.1 and 0.2 not logged
		rec(t, "00.300", "0.10", layout.KindClient, "200", 10, "web"),
		rec(t, "00.200", "0.9", layout.KindClient, "200", 10, "web"),
		rec(t, "00.200", "0.9", layout.KindClient, "200", 10, "web"), // the same line twice (a copied backup)
		rec(t, "00.100", "1", layout.KindServer, "200", 10, "orphan"),
	}
	tr := BuildTree(recs)
	var got []string
	tr.Walk(func(n *Node) bool {
		got = append(got, fmt.Sprintf("%d:%s/%s", n.Depth, n.SpanID, n.Kind))
		return true
	})
	want := []string{"0:0/server", "1:0.1/client", "2:0.1/server", "3:0.1.1/client", "1:0.2.1.1/server",
		"1:0.9/client", "1:0.10/client", "0:1/server"}
	if !slices.Equal(got, want) {
		t.Errorf("tree %v\nwant %v", got, want)
	}
	if tr.Spans != 8 || tr.Errors != 1 || tr.TraceID != "T" || tr.Duration() != time.Second {
		t.Errorf("tree stats spans=%d errors=%d id=%q duration=%v", tr.Spans, tr.Errors, tr.TraceID, tr.Duration())
	}
	// Walk stops when told.
	n := 0
	tr.Walk(func(*Node) bool { n++; return n < 3 })
	if n != 3 {
		t.Errorf("Walk went on after false: %d calls", n)
	}
	var b bytes.Buffer
	if err := RenderTree(&b, BuildTree(nil), RenderOptions{}); err != nil || b.String() != "no spans\n" {
		t.Errorf("empty tree rendered %q, %v", b.String(), err)
	}
}

// TestBuildTreeNamedParents: lines that name their parent (parent.span.id, W3C ids) are placed under
// it whatever the order of lines and start times; a parent that was not logged, or a cycle of
// hostile lines, leaves a root; depths follow.
func TestBuildTreeNamedParents(t *testing.T) {
	named := func(end, id, parent string, cost int) *Record {
		r := rec(t, end, id, layout.KindServer, "200", cost, "w3c")
		r.ParentID = parent
		return r
	}
	recs := []*Record{
		named("00.100", "cc", "bb", 50), // starts before its parent (00.050 < 00.100)
		named("00.200", "bb", "aa", 100),
		named("00.300", "aa", "", 300),
		named("00.300", "dd", "aa", 10),
		named("00.300", "ee", "gone", 10), // its parent was not logged
		named("00.300", "x1", "x2", 10),   // a cycle
		named("00.300", "x2", "x1", 10),
	}
	var got []string
	BuildTree(recs).Walk(func(n *Node) bool {
		got = append(got, fmt.Sprintf("%d:%s", n.Depth, n.SpanID))
		return true
	})
	want := []string{"0:aa", "1:bb", "2:cc", "1:dd", "0:ee", "0:x2", "1:x1"} // the cycle broken at its last line
	if !slices.Equal(got, want) {
		t.Errorf("tree %v\nwant %v", got, want)
	}
}

func TestBar(t *testing.T) {
	for _, c := range []struct {
		off, cost, total time.Duration
		want             string
	}{
		{0, 100, 100, "=========="},
		{0, 0, 100, "=         "},
		{50, 50, 100, "     ====="},
		{99, 1, 100, "         ="},
		{100, 0, 100, "         ="},
		{10, 15, 100, " ==       "},
	} {
		if got := bar(c.off, c.cost, c.total, 10, false); got != c.want {
			t.Errorf("bar(%v,%v,%v) = %q, want %q", c.off, c.cost, c.total, got, c.want)
		}
	}
}

func TestMatchLogLine(t *testing.T) {
	const id = "0ad1348f1714564800000100012345"
	for _, c := range []struct {
		line          string
		ok            bool
		field, spanID string
		at            string // RFC 3339 in UTC, "" for no time
		msg           string
	}{
		{`{"time":"2024-05-01T12:00:00.001Z","level":"INFO","msg":"hi","traceId":"` + id + `","spanId":"0"}`, true, "traceId", "0", "2024-05-01T12:00:00.001Z", "hi"},
		{`{"level":"info","ts":1714564800.061,"msg":"zap","SOFA-TraceId":"` + id + `","SOFA-SpanId":"0.1"}`, true, "SOFA-TraceId", "0.1", "2024-05-01T12:00:00.061Z", "zap"},
		{`{"time":"2024-05-01T14:00:00+02:00","msg":"lr","mdc":{"trace.id":"` + id + `","span.id":"0.2"}}`, true, "mdc.trace.id", "0.2", "2024-05-01T12:00:00Z", "lr"},
		{`{"ts":"2024-05-01T12:00:00.000Z","message":"otel","trace_id":"` + id + `"}`, true, "trace_id", "", "2024-05-01T12:00:00Z", "otel"},
		{`{"msg":"in text only ` + id + `"}`, true, "", "", "", "in text only " + id},
		{`{"msg":"x","traceId":"` + id + `9"}`, false, "", "", "", ""},
		{`2024-05-01 12:00:00.150 INFO trace ` + id + ` queued`, true, "", "", "2024-05-01T12:00:00.15Z", `2024-05-01 12:00:00.150 INFO trace ` + id + ` queued`},
		{`time="2024-05-01T12:00:00Z" level=info msg=x trace=` + id, true, "", "", "2024-05-01T12:00:00Z", `time="2024-05-01T12:00:00Z" level=info msg=x trace=` + id},
		{`2024/05/01 12:00:00 std log ` + id, true, "", "", "2024-05-01T12:00:00Z", `2024/05/01 12:00:00 std log ` + id},
		{`x` + id, false, "", "", "", ""},
		{`unrelated`, false, "", "", "", ""},
	} {
		ll, ok := MatchLogLine([]byte(c.line), id, time.UTC)
		if ok != c.ok {
			t.Errorf("MatchLogLine(%q) = %v", c.line, ok)
			continue
		}
		if !ok {
			continue
		}
		at := ""
		if !ll.Time.IsZero() {
			at = ll.Time.UTC().Format(time.RFC3339Nano)
		}
		if ll.Field != c.field || ll.SpanID != c.spanID || at != c.at || ll.Message != c.msg {
			t.Errorf("MatchLogLine(%q) = field %q span %q at %q msg %q; want %q %q %q %q", c.line, ll.Field, ll.SpanID, at, ll.Message, c.field, c.spanID, c.at, c.msg)
		}
	}
	if !slices.Equal(TraceIDFields, []string{"traceId", "SOFA-TraceId", "trace_id", "trace.id"}) {
		t.Errorf("TraceIDFields %v", TraceIDFields)
	}
}

func TestFindFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a-digest.log", "a-digest.log.2024-05-01", "a-stat.log", "shadow/a-digest.log", "b-digest.log.1.gz", "notes.txt"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := func(dfs []DigestFile) []string {
		var out []string
		for _, df := range dfs {
			rel, _ := filepath.Rel(dir, df.Path)
			out = append(out, rel)
		}
		return out
	}
	if got, want := names(FindFiles(false, dir, filepath.Join(dir, "notes.txt"), filepath.Join(dir, "missing"))), []string{"a-digest.log", "shadow/a-digest.log", "notes.txt"}; !slices.Equal(got, want) {
		t.Errorf("current files %v, want %v", got, want)
	}
	if got, want := names(FindFiles(true, dir, filepath.Join(dir, "a-digest.log"))), []string{"a-digest.log", "a-digest.log.2024-05-01", "b-digest.log.1.gz", "shadow/a-digest.log"}; !slices.Equal(got, want) {
		t.Errorf("all files %v, want %v", got, want)
	}
}

func TestDefaultRoot(t *testing.T) {
	t.Setenv(layout.EnvLogPath, "")
	t.Setenv(layout.EnvSOFALogPath, "/sofa")
	if got := layout.DefaultRoot(); got != "/sofa" {
		t.Errorf("root %q", got)
	}
	t.Setenv(layout.EnvLogPath, "/mine")
	if got := layout.DefaultRoot(); got != "/mine" {
		t.Errorf("root %q", got)
	}
	t.Setenv(layout.EnvLogPath, "")
	t.Setenv(layout.EnvSOFALogPath, "")
	t.Setenv("HOME", "/home/u")
	if got := layout.DefaultRoot(); got != "/home/u/logs" {
		t.Errorf("root %q", got)
	}
	if got := layout.DigestDir("/r"); got != "/r/tracelog" {
		t.Errorf("digest dir %q", got)
	}
}

// lineSink collects lines delivered by a Follower from another goroutine.
type lineSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *lineSink) add(_ string, line []byte) error {
	s.mu.Lock()
	s.lines = append(s.lines, string(line))
	s.mu.Unlock()
	return nil
}

func (s *lineSink) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

// waitLines waits for n lines; the deadline only ends a test that would hang.
func (s *lineSink) waitLines(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(s.snapshot()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("waited for %d lines, have %q", n, s.snapshot())
		}
		time.Sleep(time.Millisecond)
	}
}

func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

// TestFollowerPartialLine: a line written in two parts is delivered once, whole, even when a poll
// happens between the parts.
func TestFollowerPartialLine(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendTo(t, a, "old\n")
	appendTo(t, b, "")
	// Last: -1 reads the files from their start, so nothing depends on when the first poll happens.
	fl := NewFollower(FollowOptions{Poll: time.Millisecond, Last: -1}, a, b)
	var sink lineSink
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- fl.Run(ctx, sink.add) }()
	appendTo(t, a, "first-")
	// a is polled before b in every round: once the second marker (written after the first was seen)
	// has been seen, a has been polled after its partial line was written.
	appendTo(t, b, "m1\n")
	sink.waitLines(t, 2)
	appendTo(t, b, "m2\n")
	sink.waitLines(t, 3)
	appendTo(t, a, "half\n")
	sink.waitLines(t, 4)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, want := sink.snapshot(), []string{"old", "m1", "m2", "first-half"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	if fl.Lines() != 4 || fl.Overlong() != 0 {
		t.Errorf("Lines %d Overlong %d", fl.Lines(), fl.Overlong())
	}
}

// TestFollowerLastAndLateFiles: -n for files there at the start, whole files for files that appear
// later in a followed directory.
func TestFollowerLastAndLateFiles(t *testing.T) {
	dir := t.TempDir()
	appendTo(t, filepath.Join(dir, "a-digest.log"), "a1\na2\na3\n")
	appendTo(t, filepath.Join(dir, "ignored.log"), "nope\n")
	fl := NewFollower(FollowOptions{Poll: time.Millisecond, Last: 2, MaxLine: 16}, dir, filepath.Join(dir, "missing-digest.log"))
	var sink lineSink
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- fl.Run(ctx, sink.add) }()
	sink.waitLines(t, 2)
	appendTo(t, filepath.Join(dir, "b-digest.log"), "b1\n"+strings.Repeat("z", 40)+"\nb2\n")
	appendTo(t, filepath.Join(dir, "missing-digest.log"), "m1\n")
	sink.waitLines(t, 5)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := sink.snapshot()
	slices.Sort(got[2:])
	if want := []string{"a2", "a3", "b1", "b2", "m1"}; !slices.Equal(got, want) {
		t.Errorf("lines %q, want %q", got, want)
	}
	if fl.Overlong() != 1 {
		t.Errorf("overlong %d, want 1", fl.Overlong())
	}
}

func TestFollowerStopsOnCallbackError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a.log")
	appendTo(t, p, "x\n")
	boom := errors.New("boom")
	err := NewFollower(FollowOptions{Poll: time.Millisecond, Last: -1}, p).Run(context.Background(), func(string, []byte) error { return boom })
	if !errors.Is(err, boom) {
		t.Errorf("Run = %v, want boom", err)
	}
}

// atMS is 2024-05-01 12:00:00 UTC plus ms milliseconds.
func atMS(ms int) time.Time { return time.Date(2024, 5, 1, 12, 0, 0, ms*1e6, time.UTC) }

// timedSpan is a record of trace t1 ending at endMS (atMS) after costMS milliseconds; its URL is
// "/" + kind.
func timedSpan(id, kind string, endMS, costMS int) *Record {
	return &Record{Time: atMS(endMS), Cost: time.Duration(costMS) * time.Millisecond, TraceID: "t1", SpanID: id,
		Kind: kind, App: "app", ResultCode: "200", URL: "/" + kind, Raw: id + kind}
}

// TestRenderTimelineLogAfterItsSpan: a log line carrying a span id that reads earlier than the
// span's start (whole-millisecond digest times) is placed right after that span, at the latest start
// of the spans sharing the id, keeping its own time; other lines stay where their time puts them.
func TestRenderTimelineLogAfterItsSpan(t *testing.T) {
	at, span := atMS, timedSpan
	tree := BuildTree([]*Record{
		span("0", layout.KindServer, 200, 100),  // starts at 100
		span("0.1", layout.KindClient, 150, 40), // starts at 110
		span("0.1", layout.KindServer, 148, 36), // same id (SOFARPC style), starts at 112
	})
	logs := []LogLine{
		{File: "a.log", Line: 1, Time: at(111), SpanID: "0.1", Message: "A: before the server span of its id"},
		{File: "a.log", Line: 2, Time: at(99), SpanID: "0", Message: "B: before its span"},
		{File: "a.log", Line: 3, Time: at(99), SpanID: "9.9", Message: "C: span not in the trace"},
		{File: "a.log", Line: 4, Time: at(105), SpanID: "0.1", Message: "D: same place as A, after it"},
		{File: "a.log", Line: 5, SpanID: "0", Message: "E: no time"},
		{File: "a.log", Line: 6, Time: at(130), SpanID: "0", Message: "F: after its span already"},
		{File: "a.log", Line: 7, Time: at(112), Message: "G: no span id"},
	}
	var b strings.Builder
	if err := RenderTimeline(&b, tree, logs, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `timeline t1  spans=3  log lines=7
2024-05-01 12:00:00.099  a.log:3  [9.9] C: span not in the trace
2024-05-01 12:00:00.100  span     [0] app server 200 100ms /server
2024-05-01 12:00:00.099  a.log:2  [0] B: before its span
2024-05-01 12:00:00.110  span     [0.1] app client 200 40ms /client
2024-05-01 12:00:00.112  span     [0.1] app server 200 36ms /server
2024-05-01 12:00:00.111  a.log:1  [0.1] A: before the server span of its id
2024-05-01 12:00:00.105  a.log:4  [0.1] D: same place as A, after it
2024-05-01 12:00:00.112  a.log:7  G: no span id
2024-05-01 12:00:00.130  a.log:6  [0] F: after its span already
-                        a.log:5  [0] E: no time
`
	if got := b.String(); got != want {
		t.Errorf("timeline:\n%s\nwant:\n%s", got, want)
	}
}

// TestChildNeverBeforeParent: digest times are whole milliseconds, so a child's start (end - cost)
// can read a millisecond before its parent's. The tree draws it from its parent's start and the
// timeline lists it after its parent (before, the child's bar began left of its parent's and the
// timeline listed the child first).
func TestChildNeverBeforeParent(t *testing.T) {
	at, span := atMS, timedSpan
	tree := BuildTree([]*Record{
		span("0", layout.KindServer, 100, 100),   // starts at 0
		span("0.1", layout.KindClient, 40, 41),   // starts at -1: rounding
		span("0.1.1", layout.KindServer, 39, 41), // starts at -2
	})
	tree.Walk(func(n *Node) bool {
		if !n.Begin.Equal(at(0)) {
			t.Errorf("span %s drawn from %v, want its parent's start", n.SpanID, n.Begin)
		}
		return true
	})
	var b strings.Builder
	if err := RenderTimeline(&b, tree, nil, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	for i, id := range []string{"[0]", "[0.1]", "[0.1.1]"} {
		if !strings.Contains(lines[i+1], id) {
			t.Fatalf("timeline line %d is not span %s:\n%s", i+1, id, b.String())
		}
	}
	b.Reset()
	if err := RenderTree(&b, tree, RenderOptions{Width: 10}); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n")[1:] {
		if !strings.Contains(l, "|====") {
			t.Errorf("bar does not start at the trace's start: %q", l)
		}
	}
}

// TestTreeColumnsAligned: kinds of different lengths (producer, server) are padded, so the bars line
// up; a failed span shows its error text after ERROR, quoted when it holds control characters.
func TestTreeColumnsAligned(t *testing.T) {
	line := func(spanID, kind, code, errText string, end int) *Record {
		r, err := ParseLine([]byte(fmt.Sprintf(`{"time":"2024-05-01 12:00:00.%03d","local.app":"app","traceId":"T","spanId":%q,"span.kind":%q,"result.code":%q,"current.thread.name":"main","time.cost.milliseconds":"10ms","operation":"op","error":%q}`,
			end, spanID, kind, code, errText)), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tree := BuildTree([]*Record{
		line("0", "server", "00", "", 100),
		line("0.1", "producer", "01", "queue full\nretry", 90),
		line("0.2", "consumer", "99", "boom", 95),
	})
	var b strings.Builder
	if err := RenderTree(&b, tree, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSpace(b.String()), "\n")[1:]
	bar := strings.Index(rows[0], "|")
	for _, r := range rows {
		if strings.Index(r, "|") != bar {
			t.Errorf("bars do not line up:\n%s", b.String())
			break
		}
	}
	if !strings.HasSuffix(rows[1], `ERROR "queue full\nretry"`) || !strings.HasSuffix(rows[2], "ERROR boom") {
		t.Errorf("error texts:\n%s", b.String())
	}
}
