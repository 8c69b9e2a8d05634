package digest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/rolling"
	"github.com/tracemdc/tracemdc/trace"
)

var stress = os.Getenv("TRACEMDC_STRESS") == "1"

var httpServerOrder = slices.Concat(layout.Common, layout.HTTPServerFields,
	[]string{layout.FieldSysBaggage, layout.FieldBizBaggage})

func fieldKeys(fs []digestread.Field) []string {
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.Key
	}
	return keys
}

// TestEndToEndBlock: 4 goroutines finish spans through a Block reporter rolling at 1 MB; every span
// is exactly one valid line, in the field order of the facts, across the file and its backups.
// TRACEMDC_STRESS=1 runs 4 x 250k spans, the default 4 x 25k.
func TestEndToEndBlock(t *testing.T) {
	perG := 25_000
	if stress {
		perG = 250_000
	}
	if testing.Short() {
		perG = 2_000
	}
	r, dir := newReporter(t, Config{Policy: Block, MaxSizeMB: 1, QueueCapacity: 256})
	tr := trace.New("e2e", trace.WithReporter(r))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perG; i++ {
				httpSpan(tr, "http://e2e/g"+strconv.Itoa(g)+"/"+strconv.Itoa(i), "200")
			}
		}()
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "http-server-digest.log")
	if b, _ := rolling.Backups(path); len(b) == 0 {
		t.Fatalf("no backups: the 1 MB rolling never happened")
	}
	lines := readLines(t, path)
	total := 4 * perG
	if len(lines) != total {
		t.Fatalf("%d lines, want %d", len(lines), total)
	}
	seen := make(map[string]bool, total)
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("line %d is not JSON: %q", i, l)
		}
		rec, err := digestread.ParseLine([]byte(l), nil)
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		if i == 0 || i == total-1 {
			if keys := fieldKeys(rec.Fields); !slices.Equal(keys, httpServerOrder) {
				t.Fatalf("field order %v, want %v", keys, httpServerOrder)
			}
		} else if len(rec.Fields) != len(httpServerOrder) {
			t.Fatalf("line %d has %d fields", i, len(rec.Fields))
		}
		if seen[rec.URL] {
			t.Fatalf("span %s written twice", rec.URL)
		}
		seen[rec.URL] = true
	}
	st := r.Stats()
	if st.Written != uint64(total) || st.Discarded != 0 || st.Lost != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// stallFile blocks the first Write of digest files until release is closed, and tells when a Write
// is waiting.
type stallFile struct {
	io.WriteCloser
	entered chan struct{}
	release chan struct{}
	once    *sync.Once
}

func (f *stallFile) Write(p []byte) (int, error) {
	f.once.Do(func() {
		close(f.entered)
		<-f.release
	})
	return f.WriteCloser.Write(p)
}

// TestDiscardStalledDisk: while the disk is stalled, the Discard policy drops spans instead of
// waiting; produced == written + discarded, and the self log names the count and the dropped ids.
func TestDiscardStalledDisk(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	once := new(sync.Once)
	// A fixed clock: the cap on listed ids is per second, and the drops must not straddle two.
	fixed := time.Date(2024, 5, 1, 12, 0, 0, 0, time.Local)
	cfg := Config{QueueCapacity: 16, LogDroppedIDs: true, Clock: func() time.Time { return fixed }}
	cfg.openFile = func(rc rolling.Config) (io.WriteCloser, error) {
		f, err := rolling.New(rc)
		if err != nil || !strings.HasSuffix(rc.Filename, "-digest.log") {
			return f, err
		}
		return &stallFile{f, entered, release, once}, nil
	}
	r, dir := newReporter(t, cfg)
	tr := trace.New("stall", trace.WithReporter(r))
	httpSpan(tr, "http://stall/first", "200")
	<-entered // the consumer is stuck in the first Write
	const n = 1000
	for i := 1; i < n; i++ {
		httpSpan(tr, "http://stall/"+strconv.Itoa(i), "200")
	}
	st := r.Stats()
	if st.Discarded < n-1-16 {
		t.Fatalf("discarded %d with a stalled disk and 16 slots", st.Discarded)
	}
	close(release)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st = r.Stats()
	lines := readLines(t, filepath.Join(dir, "http-server-digest.log"))
	if uint64(len(lines)) != st.Written || st.Written+st.Discarded != n || st.Accepted != st.Written {
		t.Fatalf("%d lines, stats %+v: produced %d != written + discarded", len(lines), st, n)
	}
	self := readSelfLog(t, dir)
	m := regexp.MustCompile(`discarded \d+ spans \(total (\d+)\)`).FindAllStringSubmatch(self, -1)
	if len(m) == 0 || m[len(m)-1][1] != strconv.FormatUint(st.Discarded, 10) {
		t.Fatalf("self log does not report %d discarded spans:\n%s", st.Discarded, self)
	}
	if c := strings.Count(self, "]discarded span 0"); c != min(int(st.Discarded), maxDroppedIDs) {
		t.Fatalf("%d dropped ids in the self log, want %d", c, min(int(st.Discarded), maxDroppedIDs))
	}
	// The background goroutine reports every second: if a report fell inside the drops, the
	// unlisted ids are counted over more than one line.
	unlisted := uint64(0)
	for _, m := range regexp.MustCompile(`\](\d+) more discarded span ids not listed`).FindAllStringSubmatch(self, -1) {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		unlisted += n
	}
	if want := st.Discarded - min(st.Discarded, maxDroppedIDs); unlisted != want {
		t.Fatalf("self log counts %d unlisted ids, want %d:\n%s", unlisted, want, self)
	}
}

