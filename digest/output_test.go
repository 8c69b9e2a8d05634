package digest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
)

// writeLog is an io.Writer that keeps every Write call apart.
type writeLog struct {
	mu     sync.Mutex
	writes [][]byte
	// fail, when set, decides the outcome of the nth Write (from 0): how many bytes it takes and the
	// error it returns.
	fail func(n int, p []byte) (int, error)
}

func (w *writeLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := len(p), error(nil)
	if w.fail != nil {
		n, err = w.fail(len(w.writes), p)
	}
	w.writes = append(w.writes, bytes.Clone(p[:n]))
	return n, err
}

func (w *writeLog) all() [][]byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writes
}

// TestOutputLines: with Config.Output beside the files, every Write is exactly one line; each digest
// and stat line is its file's line with the prefix that names it (log kind, log type, the load-test
// mark), in JSON and CSV; self lines are JSON objects on a JSON stream and the file's text after the
// prefix columns in CSV; the counts of Stats match.
func TestOutputLines(t *testing.T) {
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			out := &writeLog{}
			r, dir := newReporter(t, Config{Format: format, Output: out, Clock: fixedClock(), Location: time.UTC, Policy: Block})
			tr := trace.New("out", trace.WithReporter(r))
			httpSpan(tr, "/a", "200")
			httpSpan(tr, "/b", "500", trace.WithLoadTest())
			_, s := tr.Start(context.Background(), "job \"x\"", trace.WithLogType("job"))
			s.SetTag("note", "line\nbreak, comma")
			s.Finish()
			r.ReportError(errors.New("a \"quoted\"\nmessage"))
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			type kindKey struct{ kind, typ, shadow string }
			got := map[kindKey][]string{}
			for _, w := range out.all() {
				if bytes.Count(w, []byte{'\n'}) != 1 || w[len(w)-1] != '\n' {
					t.Fatalf("a Write that is not one line: %q", w)
				}
				line := string(w[:len(w)-1])
				var k kindKey
				var body string
				if format == CSV {
					parts := strings.SplitN(line, ",", 4)
					k, body = kindKey{parts[0], parts[1], parts[2]}, parts[3]
				} else {
					var m map[string]any
					if err := json.Unmarshal(w, &m); err != nil {
						t.Fatalf("%s: %v", line, err)
					}
					typ, _ := m[layout.FieldLogType].(string)
					k = kindKey{m[layout.FieldLogKind].(string), typ, "F"}
					if m[layout.FieldLogShadow] == true {
						k.shadow = "T"
					}
					// The file's line: the object without the prefix keys.
					body = regexp.MustCompile(`^\{"log\.kind":"[a-z]+"(,"log\.type":"[^"]*")?(,"log\.shadow":true)?,`).ReplaceAllString(line, "{")
				}
				got[k] = append(got[k], body)
			}
			file := func(sub, name string) []string { return readLines(t, filepath.Join(dir, sub, name)) }
			for _, c := range []struct {
				k    kindKey
				want []string
			}{
				{kindKey{"digest", "http-server", "F"}, file("", "http-server-digest.log")},
				{kindKey{"digest", "http-server", "T"}, file("shadow", "http-server-digest.log")},
				{kindKey{"digest", "job", "F"}, file("", "job-digest.log")},
				{kindKey{"stat", "http-server", "F"}, file("", "http-server-stat.log")},
				{kindKey{"stat", "http-server", "T"}, file("shadow", "http-server-stat.log")},
				{kindKey{"stat", "job", "F"}, file("", "job-stat.log")},
			} {
				if len(c.want) == 0 || strings.Join(got[c.k], "\n") != strings.Join(c.want, "\n") {
					t.Fatalf("%v on the output:\n%s\nin the file:\n%s", c.k, strings.Join(got[c.k], "\n"), strings.Join(c.want, "\n"))
				}
			}
			self := got[kindKey{"self", "", "F"}]
			if len(self) != 1 {
				t.Fatalf("self lines %q", self)
			}
			if format == CSV {
				if want := file("", "tracer-self.log"); len(want) != 1 || self[0] != want[0] {
					t.Fatalf("self line %q, file %q", self[0], want)
				}
			} else if want := `{"time":"2024-05-01 12:01:00.000","level":"WARN","traceId":"","msg":"a \"quoted\"\nmessage"}`; self[0] != want {
				t.Fatalf("self line\n%s\nwant\n%s", self[0], want)
			}
			st := r.Stats()
			if st.OutputWritten != 3 || st.Written != 3 || st.OutputLost != 0 || st.OutputErrors != 0 ||
				st.OutputLines != uint64(len(out.all())) || st.StatLines != 3 {
				t.Fatalf("stats %+v, %d writes", st, len(out.all()))
			}
		})
	}
}

