package tracetree_test

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/tracetree"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// The command's fixtures and golden files: Write is the command's -tree mode.
const (
	fixtures  = "../cmd/tracetail/testdata/logs/tracelog"
	traceTree = "0ad1348f1714564800000100012345"
)

// golden returns the stdout and stderr parts of a golden file of cmd/tracetail.
func golden(t *testing.T, name string) (stdout, stderr string) {
	t.Helper()
	b, err := os.ReadFile("../cmd/tracetail/testdata/golden/" + name + ".txt")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(b), "--- stdout\n")
	stdout, stderr, _ = strings.Cut(rest, "--- stderr\n")
	return stdout, stderr
}

// TestWriteIsTheCommand: Write prints what `tracetail -tz UTC -tree ID` prints, on stdout and
// on stderr, with and without business logs.
func TestWriteIsTheCommand(t *testing.T) {
	for _, c := range []struct {
		golden string
		opts   tracetree.Options
	}{
		{"tree", tracetree.Options{Location: time.UTC}},
		{"tree-logs", tracetree.Options{Location: time.UTC, Width: 30, Logs: []string{
			"../cmd/tracetail/testdata/biz/frontend.json", "../cmd/tracetail/testdata/biz/orders.json",
			"../cmd/tracetail/testdata/biz/inventory.json", "../cmd/tracetail/testdata/biz/plain.log"}}},
	} {
		var out, warn bytes.Buffer
		c.opts.Warn = &warn
		if err := tracetree.Write(&out, traceTree, []string{fixtures}, c.opts); err != nil {
			t.Fatal(err)
		}
		wantOut, wantErr := golden(t, c.golden)
		// The business log lines are named by their base names, so the paths do not matter.
		if out.String() != wantOut || warn.String() != wantErr {
			t.Errorf("%s:\n%s%s\nwant\n%s%s", c.golden, out.String(), warn.String(), wantOut, wantErr)
		}
	}
}

func TestWriteNoSpans(t *testing.T) {
	var out bytes.Buffer
	err := tracetree.Write(&out, "nosuchtrace", []string{fixtures}, tracetree.Options{})
	if !errors.Is(err, tracetree.ErrNoSpans) || out.Len() != 0 || !strings.Contains(err.Error(), "nosuchtrace") {
		t.Fatalf("err %v, output %q", err, out.String())
	}
}

func TestColorFor(t *testing.T) {
	var b bytes.Buffer
	if on, err := tracetree.ColorFor("auto", &b); on || err != nil {
		t.Errorf("auto on a buffer: %v %v", on, err)
	}
	if on, err := tracetree.ColorFor("always", &b); !on || err != nil {
		t.Errorf("always: %v %v", on, err)
	}
	if _, err := tracetree.ColorFor("sometimes", &b); err == nil {
		t.Error("sometimes accepted")
	}
}
