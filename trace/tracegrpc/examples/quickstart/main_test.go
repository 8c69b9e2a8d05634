package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// Every log file the digest reporter opens starts a lumberjack goroutine that lumberjack never stops
// (see package rolling).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// TestDemo: the demo runs, writes http and rpc digest lines, and prints a tree mixing HTTP and RPC
// spans with SOFARPC's ids, its log lines, and the failed checkout with result code 01.
func TestDemo(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run([]string{"-logs", dir}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{
		"0.1    orders     rpc-client   client  00",
		"    0.1  inventory  rpc-server   server  00",
		"0.2    orders     rpc-client   client  00",
		"shop.Inventory/Levels",
		"[0.2] INFO levels sent",
		"rpc-client   client  01",
		"B-2 is out of stock",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
	for _, f := range []string{"orders/tracelog/http-server-digest.log", "orders/tracelog/rpc-client-digest.log",
		"inventory/tracelog/rpc-server-digest.log", "orders/tracelog/rpc-client-stat.log", "inventory.log"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
	lines, _ := os.ReadFile(filepath.Join(layout.DigestDir(filepath.Join(dir, "inventory")), "rpc-server-digest.log"))
	if n := strings.Count(string(lines), "\n"); n != 2*len(items)-1 { // Reserve for each, Levels for the four in stock
		t.Errorf("%d rpc-server lines, want %d", n, 2*len(items)-1)
	}
	if err := run([]string{"-logs", dir}, &out, &errOut); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("a second run into the same directory: %v", err)
	}
}
