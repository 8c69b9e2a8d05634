//go:build !race

// The race detector makes sync.Pool drop items at random, which would make allocation counts
// meaningless: these tests are not built with -race, and CI runs them in a separate non-race step.

package slogmdc_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/tracemdc/tracemdc/slogmdc"
)

// TestAllocs checks the goals of the package on the exact benchmark workload: rendering the two ids
// costs no more allocations than passing them by hand, and a disabled level costs none.
func TestAllocs(t *testing.T) {
	ctx := ids()
	manual := slog.New(slog.NewJSONHandler(io.Discard, nil))
	wrapped := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, nil)))
	off := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelError})))
	am := testing.AllocsPerRun(100, func() {
		manual.LogAttrs(ctx, slog.LevelInfo, "msg", slog.String("traceId", "t1"), slog.String("spanId", "0.1"), slog.Int("n", 1))
	})
	aw := testing.AllocsPerRun(100, func() { wrapped.LogAttrs(ctx, slog.LevelInfo, "msg", slog.Int("n", 1)) })
	ad := testing.AllocsPerRun(100, func() { off.LogAttrs(ctx, slog.LevelInfo, "msg", slog.Int("n", 1)) })
	if aw > am {
		t.Errorf("allocs: mdc %v > manual %v", aw, am)
	}
	if ad != 0 {
		t.Errorf("allocs disabled = %v", ad)
	}
}
