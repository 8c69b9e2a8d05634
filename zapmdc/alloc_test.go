//go:build !race

// The race detector makes sync.Pool drop items at random, which would make allocation counts
// meaningless: these tests are not built with -race, and CI runs them in a separate non-race step.

package zapmdc_test

import (
	"io"
	"testing"

	"go.uber.org/zap"

	"github.com/tracemdc/tracemdc/zapmdc"
)

// TestAllocs checks the package's goals on the benchmark workload: the carrier costs no more
// allocations than the ids given by hand, and a disabled level none.
func TestAllocs(t *testing.T) {
	ctx := ids()
	manual := zap.New(jsonCore(io.Discard, zap.InfoLevel))
	wrapped := zap.New(zapmdc.NewCore(jsonCore(io.Discard, zap.InfoLevel)))
	off := zap.New(zapmdc.NewCore(jsonCore(io.Discard, zap.WarnLevel)))
	am := testing.AllocsPerRun(100, func() {
		manual.Info("msg", zap.String("traceId", "t1"), zap.String("spanId", "0.1"), zap.Int("n", 1))
	})
	aw := testing.AllocsPerRun(100, func() { wrapped.Info("msg", zapmdc.Ctx(ctx), zap.Int("n", 1)) })
	// zap's Info(msg, fields...) allocates its variadic slice even when the level is off (the slice
	// escapes through Core.Write); zap's zero-allocation form for disabled levels is Check.
	ad := testing.AllocsPerRun(100, func() {
		if ce := off.Check(zap.InfoLevel, "msg"); ce != nil {
			ce.Write(zapmdc.Ctx(ctx), zap.Int("n", 1))
		}
	})
	offPlain := zap.New(jsonCore(io.Discard, zap.WarnLevel))
	adInfo := testing.AllocsPerRun(100, func() { off.Info("msg", zapmdc.Ctx(ctx), zap.Int("n", 1)) })
	adPlain := testing.AllocsPerRun(100, func() { offPlain.Info("msg", zapmdc.Ctx(ctx), zap.Int("n", 1)) })
	if adInfo > adPlain {
		t.Errorf("disabled Info allocs: wrapped %v > plain core %v", adInfo, adPlain)
	}
	if aw > am {
		t.Errorf("allocs: mdc %v > manual %v", aw, am)
	}
	if ad != 0 {
		t.Errorf("allocs disabled = %v", ad)
	}
}
