package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// A digest.Reporter (BenchmarkPipeline) starts a lumberjack goroutine (Logger.millRun) that
// lumberjack never stops, not even on Close (see package rolling): the only goroutine allowed to
// outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}
