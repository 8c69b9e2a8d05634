package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestClearKeepsBusinessLogLookalikes: the business logs are plain files the demo appends to and
// never rolls, so a dated file next to one (orders.log.2024-05-01) is not something the demo wrote
// and must survive the clean-up; a rolled digest log next to it must not.
func TestClearKeepsBusinessLogLookalikes(t *testing.T) {
	dir := t.TempDir()
	tl := filepath.Join(dir, "orders", "tracelog")
	if err := os.MkdirAll(tl, 0o755); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "orders.log.2024-05-01")
	rolled := filepath.Join(tl, "http-server-digest.log.2024-05-01")
	for _, p := range []string{mine, rolled, filepath.Join(dir, "orders.log")} {
		if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := writeMarker(dir); err != nil {
		t.Fatal(err)
	}
	n, err := clearEarlierRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("removed %d files, want 2 (orders.log and the rolled digest log)", n)
	}
	if _, err := os.Stat(mine); err != nil {
		t.Errorf("%s, which the demo never writes, was removed: %v", mine, err)
	}
	if _, err := os.Stat(rolled); !os.IsNotExist(err) {
		t.Errorf("the rolled digest log is still there: %v", err)
	}
}

// TestClearNeedsMarker: in a directory the demo has not marked as its own (no earlier run, or another
// program's logs under the demo's names), nothing is removed.
func TestClearNeedsMarker(t *testing.T) {
	dir := t.TempDir()
	tl := filepath.Join(dir, "orders", "tracelog")
	if err := os.MkdirAll(tl, 0o755); err != nil {
		t.Fatal(err)
	}
	files := []string{filepath.Join(dir, "orders.log"), filepath.Join(tl, "http-server-digest.log")}
	for _, p := range files {
		if err := os.WriteFile(p, []byte("someone else's\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, markerName), 0o755); err != nil { // not a marker: a directory
		t.Fatal(err)
	}
	n, err := clearEarlierRun(dir)
	if err != nil || n != 0 {
		t.Fatalf("removed %d files (err %v) without a marker, want 0", n, err)
	}
	for _, p := range files {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s removed without a marker: %v", p, err)
		}
	}
}
