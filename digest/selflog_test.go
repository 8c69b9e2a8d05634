package digest

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/trace"
)

// TestSelfLogDepthReset: a span started past trace.MaxDepth writes one tracer-self.log line whose
// [traceId] is the trace that hit the limit (as SOFATracer's errorWithTraceId), whose message names
// the new trace and the operation (quoted by the error, the quotes not escaped again), and which
// stays one line whatever the operation name holds.
func TestSelfLogDepthReset(t *testing.T) {
	r, dir := newReporter(t, Config{Clock: fixedClock(), Location: time.UTC})
	tr := trace.New("deep", trace.WithReporter(r), trace.WithoutMDC())
	ctx, root := tr.Start(context.Background(), "root")
	for i := 2; i <= trace.MaxDepth; i++ {
		var s *trace.Span
		ctx, s = tr.Start(ctx, "c")
		defer s.Finish()
	}
	const op = "load cart\n2024-05-01 00:00:00.000[ERROR] [x]forged"
	_, deep := tr.Start(ctx, op)
	deep.Finish()
	root.Finish()
	if deep.TraceID() == root.TraceID() {
		t.Fatal("no depth reset")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, filepath.Join(dir, "tracer-self.log"))
	if len(lines) != 1 {
		t.Fatalf("%d self-log lines, want 1:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	prefix := "2024-05-01 12:01:00.000[WARN]  [" + root.TraceID() + "]"
	l := lines[0]
	if !strings.HasPrefix(l, prefix) {
		t.Fatalf("self-log line\n%s\nwant prefix\n%s", l, prefix)
	}
	msg := strings.TrimPrefix(l, prefix)
	for _, want := range []string{"depth limit", deep.TraceID(), `"load cart\n2024-05-01 00:00:00.000[ERROR] [x]forged"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, `\"`) {
		t.Errorf("message has escaped quotes: %s", msg)
	}
}

// TestSelfLogLineText: the text of a self-log line is what a person reads: quotes and backslashes as
// they are; line ends, other control characters, U+0085, U+2028 and U+2029 escaped so one event is one
// line; invalid UTF-8 replaced; long messages cut with the marker.
func TestSelfLogLineText(t *testing.T) {
	l := newSelfLog(nil, fixedClock(), time.UTC)
	at := time.Date(2024, 5, 1, 12, 0, 0, 7_000_000, time.UTC)
	for _, c := range []struct{ traceID, msg, want string }{
		{"0ad1348f1403169275002100356696", `key "big" refused: C:\dir`,
			`2024-05-01 12:00:00.007[WARN]  [0ad1348f1403169275002100356696]key "big" refused: C:\dir`},
		{"", "a\nb\r\nc\td\x00e\x1bf", `2024-05-01 12:00:00.007[WARN]  []a\nb\r\nc\td\u0000e\u001bf`},
		{"t\n1", "x\u2028y\u2029z\u0085w\xffv", `2024-05-01 12:00:00.007[WARN]  [t\n1]x\u2028y\u2029z\u0085w` + "\uFFFD" + `v`},
		{"", strings.Repeat("é", selfLogMaxMsg), `2024-05-01 12:00:00.007[WARN]  []` +
			strings.Repeat("é", selfLogMaxMsg/2) + "...(truncated 8192 bytes)"},
	} {
		got := string(l.appendLine(nil, at, levelWarn, c.traceID, c.msg))
		if got != c.want+"\n" {
			t.Errorf("appendLine(%q, %.40q)\n got %.200q\nwant %.200q", c.traceID, c.msg, got, c.want+"\n")
		}
		if strings.Count(got, "\n") != 1 {
			t.Errorf("%q is not one line", got)
		}
	}
}

// TestSelfLogLevelPrefix: the level prefix is SOFATracer's, padded to 8 characters, between the time
// and [traceId] ("[WARN] [" and "[INFO] [" before).
func TestSelfLogLevelPrefix(t *testing.T) {
	l := newSelfLog(nil, fixedClock(), time.UTC)
	at := time.Date(2024, 5, 1, 12, 0, 0, 7_000_000, time.UTC)
	for level, want := range map[string]string{
		levelError: "2024-05-01 12:00:00.007[ERROR] [tid]m\n",
		levelWarn:  "2024-05-01 12:00:00.007[WARN]  [tid]m\n",
		levelInfo:  "2024-05-01 12:00:00.007[INFO]  [tid]m\n",
	} {
		if len(level) != 8 {
			t.Errorf("prefix %q is %d characters, want 8", level, len(level))
		}
		if got := string(l.appendLine(nil, at, level, "tid", "m")); got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// selfFile is a tracer-self.log that refuses its first fails writes and keeps the rest.
type selfFile struct {
	fails int
	bytes.Buffer
}

func (f *selfFile) Write(p []byte) (int, error) {
	if f.fails > 0 {
		f.fails--
		return 0, errors.New("disk full (test)")
	}
	return f.Buffer.Write(p)
}

func (f *selfFile) Close() error { return nil }

// TestSelfLogCloseTotal: the self log's own lost lines are stated exactly at Close, in the file when
// it works again, else on stderr, even when the flush that wrote a total of them lost lines again
// (a file keeping 40 bytes after a failure drops every line, totals included). Before, Close wrote
// twice and then forgot a total still to write: nothing said that the file lost its lines.
func TestSelfLogCloseTotal(t *testing.T) {
	lostTotal := regexp.MustCompile(`tracer-self\.log (?:fails|written again after \d+ failed writes): (\d+) lines lost in total`)
	for _, fails := range []int{1, 3, 1 << 20} {
		t.Run(strconv.Itoa(fails), func(t *testing.T) {
			f := &selfFile{fails: fails}
			l := newSelfLog(f, fixedClock(), time.UTC)
			var stderr bytes.Buffer
			l.stderr = &stderr
			l.f.max = 40
			for i := 0; i < 5; i++ {
				l.log(levelWarn, "test", "", "line "+strconv.Itoa(i))
			}
			if err := l.close(); err != nil {
				t.Fatal(err)
			}
			lost := l.lost.Load()
			if lost == 0 {
				t.Fatal("no line lost")
			}
			said := ""
			if m := lostTotal.FindAllStringSubmatch(f.String(), -1); m != nil {
				said = m[len(m)-1][1] // the last total the file holds
			}
			if f.fails == 0 { // the file works again: it states the total
				if said != strconv.FormatUint(lost, 10) {
					t.Fatalf("%d lines lost; the file says %q:\n%s\nstderr:\n%s", lost, said, f.String(), stderr.String())
				}
				return
			}
			if want := "lost at Close (" + strconv.FormatUint(lost, 10) + " in total)"; !strings.Contains(stderr.String(), want) {
				t.Fatalf("%d lines lost; stderr does not say %q:\n%s", lost, want, stderr.String())
			}
		})
	}
}