// TestUnsampled: no digest line, but counted in the stat line.
func TestUnsampled(t *testing.T) {
	r, dir := newReporter(t, Config{})
	tr := trace.New("quiet", trace.WithReporter(r), trace.WithSampler(trace.NeverSample()))
	for i := 0; i < 7; i++ {
		httpSpan(tr, "http://quiet/x", "200")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "http-server-digest.log")); !os.IsNotExist(err) {
		t.Fatalf("digest file of unsampled spans: %v", err)
	}
	stat := readLines(t, filepath.Join(dir, "http-server-stat.log"))
	if len(stat) != 1 || !strings.Contains(stat[0], `"count":7,`) {
		t.Fatalf("stat lines %q", stat)
	}
	if st := r.Stats(); st.Unsampled != 7 || st.Written != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLoadTestShadow: load-test spans go to shadow/ only, digest and stat.
func TestLoadTestShadow(t *testing.T) {
	r, dir := newReporter(t, Config{})
	tr := trace.New("load", trace.WithReporter(r))
	httpSpan(tr, "http://load/a", "200", trace.WithLoadTest())
	httpSpan(tr, "http://load/a", "200", trace.WithLoadTest())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	files := listFiles(t, dir)
	want := []string{"shadow/http-server-digest.log", "shadow/http-server-stat.log", "static-info.log", "tracer-self.log"}
	if !slices.Equal(files, want) {
		t.Fatalf("files %v, want %v", files, want)
	}
	lines := readLines(t, filepath.Join(dir, "shadow", "http-server-digest.log"))
	if len(lines) != 2 || !strings.Contains(lines[0], `"biz.baggage":"mark=T&"`) {
		t.Fatalf("shadow lines %q", lines)
	}
	stat := readLines(t, filepath.Join(dir, "shadow", "http-server-stat.log"))
	if len(stat) != 1 || !strings.HasSuffix(stat[0], `"count":2,"total.cost.milliseconds":0,"success":"Y","load.test":"T"}`) {
		t.Fatalf("shadow stat %q", stat)
	}
}

