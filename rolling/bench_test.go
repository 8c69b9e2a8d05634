package rolling

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFile compares one 200-byte line per Write through a File with the
// same through a plain *os.File opened O_APPEND (the goal: write_200B no
// more than 1.10x os_file_200B).
func BenchmarkFile(b *testing.B) {
	line := make([]byte, 200)
	for i := range line {
		line[i] = 'a' + byte(i%26)
	}
	line[len(line)-1] = '\n'

	b.Run("write_200B", func(b *testing.B) {
		f, err := New(Config{Filename: filepath.Join(b.TempDir(), "digest.log"), Rolling: Daily})
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := f.Write(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("os_file_200B", func(b *testing.B) {
		f, err := os.OpenFile(filepath.Join(b.TempDir(), "digest.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := f.Write(line); err != nil {
				b.Fatal(err)
			}
		}
	})
	// With size rolls every 1 MB (one per ~5200 writes): the roll cost
	// spread over the writes.
	b.Run("write_200B_roll_1MB", func(b *testing.B) {
		f, err := New(Config{Filename: filepath.Join(b.TempDir(), "digest.log"), Rolling: Daily, MaxSizeMB: 1, MaxAgeDays: -1})
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(line)))
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := f.Write(line); err != nil {
				b.Fatal(err)
			}
		}
	})
}
