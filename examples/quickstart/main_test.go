package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/internal/jaegertest"
)

// Every digest file is a rolling.File, and each starts a lumberjack goroutine (Logger.millRun) that
// lumberjack never stops (see package rolling); it is the only goroutine allowed to outlive run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// runDemo runs the demo into a fresh directory and returns the directory and what it printed.
func runDemo(t *testing.T, dir string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-logs", dir}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr is not empty:\n%s", stderr.String())
	}
	return stdout.String()
}

// readJSONLines reads a file of JSON objects, one a line.
func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s:%d: %v: %s", path, n, err, sc.Text())
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func str(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// digestLines reads the digest file of a service and its shadow twin.
func digestLines(t *testing.T, dir, service, file string) (normal, shadow []map[string]any) {
	t.Helper()
	base := filepath.Join(dir, service, "tracelog")
	return readJSONLines(t, filepath.Join(base, file)), readJSONLines(t, filepath.Join(base, "shadow", file))
}

type treeRow struct {
	indent                     int
	spanID, app, logType, kind string
	code                       string
	error                      bool
	loadTest                   bool
}

var treeHeader = regexp.MustCompile(`(?m)^trace (\S+)  spans=(\d+)  errors=(\d+)  `)

// trees finds the trace trees in the output: trace id → rows.
func trees(t *testing.T, out string) (order []string, rows map[string][]treeRow) {
	t.Helper()
	rows = map[string][]treeRow{}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		m := treeHeader.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		id := m[1]
		order = append(order, id)
		for _, r := range lines[i+1:] {
			f := strings.Fields(r)
			if len(f) < 7 || !strings.HasPrefix(f[6], "|") {
				break
			}
			rows[id] = append(rows[id], treeRow{
				indent: len(r) - len(strings.TrimLeft(r, " ")),
				spanID: f[0], app: f[1], logType: f[2], kind: f[3], code: f[4],
				error: strings.Contains(r, "  ERROR"), loadTest: strings.HasSuffix(r, "LOADTEST"),
			})
		}
	}
	return order, rows
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	out := runDemo(t, dir)

	// The digest files: one server line per request at frontend, the load-test one in shadow/.
	srv, shadow := digestLines(t, dir, "frontend", "http-server-digest.log")
	if len(srv) != numRequests-1 || len(shadow) != 1 {
		t.Fatalf("frontend http-server digest: %d lines + %d in shadow/, want %d + 1", len(srv), len(shadow), numRequests-1)
	}
	if b := str(shadow[0], "biz.baggage"); b != "mark=T&" {
		t.Errorf("shadow line biz.baggage = %q, want mark=T&", b)
	}
	ids := map[string]bool{}
	codes := map[string]int{}
	for _, l := range srv {
		if str(l, "local.app") != "frontend" || str(l, "spanId") != "0" || str(l, "span.kind") != "server" {
			t.Errorf("frontend server line: %v", l)
		}
		ids[str(l, "traceId")] = true
		codes[str(l, "result.code")]++
	}
	if len(ids) != numRequests-1 || codes["200"] != numRequests-2 || codes["502"] != 1 {
		t.Errorf("frontend server lines: %d trace ids, codes %v", len(ids), codes)
	}
	// Every service wrote one line per span, load-test spans in shadow/.
	for _, c := range []struct{ service, file, spanID string }{
		{"frontend", "http-client-digest.log", "0.1"},
		{"orders", "http-server-digest.log", "0.1.1"},
		{"orders", "http-client-digest.log", "0.1.1.1"},
		{"inventory", "http-server-digest.log", "0.1.1.1.1"},
	} {
		normal, shadow := digestLines(t, dir, c.service, c.file)
		if len(normal) != numRequests-1 || len(shadow) != 1 {
			t.Errorf("%s %s: %d lines + %d in shadow/", c.service, c.file, len(normal), len(shadow))
		}
		for _, l := range normal {
			if str(l, "local.app") != c.service || str(l, "spanId") != c.spanID || !ids[str(l, "traceId")] {
				t.Errorf("%s %s: unexpected line %v", c.service, c.file, l)
			}
		}
	}
	inv, _ := digestLines(t, dir, "inventory", "http-server-digest.log")
	failed := 0
	for _, l := range inv {
		if str(l, "result.code") != "200" {
			failed++
			if str(l, "result.code") != "500" || str(l, "error") != "out of stock: umbrella" {
				t.Errorf("failed inventory line: %v", l)
			}
		}
	}
	if failed != 1 {
		t.Errorf("%d failed inventory spans, want 1", failed)
	}

	// The output: the tree of a successful checkout, then that of the failed one.
	order, rows := trees(t, out)
	if len(order) != 2 {
		t.Fatalf("want 2 trace trees in the output, found %d:\n%s", len(order), out)
	}
	okID, failedID := order[0], order[1]
	if !ids[okID] || !ids[failedID] || okID == failedID {
		t.Fatalf("trees of %s and %s, not two of the traces sent", okID, failedID)
	}
	want := []treeRow{
		{0, "0", "frontend", "http-server", "server", "200", false, false},
		{2, "0.1", "frontend", "http-client", "client", "200", false, false},
		{4, "0.1.1", "orders", "http-server", "server", "200", false, false},
		{6, "0.1.1.1", "orders", "http-client", "client", "200", false, false},
		{8, "0.1.1.1.1", "inventory", "http-server", "server", "200", false, false},
	}
	if !slices.Equal(rows[okID], want) {
		t.Errorf("tree of %s:\n got %v\nwant %v\n%s", okID, rows[okID], want, out)
	}
	for i, code := range []string{"502", "502", "502", "500", "500"} {
		want[i].code, want[i].error = code, true
	}
	if !slices.Equal(rows[failedID], want) {
		t.Errorf("tree of the failed %s:\n got %v\nwant %v\n%s", failedID, rows[failedID], want, out)
	}

	// The timeline of the successful checkout joins the lines of the three business logs.
	tl := out[strings.Index(out, "timeline "+okID):]
	for _, f := range []string{"frontend.log:", "orders.log:", "inventory.log:"} {
		if !strings.Contains(tl, f) {
			t.Errorf("timeline lacks lines of %s\n%s", f, out)
		}
	}
	// The tracetail command to see the failed checkout with its log lines.
	logs := strings.Join([]string{filepath.Join(dir, "frontend.log"), filepath.Join(dir, "orders.log"), filepath.Join(dir, "inventory.log")}, ",")
	if cmd := "go run ./cmd/tracetail -tree " + failedID + " -logs " + shellQuote(logs) + " " + shellQuote(dir); !strings.Contains(out, cmd) {
		t.Errorf("output lacks the command %q", cmd)
	}

	// The business logs: every line carries the ids, under its logger's field names.
	loadID := str(shadow[0], "traceId")
	for _, c := range []struct {
		file, traceField, spanField, spanID string
		loadSpanID                          string // under the load generator's two spans (0, 0.1)
	}{
		{"frontend.log", "traceId", "spanId", "0", "0.1.1"},
		{"orders.log", "SOFA-TraceId", "SOFA-SpanId", "0.1.1", "0.1.1.1.1"},
		{"inventory.log", "trace_id", "span_id", "0.1.1.1.1", "0.1.1.1.1.1.1"},
	} {
		lines := readJSONLines(t, filepath.Join(dir, c.file))
		if len(lines) != 2*numRequests {
			t.Errorf("%s: %d lines, want %d", c.file, len(lines), 2*numRequests)
		}
		perTrace := map[string]int{}
		for _, l := range lines {
			id := str(l, c.traceField)
			perTrace[id]++
			if !ids[id] && id != loadID {
				t.Errorf("%s: line without a known %s: %v", c.file, c.traceField, l)
			}
			want := c.spanID
			if id == loadID {
				want = c.loadSpanID
			}
			if str(l, c.spanField) != want {
				t.Errorf("%s: %s = %q, want %q: %v", c.file, c.spanField, str(l, c.spanField), want, l)
			}
			if lt := str(l, "loadTest"); (lt == "T") != (id == loadID) {
				t.Errorf("%s: loadTest=%q in a line of trace %s (load test: %s)", c.file, lt, id, loadID)
			}
		}
		if perTrace[okID] != 2 || perTrace[failedID] != 2 || perTrace[loadID] != 2 {
			t.Errorf("%s: lines per trace %v", c.file, perTrace)
		}
	}
	// The value frontend adds to its MDC rides along.
	for _, l := range readJSONLines(t, filepath.Join(dir, "frontend.log")) {
		if !slices.Contains(users, str(l, "user")) {
			t.Errorf("frontend.log line without the user: %v", l)
		}
	}
	// Each failing service said so in its own logger's words.
	for _, c := range []struct{ file, traceField, level, msg string }{
		{"frontend.log", "traceId", "ERROR", "checkout failed"},
		{"orders.log", "SOFA-TraceId", "error", "reservation failed"},
		{"inventory.log", "trace_id", "error", "out of stock"},
	} {
		found := false
		for _, l := range readJSONLines(t, filepath.Join(dir, c.file)) {
			found = found || str(l, c.traceField) == failedID && str(l, "level") == c.level && str(l, "msg") == c.msg
		}
		if !found {
			t.Errorf("%s has no %s %q line for the failed trace %s", c.file, c.level, c.msg, failedID)
		}
	}
}

