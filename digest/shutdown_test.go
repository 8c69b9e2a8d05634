package digest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
)

// exitChildEnv makes the test binary a child process that reports spans and exits (see exitChild).
const exitChildEnv = "TRACEMDC_EXIT_CHILD"

// exitChild reports n server spans to a Reporter under root and exits, with or without Close.
func exitChild(root string, n int, closeFirst bool) {
	r, err := New(Config{Root: root, Policy: Block})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	tr := trace.New("app", trace.WithReporter(r))
	for i := 0; i < n; i++ {
		_, sp := tr.Start(context.Background(), "GET /x", trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeHTTPServer))
		sp.SetResultCode("200")
		sp.Finish()
	}
	if closeFirst {
		_ = r.Close()
	}
	os.Exit(0)
}

// runExitChild runs the child and returns the number of digest lines it left.
func runExitChild(t *testing.T, n int, closeFirst bool) int {
	t.Helper()
	root := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestExitWithoutClose$")
	cmd.Env = append(os.Environ(), exitChildEnv+"="+root, "TRACEMDC_EXIT_N="+strconv.Itoa(n), "TRACEMDC_EXIT_CLOSE="+strconv.FormatBool(closeFirst))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(root, "tracelog", "http-server-digest.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// TestExitWithoutClose measures what the README's graceful shutdown section says: a process that
// exits right after its last span without Reporter.Close loses the spans still in the queue (the
// count varies from run to run and is logged), while Close writes every one of them.
func TestExitWithoutClose(t *testing.T) {
	if root := os.Getenv(exitChildEnv); root != "" {
		n, _ := strconv.Atoi(os.Getenv("TRACEMDC_EXIT_N"))
		exitChild(root, n, os.Getenv("TRACEMDC_EXIT_CLOSE") == "true")
	}
	const spans = 100
	runs := 3
	if os.Getenv("TRACEMDC_STRESS") != "" {
		runs = 30
	}
	var without []int
	for i := 0; i < runs; i++ {
		if got := runExitChild(t, spans, true); got != spans {
			t.Fatalf("with Close: %d of %d lines written", got, spans)
		}
		got := runExitChild(t, spans, false)
		if got > spans {
			t.Fatalf("without Close: %d lines for %d spans", got, spans)
		}
		without = append(without, got)
	}
	t.Logf("lines written of %d spans by a process exiting without Close, %d runs: %v (with Close: %d every time)", spans, runs, without, spans)
}
