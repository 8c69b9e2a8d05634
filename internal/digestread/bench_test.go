package digestread

import (
	"io"
	"testing"
	"time"
)

func BenchmarkParseLineJSON(b *testing.B) {
	line := []byte(jsonLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for range b.N {
		if _, err := ParseLine(line, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseLineCSV(b *testing.B) {
	line := []byte(csvLine)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for range b.N {
		if _, err := ParseLine(line, time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanRecordsFilter measures filtering a generated 16 MiB digest stream by trace id.
func BenchmarkScanRecordsFilter(b *testing.B) {
	const size = 16 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	opts := ReadOptions{Location: time.UTC, MaxLine: 64 << 10, Filter: &Filter{TraceID: genTrace}}
	for range b.N {
		if _, err := ScanRecords(&genReader{size: size}, DigestFile{}, opts, func(*Record) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanLines measures cutting a generated 16 MiB stream into lines.
func BenchmarkScanLines(b *testing.B) {
	const size = 16 << 20
	b.SetBytes(size)
	b.ReportAllocs()
	for range b.N {
		if _, err := ScanLines(&genReader{size: size}, 64<<10, func([]byte) error { return nil }); err != nil && err != io.EOF {
			b.Fatal(err)
		}
	}
}
