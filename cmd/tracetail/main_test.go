package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/internal/digestread"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// TestTreeW3CIDs writes its lines with the digest reporter, whose rolling files each start a
// lumberjack goroutine that lumberjack never stops (see package rolling): the one allowed to outlive
// the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

const (
	traceOK   = "0ad1348f1714564802000100032345"
	traceTree = "0ad1348f1714564800000100012345"
	traceLoad = "0ad1348f1714564801000100022345"
	logsDir   = "testdata/logs/tracelog"
	multiDir  = "testdata/multi" // three applications, each with its own http-server-digest.log
	// rpcDir holds an HTTP server calling over gRPC (tracemdc's rpc lines, one with its keys in hash
	// order as SOFATracer 3.1.4+ prints them) and a real SOFARPC Java client line.
	rpcDir   = "testdata/rpc/tracelog"
	traceRPC = "0ad1348f1714564803000100042345"
)

// TestGolden runs the tool over the fixtures and compares exit code, stdout and stderr with
// testdata/golden/<name>.txt (go test -run Golden -update rewrites them).
func TestGolden(t *testing.T) {
	biz := "testdata/biz/frontend.json,testdata/biz/orders.json,testdata/biz/inventory.json"
	for _, c := range []struct {
		name string
		args []string
		env  string // TRACEMDC_LOG_PATH
	}{
		{"default-root", nil, "testdata/logs"},
		{"all-files", []string{logsDir}, ""},
		{"multi-apps", []string{multiDir}, ""},
		{"multi-errors", []string{"-errors", multiDir}, ""},
		// Live file named first, its backup second: of the two spans ending at .100 the backup's is first.
		{"merge-backup-first", []string{"testdata/merge/tracelog/app-digest.log", "testdata/merge/tracelog/app-digest.log.1"}, ""},
		{"json-errors", []string{"-json", "-errors", logsDir}, ""},
		{"type-redis", []string{"-type", "redis", logsDir}, ""},
		{"slow", []string{"-slow", "300ms", logsDir}, ""},
		{"load-test", []string{"-load-test", logsDir}, ""},
		{"since", []string{"-since", "2024-05-01 12:00:00.400", logsDir}, ""},
		{"trace", []string{"-trace", traceOK, logsDir}, ""},
		{"last-2", []string{"-n", "2", logsDir + "/spring-mvc-digest.log", logsDir + "/redis-digest.log"}, ""},
		{"last-1-gzip", []string{"-n", "1", "-json", logsDir + "/httpclient-digest.log.1.gz"}, ""},
		{"overlong", []string{"-max-line", "400", logsDir + "/inventory-mvc-digest.log"}, ""},
		{"tree", []string{"-tree", traceTree, logsDir}, ""},
		{"tree-logs", []string{"-tree", traceTree, "-width", "30", "-logs", biz, "-logs", "testdata/biz/plain.log"}, "testdata/logs"},
		{"tree-logs-glob", []string{"-tree", traceTree, "-width", "30", "-logs", "testdata/biz/*.json", "-logs", "testdata/biz/plain.log"}, "testdata/logs"},
		{"usage-logs-no-match", []string{"-tree", traceTree, "-logs", "testdata/biz/*.nope"}, ""},
		{"usage-logs-bad-glob", []string{"-tree", traceTree, "-logs", "testdata/biz/[.log"}, ""},
		// What the shell makes of an unquoted -logs testdata/biz/*.json.
		{"usage-business-log-as-path", []string{"-tree", traceTree, "-logs", "testdata/biz/frontend.json", "testdata/biz/inventory.json", "testdata/biz/orders.json", logsDir}, ""},
		{"usage-help", []string{"-h"}, ""},
		{"tree-json", []string{"-tree", traceTree, "-json", logsDir}, ""},
		{"tree-load-test", []string{"-tree", traceLoad, logsDir}, ""},
		{"tree-unknown", []string{"-tree", "nosuchtrace", logsDir}, ""},
		{"missing-path", []string{"testdata/nope", logsDir + "/redis-digest.log"}, ""},
		{"usage-logs-without-tree", []string{"-logs", "x.log"}, ""},
		{"usage-bad-since", []string{"-since", "soon"}, ""},
		{"color", []string{"-color", "always", "-errors", logsDir + "/spring-mvc-digest.log"}, ""},
		{"rpc-all", []string{rpcDir}, ""},
		{"rpc-errors", []string{"-errors", rpcDir}, ""},
		{"rpc-type-server", []string{"-type", "rpc-server", "-slow", "50ms", rpcDir}, ""},
		{"rpc-tree", []string{"-tree", traceRPC, rpcDir}, ""},
		// Flags after the paths, as a shell user types them.
		{"flags-after-paths", []string{logsDir, "-errors", "-type", "httpclient"}, ""},
		{"no-match", []string{"-type", "nosuch", logsDir}, ""},
		{"dashdash-path", []string{"--", "-errors"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("TRACEMDC_LOG_PATH", c.env)
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"-tz", "UTC"}, c.args...), &stdout, &stderr)
			got := fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", code, stdout.String(), stderr.String())
			golden := filepath.Join("testdata", "golden", c.name+".txt")
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestAppColumn checks that the listing names the application of each span: three applications
// write the same log type, and the failed spans of each must be told apart.
func TestAppColumn(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-tz", "UTC", "-errors", multiDir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	apps := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n")[1:] { // after the header
		cols := strings.Fields(line) // date, time, app, type, ...
		if len(cols) < 5 || cols[3] != "http-server" {
			t.Fatalf("line %q: want date, time, app, type", line)
		}
		apps[cols[2]] = true
	}
	for _, app := range []string{"frontend", "orders", "inventory-eu-west-1"} {
		if !apps[app] {
			t.Errorf("no failed span of %s in\n%s", app, stdout.String())
		}
	}
}