// hostile are header and tag values that break naive writers.
var hostile = []string{
	`quote " and backslash \`,
	"new\nline",
	"carriage\rreturn",
	"js\u2028line\u2029sep",
	"bad\xffutf8\xc3",
	"comma, percent %2C, amp & eq =",
	"\x00\x1b[31mctrl",
	"del\x7f bell\x07 tab\t vt\v ff\f us\x1f",
	strings.Repeat("x", 1<<20),
}

// rawControl returns the index of the first ASCII control byte (below 0x20, or DEL) in line, or -1.
func rawControl(line string) int {
	return strings.IndexFunc(line, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// TestHostileValues: every hostile value still gives exactly one valid line without a raw control
// byte (CSV lines held ESC, NUL and DEL, JSON lines DEL, before), read back as written (invalid UTF-8
// replaced, the 1 MB value cut with a marker), in JSON and in CSV.
func TestHostileValues(t *testing.T) {
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, Policy: Block})
			tr := trace.New("h\"ost\nile", trace.WithReporter(r))
			for _, v := range hostile {
				_, s := tr.Start(context.Background(), v, trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeHTTPServer))
				s.SetTag("request.url", v)
				s.SetTag("method", v)
				s.SetTag("error", v)
				s.SetResultCode(v)
				s.SetBaggageItem("k", v[:min(len(v), 100)])
				s.Finish()
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, filepath.Join(dir, "http-server-digest.log"))
			if len(lines) != len(hostile) {
				t.Fatalf("%d lines for %d spans", len(lines), len(hostile))
			}
			for i, l := range lines {
				if format == JSON && !json.Valid([]byte(l)) {
					t.Fatalf("line %d not JSON: %.200q", i, l)
				}
				if j := rawControl(l); j >= 0 {
					t.Fatalf("line %d holds the raw control byte %q at %d: %.200q", i, l[j], j, l)
				}
				rec, err := digestread.ParseLine([]byte(l), nil)
				if err != nil {
					t.Fatalf("line %d: %v", i, err)
				}
				want := expectValue(hostile[i], DefaultMaxValueBytes)
				for _, k := range []string{layout.FieldRequestURL, layout.FieldMethod, layout.FieldError, layout.FieldResultCode} {
					if got, _ := rec.Get(k); got != want {
						t.Fatalf("line %d %s = %.100q, want %.100q", i, k, got, want)
					}
				}
				if rec.App != "h\"ost\nile" {
					t.Fatalf("app %q", rec.App)
				}
			}
		})
	}
}

// expectValue is what a reader gets back for v: invalid UTF-8 replaced, cut at limit with the marker.
func expectValue(v string, limit int) string {
	cut := 0
	if len(v) > limit {
		n := limit
		for n > 0 && v[n]&0xc0 == 0x80 {
			n--
		}
		v, cut = v[:n], len(v)-n
	}
	v = strings.ToValidUTF8(v, "\uFFFD")
	if cut > 0 {
		v += "...(truncated " + strconv.Itoa(cut) + " bytes)"
	}
	return v
}

// faultyFile fails opens and writes as told, then works.
type faultyFile struct {
	io.WriteCloser
	failWrites *atomic.Int32 // writes left to fail
	half       bool          // a failing write writes half of p first
}

func (f *faultyFile) Write(p []byte) (int, error) {
	if f.failWrites.Add(-1) >= 0 {
		if f.half {
			n, _ := f.WriteCloser.Write(p[:len(p)/2])
			return n, errors.New("disk full (injected)")
		}
		return 0, errors.New("disk full (injected)")
	}
	return f.WriteCloser.Write(p)
}

// TestDiskErrorsRecover: a file that cannot be opened, then fails writes (one of them half done),
// then works: nothing panics, errors are counted and self-logged, and every line ends up whole.
func TestDiskErrorsRecover(t *testing.T) {
	for _, half := range []bool{false, true} {
		t.Run("half="+strconv.FormatBool(half), func(t *testing.T) {
			var failOpens, failWrites atomic.Int32
			failOpens.Store(2)
			failWrites.Store(3)
			cfg := Config{Policy: Block}
			cfg.openFile = func(rc rolling.Config) (io.WriteCloser, error) {
				if !strings.HasSuffix(rc.Filename, "-digest.log") {
					return rolling.New(rc)
				}
				if failOpens.Add(-1) >= 0 {
					return nil, errors.New("permission denied (injected)")
				}
				f, err := rolling.New(rc)
				if err != nil {
					return nil, err
				}
				return &faultyFile{f, &failWrites, half}, nil
			}
			r, dir := newReporter(t, cfg)
			tr := trace.New("faulty", trace.WithReporter(r))
			const n = 10
			for i := 0; i < n; i++ {
				httpSpan(tr, "http://faulty/"+strconv.Itoa(i), "200")
				r.Flush() // one batch per span: 2 failed opens, 3 failed writes, then success
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			st := r.Stats()
			if st.WriteErrors != 5 || st.Written != n || st.Lost != 0 {
				t.Fatalf("stats %+v", st)
			}
			lines := readLines(t, filepath.Join(dir, "http-server-digest.log"))
			if len(lines) != n {
				t.Fatalf("%d lines: %q", len(lines), lines)
			}
			for i, l := range lines {
				rec, err := digestread.ParseLine([]byte(l), nil)
				if err != nil || rec.URL != "http://faulty/"+strconv.Itoa(i) {
					t.Fatalf("line %d %q: %v", i, l, err)
				}
			}
			self := readSelfLog(t, dir)
			if strings.Count(self, "[ERROR] []write http-server-digest.log: ") != 5 ||
				!strings.Contains(self, "permission denied (injected)") || !strings.Contains(self, "disk full (injected)") {
				t.Fatalf("self log:\n%s", self)
			}
		})
	}
}

// TestDiskErrorsLoseBeyondPending: a file that never works keeps at most maxPending bytes; the rest
// is counted as lost, never silently.
func TestDiskErrorsLoseBeyondPending(t *testing.T) {
	var fail atomic.Int32
	fail.Store(1 << 30)
	cfg := Config{Policy: Block, MaxValueBytes: -1}
	cfg.openFile = func(rc rolling.Config) (io.WriteCloser, error) {
		f, err := rolling.New(rc)
		if err != nil || !strings.HasSuffix(rc.Filename, "-digest.log") {
			return f, err
		}
		return &faultyFile{f, &fail, false}, nil
	}
	r, _ := newReporter(t, cfg)
	tr := trace.New("broken", trace.WithReporter(r))
	big := strings.Repeat("y", 1<<20)
	const n = 12
	for i := 0; i < n; i++ {
		httpSpan(tr, big, "200")
		r.Flush()
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.Written != 0 || st.Lost != n || st.WriteErrors == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestCloseDrains: spans finished just before Close are all on disk when it returns; later spans are
// counted, and Close is idempotent.
func TestCloseDrains(t *testing.T) {
	r, dir := newReporter(t, Config{QueueCapacity: 4096})
	tr := trace.New("drain", trace.WithReporter(r))
	const n = 3000
	var wg sync.WaitGroup
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n/3; i++ {
				httpSpan(tr, "http://drain/x", "200")
			}
		}()
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if lines := readLines(t, filepath.Join(dir, "http-server-digest.log")); len(lines) != n {
		t.Fatalf("%d lines after Close, want %d", len(lines), n)
	}
	httpSpan(tr, "http://drain/late", "200")
	r.ReportError(errors.New("late"))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.AfterClose != 1 || st.Written != n {
		t.Fatalf("stats %+v", st)
	}
}

func fixedClock() func() time.Time {
	return func() time.Time { return time.Date(2024, 5, 1, 12, 1, 0, 0, time.UTC) }
}

// TestStatLines: keys, counts, costs and SOFA's success rule, in JSON and CSV.
func TestStatLines(t *testing.T) {
	want := map[Format][]string{
		JSON: {
			`{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"st","request.url":"/a","method":"GET"},"count":1,"total.cost.milliseconds":5,"success":"N","load.test":"F"}`,
			`{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"st","request.url":"/a","method":"GET"},"count":3,"total.cost.milliseconds":15,"success":"Y","load.test":"F"}`,
			`{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"st","request.url":"/b","method":"GET"},"count":1,"total.cost.milliseconds":5,"success":"N","load.test":"F"}`,
		},
		CSV: {
			`2024-05-01 12:01:00.000,st,/a,GET,1,5,N,F`,
			`2024-05-01 12:01:00.000,st,/a,GET,3,15,Y,F`,
			`2024-05-01 12:01:00.000,st,/b,GET,1,5,N,F`,
		},
	}
	wantClient := map[Format]string{
		JSON: `{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"st","request.url":"/c","method":"GET"},"count":1,"total.cost.milliseconds":5,"success":"Y","load.test":"F"}`,
		CSV:  `2024-05-01 12:01:00.000,st,/c,GET,1,5,Y,F`,
	}
	wantRPC := map[Format][]string{
		JSON: {
			`{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"st","operation":"Get, \"it\""},"count":1,"total.cost.milliseconds":5,"success":"N","load.test":"F"}`,
			`{"time":"2024-05-01 12:01:00.000","stat.key":{"local.app":"st","operation":"Get, \"it\""},"count":1,"total.cost.milliseconds":5,"success":"Y","load.test":"F"}`,
		},
		CSV: {
			`2024-05-01 12:01:00.000,st,Get%2C "it",1,5,N,F`,
			`2024-05-01 12:01:00.000,st,Get%2C "it",1,5,Y,F`,
		},
	}
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, Clock: fixedClock(), Location: time.UTC})
			tr := trace.New("st", trace.WithReporter(r))
			t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
			span := func(lt, url, code string) {
				_, s := tr.Start(context.Background(), "Get, \"it\"", trace.WithLogType(lt), trace.WithStartTime(t0))
				if url != "" {
					s.SetTag("request.url", url)
					s.SetTag("method", "GET")
				}
				s.SetResultCode(code)
				s.FinishAt(t0.Add(5 * time.Millisecond))
			}
			for _, code := range []string{"200", "301", "101", "404"} {
				span(LogTypeHTTPServer, "/a", code)
			}
			span(LogTypeHTTPServer, "/b", "00") // "00" is no success for a server
			span(LogTypeHTTPClient, "/c", "00") // but is for a client
			span("rpc", "", "00")
			span("rpc", "", "99")
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if got := readLines(t, filepath.Join(dir, "http-server-stat.log")); !slices.Equal(got, want[format]) {
				t.Fatalf("server stat\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want[format], "\n"))
			}
			if got := readLines(t, filepath.Join(dir, "http-client-stat.log")); len(got) != 1 || got[0] != wantClient[format] {
				t.Fatalf("client stat %q", got)
			}
			if got := readLines(t, filepath.Join(dir, "rpc-stat.log")); !slices.Equal(got, wantRPC[format]) {
				t.Fatalf("rpc stat\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantRPC[format], "\n"))
			}
			if st := r.Stats(); st.StatLines != 6 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestDefaultResultCode: a span of a log type without an HTTP encoder that set no result code gets
// "00" without an error and "99" with one, in its digest line and its stat line; an explicit code
// stays; an HTTP client span that got no response (an error, no status) gets "99" and counts as a
// failure (TestHTTPClientFailure has the details).
func TestDefaultResultCode(t *testing.T) {
	r, dir := newReporter(t, Config{Clock: fixedClock(), Location: time.UTC})
	tr := trace.New("rc", trace.WithReporter(r))
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	span := func(lt, op, code string, err error) {
		_, s := tr.Start(context.Background(), op, trace.WithLogType(lt), trace.WithStartTime(t0))
		if lt == LogTypeHTTPClient {
			s.SetTag("request.url", "/x")
			s.SetTag("method", "GET")
		}
		if code != "" {
			s.SetResultCode(code)
		}
		s.SetError(err)
		s.FinishAt(t0.Add(time.Millisecond))
	}
	span("job", "plain", "", nil)
	span("job", "failed", "", errors.New("boom"))
	span("job", "timeout", "03", nil)
	span(LogTypeHTTPClient, "call", "", errors.New("connection refused"))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, l := range readLines(t, filepath.Join(dir, "job-digest.log")) {
		rec, err := digestread.ParseLine([]byte(l), time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, rec.ResultCode)
	}
	if want := []string{"00", "99", "03"}; !slices.Equal(codes, want) {
		t.Fatalf("job result codes %q, want %q", codes, want)
	}
	stat := strings.Join(readLines(t, filepath.Join(dir, "job-stat.log")), "\n")
	for _, want := range []string{`"operation":"plain"},"count":1,"total.cost.milliseconds":1,"success":"Y"`,
		`"operation":"failed"},"count":1,"total.cost.milliseconds":1,"success":"N"`,
		`"operation":"timeout"},"count":1,"total.cost.milliseconds":1,"success":"N"`} {
		if !strings.Contains(stat, want) {
			t.Errorf("job stat lines lack %s:\n%s", want, stat)
		}
	}
	client := readLines(t, filepath.Join(dir, "http-client-digest.log"))
	if len(client) != 1 || !strings.Contains(client[0], `"result.code":"99"`) {
		t.Fatalf("client digest %q", client)
	}
	if got := readLines(t, filepath.Join(dir, "http-client-stat.log")); len(got) != 1 || !strings.Contains(got[0], `"success":"N"`) {
		t.Fatalf("client stat %q", got)
	}
}

// TestStatIntervals: stat lines are written every interval by the background goroutine, each
// interval counting only its own spans.
func TestStatIntervals(t *testing.T) {
	r, dir := newReporter(t, Config{StatInterval: 10 * time.Millisecond})
	tr := trace.New("iv", trace.WithReporter(r))
	httpSpan(tr, "/x", "200")
	r.Flush()
	for r.Stats().StatLines == 0 {
		time.Sleep(5 * time.Millisecond) // waiting for a tick, not asserting on time
	}
	httpSpan(tr, "/x", "200")
	httpSpan(tr, "/x", "200")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "http-server-stat.log"))
	// The first interval holds the first span alone. The next two spans usually share the
	// interval that Close ends, but a tick may fall between them on a slow machine (the interval
	// is 10 ms): then each has a line of its own. Either way no span is counted twice or missed.
	re := regexp.MustCompile(`"count":(\d+),`)
	var counts []int
	sum := 0
	for _, l := range lines {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("stat line without a count: %q", l)
		}
		n, _ := strconv.Atoi(m[1])
		counts = append(counts, n)
		sum += n
	}
	if len(lines) < 2 || len(lines) > 3 || counts[0] != 1 || sum != 3 || slices.Contains(counts, 0) {
		t.Fatalf("stat lines %q: counts %v, want [1 2] or [1 1 1]", lines, counts)
	}
}

// TestStatKeyReset: 5,100 distinct URLs in one interval give 5,100 stat lines, each count 1: the
// table of MaxStatKeys keys is printed when the next key comes, then cleared, as SOFATracer does
// (before, it was cleared unprinted: 100 stat lines). A shadow key and a repeated key are counted in
// the right lines, and the self log says what happened.
func TestStatKeyReset(t *testing.T) {
	r, dir := newReporter(t, Config{QueueCapacity: 8192, Policy: Block, Clock: fixedClock(), Location: time.UTC})
	tr := trace.New("many", trace.WithReporter(r), trace.WithSampler(trace.NeverSample()))
	const n = 5100
	for i := 0; i < n; i++ {
		httpSpan(tr, "/k"+strconv.Itoa(i), "200")
	}
	httpSpan(tr, "/k5099", "200") // the same key again, in the second table
	httpSpan(tr, "/load", "200", trace.WithLoadTest())
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.StatResets != 1 || st.StatLines != n+1 {
		t.Fatalf("stats %+v", st)
	}
	lines := readLines(t, filepath.Join(dir, "http-server-stat.log"))
	if len(lines) != n {
		t.Fatalf("%d stat lines, want %d", len(lines), n)
	}
	seen := map[string]int64{}
	for _, l := range lines {
		var sl struct {
			Key   map[string]string `json:"stat.key"`
			Count int64             `json:"count"`
		}
		if err := json.Unmarshal([]byte(l), &sl); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		seen[sl.Key["request.url"]] += sl.Count
	}
	for i := 0; i < n; i++ {
		want := int64(1)
		if i == n-1 {
			want = 2
		}
		if got := seen["/k"+strconv.Itoa(i)]; got != want {
			t.Fatalf("/k%d counted %d times, want %d", i, got, want)
		}
	}
	if shadow := readLines(t, filepath.Join(dir, "shadow", "http-server-stat.log")); len(shadow) != 1 {
		t.Fatalf("shadow stat lines %q", shadow)
	}
	if self := readSelfLog(t, dir); !strings.Contains(self, "more than 5000 stat keys for http-server in one interval: 5000 printed early, the table cleared") {
		t.Fatalf("self log:\n%s", self)
	}
}

// TestReportError: the tracer's errors reach tracer-self.log, escaped onto one line each and
// rate-limited.
func TestReportError(t *testing.T) {
	clock := fixedClock()
	r, dir := newReporter(t, Config{Clock: clock, Location: time.UTC})
	boom := trace.ReporterFunc(func(*trace.FinishedSpan) { panic("boom") })
	tr := trace.New("err", trace.WithReporter(r), trace.WithReporter(boom), trace.WithBaggageLimits(16, 16))
	_, s := tr.Start(context.Background(), "op")
	s.SetBaggageItem("big", strings.Repeat("v", 100))
	s.Finish()
	for i := 0; i < 25; i++ {
		tr.ReportError(errors.New("bad header\n2024-05-01 00:00:00.000[ERROR] [x]forged"))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "tracer-self.log"))
	count := func(sub string) (n int) {
		for _, l := range lines {
			if strings.Contains(l, sub) {
				n++
			}
		}
		return n
	}
	if count(`2024-05-01 12:01:00.000[ERROR] []trace: panic in reporter: boom\n`) != 1 {
		t.Fatalf("no panic line:\n%s", strings.Join(lines, "\n"))
	}
	if count(`[WARN]  []trace: biz baggage entry "big" refused`) != 1 {
		t.Fatalf("no baggage line:\n%s", strings.Join(lines, "\n"))
	}
	if n := count(`[WARN]  []bad header\n2024`); n != selfLogPerKind {
		t.Fatalf("%d error lines, want %d (the rate limit):\n%s", n, selfLogPerKind, strings.Join(lines, "\n"))
	}
	if count("15 error messages suppressed") != 1 {
		t.Fatalf("no suppressed count:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "2024-05-01 12:01:00.000[") {
			t.Fatalf("forged or broken line %q", l)
		}
	}
	if st := r.Stats(); st.Errors != 27 || st.Suppressed != 15 {
		t.Fatalf("stats %+v", st)
	}
}

// TestRoot: explicit root > TRACEMDC_LOG_PATH > SOFA_TRACER_LOGGING_PATH > $HOME/logs.
func TestRoot(t *testing.T) {
	base := t.TempDir()
	check := func(cfg Config, want string) {
		t.Helper()
		r, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(want, "tracelog", "static-info.log")); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOME", filepath.Join(base, "home"))
	t.Setenv("TRACEMDC_LOG_PATH", "")
	t.Setenv("SOFA_TRACER_LOGGING_PATH", "")
	check(Config{}, filepath.Join(base, "home", "logs"))
	t.Setenv("SOFA_TRACER_LOGGING_PATH", filepath.Join(base, "sofa"))
	check(Config{}, filepath.Join(base, "sofa"))
	t.Setenv("TRACEMDC_LOG_PATH", filepath.Join(base, "tm"))
	check(Config{}, filepath.Join(base, "tm"))
	check(Config{Root: filepath.Join(base, "explicit")}, filepath.Join(base, "explicit"))
}

// TestNewUnwritableRoot: a root that cannot be created is New's error.
func TestNewUnwritableRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := New(Config{Root: file}); err == nil {
		_ = r.Close()
		t.Fatal("New under a regular file succeeded")
	}
}

// TestStaticInfo: one line pid,ip,zone,timezone per New.
func TestStaticInfo(t *testing.T) {
	root := t.TempDir()
	for i := 0; i < 2; i++ {
		r, err := New(Config{Root: root, Zone: "GZ00A", Location: time.UTC})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	lines := readLines(t, filepath.Join(root, "tracelog", "static-info.log"))
	re := regexp.MustCompile(`^` + strconv.Itoa(os.Getpid()) + `,\d+\.\d+\.\d+\.\d+,GZ00A,UTC$`)
	if len(lines) != 2 || !re.MatchString(lines[0]) || lines[0] != lines[1] {
		t.Fatalf("static info %q", lines)
	}
}

// TestCustomEncoder: a user encoder serves JSON and CSV; a panicking one drops its span whole.
func TestCustomEncoder(t *testing.T) {
	redis := EncoderFunc(func(s *trace.FinishedSpan, enc FieldEncoder) {
		v, _ := s.Tag("cmd")
		enc.AddTag("redis.cmd", v)
		enc.AddInt("redis.db", 3)
		enc.AddBool("redis.hit", true)
		if s.Operation() == "panic" {
			panic("encoder bug")
		}
	})
	want := map[Format]string{
		JSON: `,"redis.cmd":"GET k,1","redis.db":3,"redis.hit":true,"sys.baggage":"","biz.baggage":""}`,
		CSV:  `,GET k%2C1,3,true,,`,
	}
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, Encoders: map[string]Encoder{"redis": redis}})
			tr := trace.New("enc", trace.WithReporter(r))
			for _, op := range []string{"ok", "panic", "ok"} {
				_, s := tr.Start(context.Background(), op, trace.WithLogType("redis"), trace.WithKind(trace.KindClient))
				s.SetTag("cmd", "GET k,1")
				s.SetResultCode("00")
				s.Finish()
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, filepath.Join(dir, "redis-digest.log"))
			if len(lines) != 2 || !strings.HasSuffix(lines[0], want[format]) || !strings.HasSuffix(lines[1], want[format]) {
				t.Fatalf("lines %q", lines)
			}
			if st := r.Stats(); st.EncodePanics != 1 || st.Written != 2 {
				t.Fatalf("stats %+v", st)
			}
			if !strings.Contains(readSelfLog(t, dir), "encoder of redis panicked: encoder bug") {
				t.Fatal("panic not in the self log")
			}
		})
	}
}

// TestGenericEncoder: operation, tags in first-set order (reserved names left out, thread name in
// its field), error; an empty log type uses DefaultLogType; odd log types are made safe.
func TestGenericEncoder(t *testing.T) {
	r, dir := newReporter(t, Config{})
	tr := trace.New("gen", trace.WithReporter(r))
	_, s := tr.Start(context.Background(), "job")
	s.SetTag("b", "1")
	s.SetTagInt("a", 2)
	s.SetTag("traceId", "forged")
	s.SetTag(TagThreadName, "worker-7")
	s.SetTagBool("c", false)
	s.SetError(errors.New("failed"))
	s.Finish()
	_, s = tr.Start(context.Background(), "x", trace.WithLogType("../../etc/passwd"))
	s.Finish()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "span-digest.log"))
	if len(lines) != 1 {
		t.Fatalf("lines %q", lines)
	}
	rec, err := digestread.ParseLine([]byte(lines[0]), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := fieldKeys(rec.Fields)
	want := slices.Concat(layout.Common, []string{"operation", "b", "a", "c", "error", "sys.baggage", "biz.baggage"})
	if !slices.Equal(keys, want) || rec.Thread != "worker-7" || !strings.Contains(lines[0], `"a":2,"c":false,"error":"failed"`) {
		t.Fatalf("line %s", lines[0])
	}
	files := listFiles(t, dir)
	if !slices.Contains(files, "_._.._etc_passwd-digest.log") {
		t.Fatalf("files %v", files)
	}
}

// TestDisabled: a disabled log type gets no file at all.
func TestDisabled(t *testing.T) {
	r, dir := newReporter(t, Config{Disabled: []string{LogTypeHTTPServer}})
	tr := trace.New("off", trace.WithReporter(r))
	httpSpan(tr, "/x", "200")
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if files := listFiles(t, dir); !slices.Equal(files, []string{"static-info.log", "tracer-self.log"}) {
		t.Fatalf("files %v", files)
	}
	if st := r.Stats(); st.Disabled != 1 || st.Accepted != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestEncodeNoAlloc: encoding a span into a grown buffer allocates nothing.
func TestEncodeNoAlloc(t *testing.T) {
	rec := benchSpan()
	e := lineEncoder{limit: DefaultMaxValueBytes, loc: time.Local}
	for _, csv := range []bool{false, true} {
		e.csv = csv
		for _, enc := range []Encoder{httpServerEnc, httpClientEnc, genericEnc} {
			if a := testing.AllocsPerRun(100, func() {
				e.buf = e.buf[:0]
				e.begin(rec, rec.ResultCode())
				enc.EncodeFields(rec, &e)
				e.end(rec, true, false)
			}); a != 0 {
				t.Fatalf("csv=%v %T: %v allocs", csv, enc, a)
			}
		}
	}
}

func TestRootInUse(t *testing.T) {
	root := t.TempDir()
	r1, err := New(Config{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	// The same directory spelled differently is still the same directory.
	if _, err := New(Config{Root: root + "/./"}); !errors.Is(err, ErrRootInUse) {
		t.Fatalf("second reporter on one root: err = %v, want ErrRootInUse", err)
	}
	other, err := New(Config{Root: t.TempDir()})
	if err != nil {
		t.Fatalf("a different root was refused: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r1.Close(); err != nil {
		t.Fatal(err)
	}
	r2, err := New(Config{Root: root})
	if err != nil {
		t.Fatalf("root not released by Close: %v", err)
	}
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestZeroFinishedSpan: a FinishedSpan no Tracer made (every field zero: no tracer, ids, times, tags
// or baggage) and a nil one are handled without a panic: the zero span is unsampled, so it is
// counted and goes to the stat line of the default log type only.
func TestZeroFinishedSpan(t *testing.T) {
	r, dir := newReporter(t, Config{Policy: Block})
	r.Report(nil)
	r.Report(new(trace.FinishedSpan))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if st := r.Stats(); st.Accepted != 1 || st.Unsampled != 1 || st.Written != 0 || st.EncodePanics != 0 || st.StatLines != 1 {
		t.Fatalf("stats %+v", st)
	}
	if files := listFiles(t, dir); !slices.Equal(files, []string{DefaultLogType + "-stat.log", "static-info.log", "tracer-self.log"}) {
		t.Fatalf("files %v", files)
	}
	stat := readLines(t, filepath.Join(dir, DefaultLogType+"-stat.log"))
	if len(stat) != 1 || !json.Valid([]byte(stat[0])) ||
		!strings.Contains(stat[0], `"stat.key":{"local.app":"","operation":""},"count":1,"total.cost.milliseconds":0,`) {
		t.Fatalf("stat lines %q", stat)
	}
}

// TestNilReporter: the nil *Reporter that New returns with an error is a no-op, also when it is
// handed to a tracer (the call that used to panic on it: Close in a defer, Stats, Flush, Report).
func TestNilReporter(t *testing.T) {
	var r *Reporter
	r.Report(&trace.FinishedSpan{})
	r.ReportError(errors.New("x"))
	r.Flush()
	if s := r.Stats(); s != (Stats{}) {
		t.Errorf("nil Reporter Stats = %+v, want zero", s)
	}
	if err := r.Close(); err != nil {
		t.Errorf("nil Reporter Close = %v, want nil", err)
	}
	tr := trace.New("app", trace.WithReporter(r))
	_, sp := tr.Start(context.Background(), "op")
	sp.Finish()
	tr.ReportError(errors.New("x"))
	if st := tr.Stats(); st.ReporterPanics != 0 {
		t.Errorf("tracer with a nil *Reporter: %d reporter panics, want 0", st.ReporterPanics)
	}
}

// TestStatIntervalFloor: 0 is the default, negative is off, and below MinStatInterval is refused by
// New (TestConfigOutOfRange), not raised.
func TestStatIntervalFloor(t *testing.T) {
	for in, want := range map[time.Duration]time.Duration{
		0: DefaultStatInterval, MinStatInterval: MinStatInterval, -1: -1, time.Second: time.Second,
	} {
		if got := (Config{StatInterval: in}).resolve().StatInterval; got != want {
			t.Errorf("StatInterval %v resolved to %v, want %v", in, got, want)
		}
	}
}

// TestSizeOnlyOneName: rolling by size only has one name in both packages, digest.SizeOnly and
// rolling.SizeOnly (rolling called it None before), and the one maps onto the other.
func TestSizeOnlyOneName(t *testing.T) {
	cfg := Config{Rolling: SizeOnly}.resolve()
	if got := cfg.rollingConfig("x.log").Rolling; got != rolling.SizeOnly {
		t.Fatalf("digest.SizeOnly gives rolling %v, want %v", got, rolling.SizeOnly)
	}
	if got := rolling.SizeOnly.String(); got != "size-only" {
		t.Fatalf("rolling.SizeOnly.String() = %q", got)
	}
	for p, want := range map[Period]rolling.Period{Daily: rolling.Daily, Hourly: rolling.Hourly} {
		c := Config{Rolling: p}.resolve()
		if got := c.rollingConfig("x.log").Rolling; got != want {
			t.Errorf("digest period %d gives rolling %v, want %v", p, got, want)
		}
	}
}
