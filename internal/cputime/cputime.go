// Package cputime gives the CPU time the process has used, for benchmarks that report it next to
// their wall time: on a shared machine a benchmark's wall time mostly measures how long it waited for
// a core, its CPU time what it cost, background goroutines (a reporter's consumer, an exporter,
// the garbage collector) included.
//
//	start := cputime.Process()
//	for i := 0; i < b.N; i++ { ... }
//	cputime.ReportPerOp(b, start) // the metric cpu-ns/op, which benchratio -unit compares
package cputime

import (
	"testing"
	"time"
)

// Metric is the name of the metric ReportPerOp reports.
const Metric = "cpu-ns/op"

// Process returns the CPU time, user and system, that every thread of the process has used so far;
// 0 where the system does not say (not on Unix).
func Process() time.Duration { return process() }

// ReportPerOp reports the CPU time the process used since start (a Process value), divided by b.N,
// as the metric cpu-ns/op of b.
func ReportPerOp(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(Process()-start)/float64(b.N), Metric)
}