// TestScanUnreadableFile: a file that cannot be read (a .gz that is not gzip) ends the merged listing
// with an error naming it, and exit code 1.
func TestScanUnreadableFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad-digest.log.gz")
	if err := os.WriteFile(bad, []byte("not gzip\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := run([]string{"-tz", "UTC", logsDir + "/redis-digest.log", bad}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), bad) {
		t.Errorf("exit %d, stderr %q; want 1 and an error naming %s", code, stderr.String(), bad)
	}
}

// TestLogsGlob: a quoted glob given to -logs joins the same lines as the files it matches named one by
// one.
func TestLogsGlob(t *testing.T) {
	t.Setenv("TRACEMDC_LOG_PATH", "testdata/logs")
	out := func(logs ...string) string {
		args := []string{"-tz", "UTC", "-tree", traceTree}
		for _, l := range logs {
			args = append(args, "-logs", l)
		}
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		return stdout.String()
	}
	named := out("testdata/biz/frontend.json,testdata/biz/inventory.json,testdata/biz/orders.json")
	if !strings.Contains(named, "inventory.json:1") {
		t.Fatalf("no business line joined:\n%s", named)
	}
	for _, glob := range []string{"testdata/biz/*.json", "testdata/biz/*.json,testdata/biz/frontend.json", "testdata/biz/[fio]*.json"} {
		if got := out(glob); got != named {
			t.Errorf("-logs %q:\n%s\nwant\n%s", glob, got, named)
		}
	}
}

func TestBusinessLog(t *testing.T) {
	dir := t.TempDir()
	digestOutside := filepath.Join(dir, "app-digest.log")
	if err := os.WriteFile(digestOutside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"testdata/biz/plain.log":                         true,  // a business log
		"testdata/biz/frontend.json":                     true,  // a business log
		logsDir + "/spring-mvc-stat.log":                 false, // odd name, but under tracelog/
		logsDir + "/shadow/spring-mvc-digest.log":        false, // under tracelog/shadow
		digestOutside:                                    false, // a digest name outside tracelog/
		logsDir + "/spring-mvc-digest.log.2024-05-01_11": false, // a backup
		"testdata/biz":                                   false, // a directory
		"testdata/nope.log":                              false, // missing: reported elsewhere
	} {
		if got := businessLog(path); got != want {
			t.Errorf("businessLog(%q) = %v, want %v", path, got, want)
		}
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"15m":                       now.Add(-15 * time.Minute),
		"2024-05-01 11:00:00.250":   time.Date(2024, 5, 1, 11, 0, 0, 250e6, time.UTC),
		"2024-05-01 11:00:00":       time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC),
		"2024-05-01T11:00:00":       time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC),
		"2024-05-01T13:00:00+02:00": time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC),
		"2024-04-30":                time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseSince(in, now, time.UTC)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseSince(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseSince("later", now, time.UTC); err == nil {
		t.Error("parseSince accepted nonsense")
	}
}

func TestColorAutoOffWhenNotATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if digestread.IsTerminal(w) || digestread.IsTerminal(&bytes.Buffer{}) {
		t.Error("a pipe or a buffer is not a terminal")
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-errors", logsDir}, &stdout, &stderr); code != 0 || strings.Contains(stdout.String(), "\x1b[") {
		t.Errorf("exit %d, output with colour codes: %q", code, stdout.String())
	}
}

// syncBuffer is stdout for a tool that runs in another goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.SplitAfter(s.b.String(), "\n")[:strings.Count(s.b.String(), "\n")]
}

// waitFor waits until out holds n lines. The deadline only ends a run that would hang; no assertion
// depends on time.
func waitFor(out *syncBuffer, n int) error {
	deadline := time.Now().Add(45 * time.Second)
	for len(out.lines()) < n {
		if time.Now().After(deadline) {
			return fmt.Errorf("waited for %d lines, have %d", n, len(out.lines()))
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

func digestLine(seq int) string {
	return fmt.Sprintf(`{"time":"2024-05-01 12:00:00.000","local.app":"app","traceId":"%s","spanId":"0.%d","span.kind":"server","result.code":"200","current.thread.name":"main","time.cost.milliseconds":"1ms","request.url":"/r/%d","method":"GET","req.size.bytes":0,"resp.size.bytes":0,"error":"","sys.baggage":"","biz.baggage":""}`+"\n", traceOK, seq, seq)
}

// TestFollowRotation follows a file while a writer goroutine rotates it by rename + create, deletes and
// re-creates it, and truncates it: every line written is printed exactly once, in order.
func TestFollowRotation(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tracelog")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app-digest.log")
	var want []string
	seq := 0
	write := func(f *os.File, n int) error {
		for range n {
			l := digestLine(seq)
			seq++
			want = append(want, l)
			if _, err := f.WriteString(l); err != nil {
				return err
			}
		}
		return nil
	}
	create := func() (*os.File, error) {
		return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|os.O_TRUNC, 0o644)
	}
	// Three lines before the start, of which -n 2 shows the last two, and a malformed one.
	f, err := create()
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f, 3); err != nil {
		t.Fatal(err)
	}
	want = want[1:]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out syncBuffer
	var stderr bytes.Buffer
	exit := make(chan int)
	go func() {
		exit <- runContext(ctx, []string{"-f", "-n", "2", "-json", "-poll", "1ms", dir}, &out, &stderr)
	}()

	writerDone := make(chan error)
	go func() {
		writerDone <- func() error {
			if err := waitFor(&out, 2); err != nil { // the follower has opened the file
				return err
			}
			if _, err := f.WriteString("garbage line\n"); err != nil {
				return err
			}
			if err := write(f, 100); err != nil {
				return err
			}
			// Rotation by rename + create, while the follower may be anywhere in the old file; the
			// old file gets a few more lines after the rename, before the new one exists.
			if err := os.Rename(path, path+".2024-05-01_12"); err != nil {
				return err
			}
			if err := write(f, 5); err != nil {
				return err
			}
			old := f
			if f, err = create(); err != nil {
				return err
			}
			old.Close()
			if err := write(f, 95); err != nil {
				return err
			}
			// A second rotation is only safe once the follower has taken up the new file.
			if err := waitFor(&out, len(want)); err != nil {
				return err
			}
			// Deletion and re-creation; the deleted file still gets lines through its open handle.
			if err := os.Remove(path); err != nil {
				return err
			}
			if err := write(f, 5); err != nil {
				return err
			}
			old = f
			if f, err = create(); err != nil {
				return err
			}
			old.Close()
			if err := write(f, 95); err != nil {
				return err
			}
			// Truncation (copytruncate style) once everything has been read, then fewer bytes than
			// before, then more.
			if err := waitFor(&out, len(want)); err != nil {
				return err
			}
			if err := f.Truncate(0); err != nil {
				return err
			}
			if err := write(f, 10); err != nil {
				return err
			}
			if err := waitFor(&out, len(want)); err != nil {
				return err
			}
			if err := write(f, 90); err != nil {
				return err
			}
			return f.Close()
		}()
	}()
	if err := <-writerDone; err != nil {
		t.Fatal(err)
	}
	if err := waitFor(&out, len(want)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if code := <-exit; code != 0 {
		t.Errorf("exit %d, stderr %s", code, stderr.String())
	}
	got := out.lines()
	if !slices.Equal(got, want) {
		t.Errorf("got %d lines, want %d", len(got), len(want))
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("first difference at line %d:\n got %s\nwant %s", i, got[i], want[i])
			}
		}
	}
	if !strings.Contains(stderr.String(), "skipped 1 malformed line(s)") {
		t.Errorf("stderr %q does not report the malformed line", stderr.String())
	}
}

