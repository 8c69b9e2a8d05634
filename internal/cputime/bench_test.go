package cputime

import "testing"

// BenchmarkReportPerOp measures Process, a getrusage system call on Unix.
func BenchmarkReportPerOp(b *testing.B) {
	start := Process()
	for i := 0; i < b.N; i++ {
		_ = Process()
	}
	ReportPerOp(b, start)
}
