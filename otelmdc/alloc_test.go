//go:build !race

// The race detector makes sync.Pool drop items at random, which would make allocation counts
// meaningless: these tests are not built with -race, and CI runs them in a separate non-race step.

package otelmdc_test

import (
	"io"
	"log/slog"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/otelmdc"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/zapmdc"
)

// TestAllocs: a line with the ids of an OpenTelemetry span costs no more allocations than the same
// line with tracemdc's MDC (slog: none; zap: its own variadic slice), after the span's first line;
// a disabled level costs none, and the source is not asked.
func TestAllocs(t *testing.T) {
	otelCtx, mdcCtx, end := lineContexts(t)
	defer end()
	src := &countingSource{Source: otelmdc.NewSource()}
	defer mdc.AddSource(src)()
	sl := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, nil)))
	zl := zap.New(zapmdc.NewCore(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(io.Discard), zap.InfoLevel)))
	off := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
	sl.InfoContext(otelCtx, "first line of the span")
	for _, c := range []struct {
		name string
		max  float64
		f    func()
	}{
		{"slog otel", 0, func() { sl.LogAttrs(otelCtx, slog.LevelInfo, "m", slog.Int("n", 1)) }},
		{"slog mdc", 0, func() { sl.LogAttrs(mdcCtx, slog.LevelInfo, "m", slog.Int("n", 1)) }},
		{"zap otel", 1, func() { zl.Info("m", zapmdc.Ctx(otelCtx), zap.Int("n", 1)) }},
		{"zap mdc", 1, func() { zl.Info("m", zapmdc.Ctx(mdcCtx), zap.Int("n", 1)) }},
	} {
		if n := testing.AllocsPerRun(200, c.f); n > c.max {
			t.Errorf("%s: %v allocs per line, want at most %v", c.name, n, c.max)
		}
	}
	calls := src.n.Load()
	if n := testing.AllocsPerRun(200, func() { off.LogAttrs(otelCtx, slog.LevelInfo, "m", slog.Int("n", 1)) }); n != 0 {
		t.Errorf("disabled: %v allocs", n)
	}
	if src.n.Load() != calls {
		t.Error("the source was asked for a disabled line")
	}
}