// TestOutputOnly: with OutputOnly nothing is written under Root, not even the directory, and the
// counts of the output hold (OutputOnly without Output: TestConfigOutOfRange).
func TestOutputOnly(t *testing.T) {
	root := filepath.Join(t.TempDir(), "never")
	out := &writeLog{}
	r, err := New(Config{Root: root, Output: out, OutputOnly: true, Policy: Block, Clock: fixedClock()})
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New("only", trace.WithReporter(r))
	for i := 0; i < 5; i++ {
		httpSpan(tr, "/x", "200")
	}
	r.ReportError(errors.New("hello"))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Fatalf("root created: %v", err)
	}
	st := r.Stats()
	kinds := map[string]int{}
	for _, w := range out.all() {
		var m map[string]any
		if err := json.Unmarshal(w, &m); err != nil {
			t.Fatalf("%q: %v", w, err)
		}
		kinds[m[layout.FieldLogKind].(string)]++
	}
	if st.Written != 0 || st.OutputWritten != 5 || st.StatLines != 1 || st.SelfLogLines != 1 ||
		kinds["digest"] != 5 || kinds["stat"] != 1 || kinds["self"] != 1 || st.OutputLines != 7 {
		t.Fatalf("stats %+v, kinds %v", st, kinds)
	}
	// Two OutputOnly reporters may share a Root: neither opens a file there.
	r1, err1 := New(Config{Root: root, Output: io.Discard, OutputOnly: true})
	r2, err2 := New(Config{Root: root, Output: io.Discard, OutputOnly: true})
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	_ = r1.Close()
	_ = r2.Close()
}

// TestOutputErrors: a writer that fails now and then, sometimes after taking part of a line. Every
// failed line is counted (digest lines in OutputLost, every kind in OutputErrors), a fragment is
// ended before the next line so no two lines merge, written + lost = spans, and the self log (the
// file) says how many were lost in all.
func TestOutputErrors(t *testing.T) {
	errBroken := errors.New("broken pipe (test)")
	out := &writeLog{fail: func(n int, p []byte) (int, error) {
		switch n % 7 {
		case 2:
			return 0, errBroken
		case 5:
			return len(p) / 2, errBroken // a fragment
		}
		return len(p), nil
	}}
	r, dir := newReporter(t, Config{Output: out, Policy: Block, StatInterval: -1})
	tr := trace.New("err", trace.WithReporter(r))
	const n = 200
	for i := 0; i < n; i++ {
		httpSpan(tr, "/e/"+strconv.Itoa(i), "200")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.OutputWritten+st.OutputLost != n || st.OutputLost == 0 || st.Written != n {
		t.Fatalf("stats %+v", st)
	}
	// Reassemble the stream as a reader of the pipe sees it: whole lines, and fragments each ended
	// by the line end the next Write starts with.
	var stream []byte
	for _, w := range out.all() {
		stream = append(stream, w...)
	}
	whole, fragments := 0, 0
	for _, line := range strings.SplitAfter(string(stream), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil {
			whole++
			continue
		}
		fragments++
		if strings.Count(line, `"log.kind"`) > 1 {
			t.Fatalf("two lines merged: %q", line)
		}
	}
	if uint64(whole) != st.OutputLines || uint64(whole+fragments) > st.OutputLines+st.OutputErrors || fragments == 0 {
		t.Fatalf("%d whole lines, %d fragments; stats %+v", whole, fragments, st)
	}
	self := readSelfLog(t, dir)
	want := "Config.Output lost " + strconv.FormatUint(st.OutputErrors, 10) + " lines in all, " +
		strconv.FormatUint(st.OutputLost, 10) + " of them digest lines"
	if !strings.Contains(self, want) {
		t.Fatalf("self log does not say %q:\n%s", want, self)
	}
}

// blockingWriter blocks every Write until release is closed.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	once    sync.Once
	n       int
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.entered) })
	<-w.release
	w.n++
	return len(p), nil
}