// TestBadFlags: a bad flag value is reported once (by the flag package, before the usage), a bad
// -tz once by tracetail; both exit 2.
func TestBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-slow", "abc", logsDir}, `invalid value "abc" for flag -slow`},
		{[]string{"-tz", "Nowhere", logsDir}, "unknown time zone Nowhere"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != 2 || strings.Count(stderr.String(), tc.msg) != 1 || stdout.Len() != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the message %q once", tc.args, code, stderr.String(), tc.msg)
		}
	}
}

// TestFlagsAfterPaths: flags after the paths filter as they do before them (they were taken as paths,
// and the listing ran unfiltered over a path named -errors), and a path after -- is a path.
func TestFlagsAfterPaths(t *testing.T) {
	out := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"-tz", "UTC"}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code1, before, _ := out("-errors", "-slow", "100ms", logsDir)
	code2, after, _ := out(logsDir, "-errors", "-slow", "100ms")
	code3, mixed, _ := out("-errors", logsDir, "-slow", "100ms")
	if code1 != 0 || before == "" || after != before || mixed != before || code2 != 0 || code3 != 0 {
		t.Fatalf("flags before paths:\n%s\nafter:\n%s\nmixed:\n%s", before, after, mixed)
	}
	if code, _, stderr := out("--", "-errors"); code != 1 || !strings.Contains(stderr, "-errors: no such file") {
		t.Fatalf("-- -errors: exit %d, %s", code, stderr)
	}
}

// TestListReadsBackups: a listing over a directory reads its rolled backups (name.log.2024-05-01_11,
// .gz) as -tree does, so yesterday's errors are still found after midnight; -n reads live files only.
func TestListReadsBackups(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-tz", "UTC", "-errors", "-trace", traceTree, logsDir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	// The first is in the daily backup, the second in the gzipped one.
	for _, want := range []string{"POST /api/orders  ERROR inventory said no", "GET http://127.0.0.1:8082/api/stock  ERROR"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("no %q in\n%s", want, stdout.String())
		}
	}
	stdout.Reset()
	if code := run([]string{"-tz", "UTC", "-n", "100", "-trace", traceTree, logsDir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if strings.Contains(stdout.String(), "inventory said no") || strings.Contains(stdout.String(), "127.0.0.1:8082") {
		t.Errorf("-n read a backup:\n%s", stdout.String())
	}
}

// TestNoMatch: a filter that matches nothing says so on stderr and exits 1, with nothing on stdout.
func TestNoMatch(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-tz", "UTC", "-trace", "nosuchtrace", logsDir}, &stdout, &stderr)
	if code != 1 || stdout.Len() != 0 || !strings.Contains(stderr.String(), "no span matches the filters") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}
