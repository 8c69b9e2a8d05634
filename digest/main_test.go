package digest

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/rolling"
	"github.com/tracemdc/tracemdc/trace"
)

// Every rolling.File starts a lumberjack goroutine (Logger.millRun) that lumberjack never stops, not
// even on Close (see package rolling): it is the only goroutine allowed to outlive the tests.
func TestMain(m *testing.M) {
	if os.Getenv(stdoutChildEnv) != "" {
		os.Exit(stdoutChild()) // the child process of TestStdoutSharedWithSlog
	}
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// newReporter makes a reporter under a temporary root and closes it when the test ends.
func newReporter(t testing.TB, cfg Config) (*Reporter, string) {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, filepath.Join(cfg.Root, "tracelog")
}

// readLines returns the lines of a log file and of its backups, oldest first (nil if none exist).
func readLines(t testing.TB, path string) []string {
	t.Helper()
	backups, err := rolling.Backups(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range append(backups, path) {
		b, err := os.ReadFile(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 0 && b[len(b)-1] != '\n' {
			t.Fatalf("%s does not end with a line end", p)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return lines
}

// listFiles returns the paths under dir, relative and sorted.
func listFiles(t testing.TB, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// httpSpan starts and finishes an http-server span.
func httpSpan(tr *trace.Tracer, url, code string, opts ...trace.StartOption) {
	opts = append(opts, trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeHTTPServer))
	_, s := tr.Start(context.Background(), "GET", opts...)
	s.SetTag("request.url", url)
	s.SetTag("method", "GET")
	s.SetTagInt("req.size.bytes", 10)
	s.SetTagInt("resp.size.bytes", 20)
	s.SetResultCode(code)
	s.Finish()
}

func readSelfLog(t testing.TB, dir string) string {
	t.Helper()
	return strings.Join(readLines(t, filepath.Join(dir, "tracer-self.log")), "\n")
}