// TestOutputPolicies: a stalled Output (a log collector that stopped reading the pipe) fills the
// queue like a stalled disk: Discard drops and counts, Block waits and loses nothing.
func TestOutputPolicies(t *testing.T) {
	for _, policy := range []Policy{Discard, Block} {
		t.Run(policy.String(), func(t *testing.T) {
			w := &blockingWriter{entered: make(chan struct{}), release: make(chan struct{})}
			r, _ := newReporter(t, Config{Output: w, OutputOnly: true, Policy: policy, QueueCapacity: 16, StatInterval: -1})
			tr := trace.New("pol", trace.WithReporter(r))
			httpSpan(tr, "/first", "200")
			<-w.entered
			const n = 200
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 1; i < n; i++ {
					httpSpan(tr, "/p", "200")
				}
			}()
			if policy == Discard {
				<-done // never waits for the writer
			}
			close(w.release)
			<-done
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			st := r.Stats()
			if st.OutputWritten+st.Discarded != n || uint64(w.n) != st.OutputLines {
				t.Fatalf("stats %+v, %d writes", st, w.n)
			}
			if policy == Discard && st.Discarded < n-1-16 || policy == Block && st.Discarded != 0 {
				t.Fatalf("%v: stats %+v", policy, st)
			}
		})
	}
}

