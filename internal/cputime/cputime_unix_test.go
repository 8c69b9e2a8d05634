//go:build unix

package cputime

import (
	"testing"
	"time"
)

// TestProcessCounts: the CPU time grows while the process computes, and never goes back. (The
// deadline only stops a broken Process from hanging the test; the loop ends as soon as a
// millisecond of CPU time has been counted.)
func TestProcessCounts(t *testing.T) {
	c0 := Process()
	if c0 <= 0 {
		t.Fatalf("Process() = %v in a running process", c0)
	}
	x, last := 0, c0
	for deadline := time.Now().Add(20 * time.Second); last-c0 < time.Millisecond; x++ {
		if time.Now().After(deadline) {
			t.Fatalf("20 s of a busy loop (%d turns) counted %v of CPU time", x, last-c0)
		}
		c := Process()
		if c < last {
			t.Fatalf("CPU time went back from %v to %v", last, c)
		}
		last = c
	}
}