// TestRunStartsAfresh: a second run in the same directory first removes the files of the first
// (business logs, digest, stat and self logs, their rolled backups), so its files and its output hold
// its own run only; files the demo does not write are left alone.
func TestRunStartsAfresh(t *testing.T) {
	dir := t.TempDir()
	first := runDemo(t, dir)
	if strings.Contains(first, "earlier run") {
		t.Errorf("a first run in an empty directory says it removed files:\n%s", first)
	}
	order1, _ := trees(t, first)

	// What the demo must not remove: a file of the user's, a digest file of a log type the demo does
	// not write, a directory and a symbolic link under one of the demo's names. A rolled backup of a
	// demo file (from a run on another day) must go.
	tl := filepath.Join(dir, "frontend", "tracelog")
	keep := []string{filepath.Join(dir, "notes.txt"), filepath.Join(tl, "rpc-digest.log")}
	for _, p := range keep {
		if err := os.WriteFile(p, []byte("mine\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	keepDir := filepath.Join(dir, "orders", "tracelog", "shadow", "http-client-stat.log")
	if err := os.Remove(keepDir); err != nil { // the first run wrote a file there
		t.Fatal(err)
	}
	if err := os.Mkdir(keepDir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tl, "shadow", "http-client-stat.log")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	// (The reporter writes through the link, as any program would: only the link itself is checked.)
	if err := os.Symlink(filepath.Join(dir, "linked.txt"), link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	backup := filepath.Join(tl, "http-server-digest.log.2024-05-01")
	if err := os.WriteFile(backup, []byte(`{"traceId":"old"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	second := runDemo(t, dir)
	order2, rows := trees(t, second)
	if len(order1) != 2 || len(order2) != 2 || order1[0] == order2[0] {
		t.Fatalf("trees: first run %v, second run %v", order1, order2)
	}
	if len(rows[order2[0]]) != 5 {
		t.Errorf("second run's tree has %d spans, want 5:\n%s", len(rows[order2[0]]), second)
	}
	// 28 files: the 29 the first run wrote (3 business logs; per service static-info.log,
	// tracer-self.log, and the digest and stat logs of its span types, also under shadow/: frontend
	// and orders both types, inventory the server's), less the link and the directory put in the
	// place of two of them, plus the backup.
	if want := "Files under " + dir + "/ (28 files of an earlier run removed first"; !strings.Contains(second, want) {
		t.Errorf("second run's output lacks %q:\n%s", want, second)
	}
	// The files hold the second run only: the same counts as after one run, none of its traces.
	srv, shadow := digestLines(t, dir, "frontend", "http-server-digest.log")
	if len(srv) != numRequests-1 || len(shadow) != 1 {
		t.Errorf("after two runs: %d + %d shadow lines, want %d + 1", len(srv), len(shadow), numRequests-1)
	}
	for _, svc := range []string{"frontend", "orders", "inventory"} {
		if n := len(readJSONLines(t, filepath.Join(dir, svc+".log"))); n != 2*numRequests {
			t.Errorf("%s.log: %d lines after two runs, want %d", svc, n, 2*numRequests)
		}
		info, err := os.ReadFile(filepath.Join(dir, svc, "tracelog", "static-info.log"))
		if err != nil || strings.Count(string(info), "\n") != 1 {
			t.Errorf("%s static-info.log: %q, %v; want one line", svc, info, err)
		}
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		for _, id := range order1 {
			if strings.Contains(string(b), id) {
				t.Errorf("%s still holds trace %s of the first run", p, id)
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(backup); !os.IsNotExist(err) {
		t.Errorf("the backup of an earlier run is still there: %v", err)
	}
	for _, p := range keep {
		if b, err := os.ReadFile(p); err != nil || string(b) != "mine\n" {
			t.Errorf("%s: %q, %v; want it untouched", p, b, err)
		}
	}
	if fi, err := os.Lstat(keepDir); err != nil || !fi.IsDir() {
		t.Errorf("the directory %s: %v, %v", keepDir, fi, err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link %s: %v, %v", link, fi, err)
	}
}

// Bad flags and directories that cannot be written fail with an error, and whatever was started
// before the failure is stopped (TestMain checks that no goroutine is left).
func TestRunErrors(t *testing.T) {
	blockWith := func(kind string, names ...string) func(t *testing.T) string {
		return func(t *testing.T) string {
			dir := t.TempDir()
			for _, n := range names {
				var err error
				if kind == "file" {
					err = os.WriteFile(filepath.Join(dir, n), []byte("in the way\n"), 0o644)
				} else {
					err = os.Mkdir(filepath.Join(dir, n), 0o755)
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			return dir
		}
	}
	for _, c := range []struct {
		name string
		args func(dir string) []string
		dir  func(t *testing.T) string
		want string
	}{
		{"unknown flag", func(string) []string { return []string{"-bogus"} }, nil, "not defined"},
		{"argument", func(string) []string { return []string{"extra"} }, nil, "flags only"},
		{"bad colour", func(string) []string { return []string{"-color", "pink"} }, nil, "-color"},
		{"logs is a file", func(d string) []string { return []string{"-logs", filepath.Join(d, "f")} },
			blockWith("file", "f"), "f"},
		// orders's reporter cannot create orders/tracelog: frontend's reporter is already running.
		{"second reporter fails", func(d string) []string { return []string{"-logs", d} },
			blockWith("file", "orders"), "orders"},
		// orders.log is a directory: the three reporters and inventory's server are running by then.
		{"business log fails", func(d string) []string { return []string{"-logs", d} },
			blockWith("dir", "orders.log"), "orders"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := ""
			if c.dir != nil {
				dir = c.dir(t)
			}
			var stdout, stderr bytes.Buffer
			err := run(c.args(dir), &stdout, &stderr)
			if err == nil {
				t.Fatalf("no error; stdout:\n%s", stdout.String())
			}
			if msg := err.Error() + stderr.String(); !strings.Contains(msg, c.want) {
				t.Errorf("error %q (stderr %q) does not mention %q", err, stderr.String(), c.want)
			}
			if stdout.Len() > 0 {
				t.Errorf("stdout after a failure:\n%s", stdout.String())
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"logs":             "logs",
		"/tmp/a-b_c/x.log": "/tmp/a-b_c/x.log",
		"my logs":          "'my logs'",
		"it's":             `'it'\''s'`,
		"":                 "''",
	} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

// TestStdoutFlag: with -stdout, the services' digest, stat and self lines and frontend's business
// log lines come before the summary, one JSON object a line, each of ours naming its kind and log
// type: as many digest and stat lines as the files hold, as many log lines as frontend.log, and the
// summary says how many were ours.
func TestStdoutFlag(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-logs", dir, "-stdout"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	stream, summary, ok := strings.Cut(stdout.String(), "tracemdc quickstart\n")
	if !ok {
		t.Fatalf("no summary:\n%s", stdout.String())
	}
	kinds := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(stream, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not one JSON object: %v\n%s", err, line)
		}
		kind, _ := m["log.kind"].(string)
		if kind != "" && str(m, "log.type") == "" && kind != "self" {
			t.Fatalf("a %s line without log.type: %s", kind, line)
		}
		kinds[kind]++
	}
	fileLines := func(pattern string) int {
		paths, _ := filepath.Glob(filepath.Join(dir, pattern))
		n := 0
		for _, p := range paths {
			n += len(readJSONLines(t, p))
		}
		return n
	}
	want := map[string]int{
		"digest": fileLines("*/tracelog/*-digest.log") + fileLines("*/tracelog/shadow/*-digest.log"),
		"stat":   fileLines("*/tracelog/*-stat.log") + fileLines("*/tracelog/shadow/*-stat.log"),
		"":       len(readJSONLines(t, filepath.Join(dir, "frontend.log"))),
	}
	if kinds["digest"] != want["digest"] || kinds["stat"] != want["stat"] || kinds[""] != want[""] || kinds["self"] != 0 ||
		want["digest"] == 0 || want["stat"] == 0 || want[""] == 0 {
		t.Fatalf("on stdout %v, in the files %v", kinds, want)
	}
	if n := kinds["digest"] + kinds["stat"]; !strings.Contains(summary, fmt.Sprintf("above this summary, %d digest, stat and self lines", n)) {
		t.Fatalf("summary does not count %d lines:\n%s", n, summary)
	}
}

// TestZipkinFlagJaeger: with -zipkin, every span the digest files hold also reaches a real Jaeger
// through its Zipkin receiver, and the trace the summary names is there with the spans of the three
// services, as many as its digest lines.
func TestZipkinFlagJaeger(t *testing.T) {
	j := jaegertest.Start(t)
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-logs", dir, "-zipkin", j.ZipkinURL()}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	written := regexp.MustCompile(`Digest lines written: frontend (\d+), orders (\d+), inventory (\d+)`).FindStringSubmatch(out)
	exported := regexp.MustCompile(`Spans exported as Zipkin JSON to \S+: frontend (\d+), orders (\d+), inventory (\d+) \(none dropped or failed\)`).FindStringSubmatch(out)
	if written == nil || exported == nil || !slices.Equal(written[1:], exported[1:]) {
		t.Fatalf("digest lines %v, exported %v:\n%s", written, exported, out)
	}
	m := regexp.MustCompile(`is trace ([0-9a-f]{32}) there`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no trace named:\n%s", out)
	}
	var lines, services []string
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "tracelog", "*-digest.log"))
	for _, p := range paths {
		for _, l := range readJSONLines(t, p) {
			if idmap.TraceHex(str(l, "traceId")) == m[1] {
				lines = append(lines, str(l, "spanId"))
				services = append(services, str(l, "local.app"))
			}
		}
	}
	tr := j.WaitTrace(t, m[1], len(lines))
	if len(tr.Spans) != len(lines) {
		t.Fatalf("%d spans in Jaeger, %d digest lines", len(tr.Spans), len(lines))
	}
	for i, id := range lines {
		s, ok := tr.ByID(idmap.SpanHex(id))
		if !ok || tr.Service(s) != services[i] {
			t.Errorf("span %s of %s: in Jaeger %v, service %q", id, services[i], ok, tr.Service(s))
		}
	}
}