// TestOutputLossTotal: the total of Config.Output's losses that Close writes is exact, whatever
// Output does with the self lines written at Close, the total line included. "refuses self lines":
// every self line fails (and every third digest line), so the total line is refused too; the file's
// total counts it, and stderr says it. "takes self lines": only digest lines fail; the total is the
// last Write Output gets, and it and the file's copy equal the Stats after Close. Before, the total
// was counted before the suppressed-message lines and the total line itself were written, so it
// fell short in the first case and was not Output's last line in the second.
func TestOutputLossTotal(t *testing.T) {
	for _, refuseSelf := range []bool{true, false} {
		name := map[bool]string{true: "refuses self lines", false: "takes self lines"}[refuseSelf]
		t.Run(name, func(t *testing.T) {
			errBroken := errors.New("broken pipe (test)")
			digest := 0
			out := &writeLog{fail: func(_ int, p []byte) (int, error) {
				if bytes.HasPrefix(p, []byte(`{"log.kind":"self"`)) {
					if refuseSelf {
						return 0, errBroken
					}
					return len(p), nil
				}
				digest++
				if digest%3 == 0 {
					return 0, errBroken
				}
				return len(p), nil
			}}
			// A fixed clock: every error message falls in one second, so most are suppressed and
			// Close writes the count of those.
			r, dir := newReporter(t, Config{Output: out, Policy: Block, StatInterval: -1, Clock: fixedClock()})
			var stderr bytes.Buffer
			r.self.stderr = &stderr
			tr := trace.New("total", trace.WithReporter(r))
			const n = 60
			for i := 0; i < n; i++ {
				httpSpan(tr, "/t", "200")
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			st := r.Stats()
			if st.OutputLost != n/3 || st.OutputWritten != n-n/3 || st.Suppressed == 0 {
				t.Fatalf("stats %+v", st)
			}
			want := "Config.Output lost " + strconv.FormatUint(st.OutputErrors, 10) + " lines in all, " +
				strconv.FormatUint(st.OutputLost, 10) + " of them digest lines"
			self := readLines(t, filepath.Join(dir, layout.SelfLogName))
			if len(self) == 0 || !strings.HasSuffix(self[len(self)-1], "]"+want) {
				t.Fatalf("the self log's last line is not %q:\n%s", want, strings.Join(self, "\n"))
			}
			writes := out.all()
			last := string(writes[len(writes)-1])
			if refuseSelf {
				// Every self line was refused: the errors are the digest lines and the self lines.
				if st.OutputErrors != st.OutputLost+st.SelfLogLines {
					t.Fatalf("stats %+v", st)
				}
				if !strings.Contains(stderr.String(), want+" (the last of them this total)") {
					t.Fatalf("stderr does not say %q:\n%s", want, stderr.String())
				}
				return
			}
			if st.OutputErrors != st.OutputLost || !strings.Contains(last, `"msg":"`+want+`"`) {
				t.Fatalf("stats %+v; Output's last line %s", st, last)
			}
		})
	}
}

// emptyLine is a LineEncoder whose lines have no field: {} in the file.
type emptyLine struct{}

func (emptyLine) EncodeFields(*trace.FinishedSpan, FieldEncoder)           {}
func (emptyLine) EncodeLine(*trace.FinishedSpan, string, LineFieldEncoder) {}

// TestOutputEmptyObject: a JSON line without fields ({} from a LineEncoder that writes none) is
// still a JSON object on Output once prefixed (it was {"log.kind":…,"log.type":"empty",}).
func TestOutputEmptyObject(t *testing.T) {
	out := &writeLog{}
	r, dir := newReporter(t, Config{Output: out, Policy: Block, StatInterval: -1,
		Encoders: map[string]Encoder{"empty": emptyLine{}}})
	tr := trace.New("e", trace.WithReporter(r))
	_, s := tr.Start(context.Background(), "op", trace.WithLogType("empty"))
	s.Finish()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readLines(t, filepath.Join(dir, "empty"+layout.DigestSuffix)); len(got) != 1 || got[0] != "{}" {
		t.Fatalf("file lines %q", got)
	}
	writes := out.all()
	if len(writes) != 1 {
		t.Fatalf("%d writes: %q", len(writes), writes)
	}
	var m map[string]any
	if err := json.Unmarshal(writes[0], &m); err != nil || m[layout.FieldLogKind] != layout.LogKindDigest || m[layout.FieldLogType] != "empty" {
		t.Fatalf("Output line %q: %v %v", writes[0], m, err)
	}
}

// TestTagsNamedLikeStreamKeys: a span's tags named like the keys a stream line starts with (log.kind,
// log.type, log.shadow) are not written: in a file they made tracetail take the line for a stream's
// stat line and skip it, and on Output the line had each of those keys twice.
func TestTagsNamedLikeStreamKeys(t *testing.T) {
	out := &writeLog{}
	r, dir := newReporter(t, Config{Output: out, Policy: Block, StatInterval: -1})
	tr := trace.New("tags", trace.WithReporter(r))
	for _, lt := range []string{"job", LogTypeHTTPServer} {
		_, s := tr.Start(context.Background(), "op", trace.WithKind(trace.KindServer), trace.WithLogType(lt))
		s.SetTag(layout.FieldRequestURL, "http://h/x")
		s.SetTag(layout.FieldMethod, "GET")
		s.SetTag(layout.FieldLogKind, layout.LogKindStat)
		s.SetTag(layout.FieldLogType, "forged")
		s.SetTagBool(layout.FieldLogShadow, true)
		s.SetTag("user.tier", "gold")
		s.Finish()
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, lt := range []string{"job", LogTypeHTTPServer} {
		path := filepath.Join(dir, lt+layout.DigestSuffix)
		lines := readLines(t, path)
		if len(lines) != 1 {
			t.Fatalf("%s: %q", path, lines)
		}
		rec, err := digestread.DigestFile{Path: path, LogType: lt}.ParseLine([]byte(lines[0]), nil)
		if err != nil || rec.LogType != lt || rec.LoadTest {
			t.Errorf("%s: %q read as %+v, %v", lt, lines[0], rec, err)
			continue
		}
		if v, _ := rec.Get("user.tier"); v != "gold" {
			t.Errorf("%s: the other tag is missing: %q", lt, lines[0])
		}
	}
	for _, w := range out.all() {
		if !bytes.HasPrefix(w, []byte(`{"log.kind":"digest"`)) {
			continue
		}
		for _, k := range []string{layout.FieldLogKind, layout.FieldLogType} {
			if n := bytes.Count(w, []byte(`"`+k+`"`)); n != 1 {
				t.Errorf("Output line has %s %d times: %s", k, n, w)
			}
		}
	}
}
