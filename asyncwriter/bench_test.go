package asyncwriter_test

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
)

// benchLine is a 200-byte line, the size of a typical digest line.
var benchLine = append(bytes.Repeat([]byte("x"), 199), '\n')

// countingDiscard is io.Discard that counts bytes and Write calls (it does not read the bytes).
// It is used by one goroutine at a time (the consumer, or writers under a mutex) and read after
// draining.
type countingDiscard struct {
	bytes, writes int
}

func (c *countingDiscard) Write(p []byte) (int, error) {
	c.bytes += len(p)
	c.writes++
	return len(p), nil
}

// chanWriter is the async writer a Go developer would write by hand: a buffered channel of line
// copies and a goroutine writing each line.
type chanWriter struct {
	ch   chan []byte
	dst  io.Writer
	done chan struct{}
}

func newChanWriter(dst io.Writer) *chanWriter {
	c := &chanWriter{ch: make(chan []byte, 1024), dst: dst, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for p := range c.ch {
			_, _ = c.dst.Write(p)
		}
	}()
	return c
}

func (c *chanWriter) Write(p []byte) (int, error) {
	c.ch <- append([]byte(nil), p...) // the caller may reuse p
	return len(p), nil
}

func (c *chanWriter) Close() error {
	close(c.ch)
	<-c.done
	return nil
}

// mutexBufio is synchronous buffered writing: a mutex around a 64 KiB bufio.Writer.
type mutexBufio struct {
	mu sync.Mutex
	bw *bufio.Writer
}

func (m *mutexBufio) Write(p []byte) (int, error) {
	m.mu.Lock()
	n, err := m.bw.Write(p)
	m.mu.Unlock()
	return n, err
}

func (m *mutexBufio) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bw.Flush()
}

// produce writes n lines from p goroutines (n split between them) and then closes w, all inside
// the timed region.
func produce(b *testing.B, w io.WriteCloser, producers int) {
	b.Helper()
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	b.ResetTimer()
	if producers == 1 {
		for i := 0; i < b.N; i++ {
			if _, err := w.Write(benchLine); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		var wg sync.WaitGroup
		for p := 0; p < producers; p++ {
			n := b.N / producers
			if p == 0 {
				n += b.N % producers
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < n; i++ {
					if _, err := w.Write(benchLine); err != nil {
						panic(err)
					}
				}
			}()
		}
		wg.Wait()
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
}

func newRingWriter(b *testing.B, dst io.Writer, opts ...asyncwriter.WriterOption) *asyncwriter.Writer {
	b.Helper()
	w, err := asyncwriter.NewWriter(dst, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

func checkLines(b *testing.B, c *countingDiscard) {
	b.Helper()
	if want := b.N * len(benchLine); c.bytes != want {
		b.Fatalf("destination got %d bytes, want %d", c.bytes, want)
	}
	b.ReportMetric(float64(b.N)/float64(c.writes), "lines/write")
}

func BenchmarkWriter(b *testing.B) {
	b.Run("ring_1p", func(b *testing.B) {
		dst := &countingDiscard{}
		produce(b, newRingWriter(b, dst), 1)
		checkLines(b, dst)
	})
	b.Run("ring_2p", func(b *testing.B) {
		dst := &countingDiscard{}
		produce(b, newRingWriter(b, dst), 2)
		checkLines(b, dst)
	})
	b.Run("chan_1p", func(b *testing.B) {
		dst := &countingDiscard{}
		produce(b, newChanWriter(dst), 1)
		checkLines(b, dst)
	})
	b.Run("chan_2p", func(b *testing.B) {
		dst := &countingDiscard{}
		produce(b, newChanWriter(dst), 2)
		checkLines(b, dst)
	})
	b.Run("mutex_bufio_2p", func(b *testing.B) {
		dst := &countingDiscard{}
		produce(b, &mutexBufio{bw: bufio.NewWriterSize(dst, 64<<10)}, 2)
		checkLines(b, dst)
	})
	b.Run("ring_file_1p", func(b *testing.B) {
		f := openAppend(b)
		produce(b, newRingWriter(b, f, asyncwriter.WithCloseDestination()), 1)
		checkFile(b, f.Name())
	})
	b.Run("direct_file_1p", func(b *testing.B) {
		f := openAppend(b)
		produce(b, f, 1)
		checkFile(b, f.Name())
	})
	b.Run("discard_slowsink", benchDiscardSlowSink)
}

// openAppend opens digest.log for appending in a temporary directory under
// $TRACEMDC_BENCH_DIR (for example /dev/shm, to measure the CPU cost without the disk's
// bandwidth), or under the default temporary directory.
func openAppend(b *testing.B) *os.File {
	b.Helper()
	dir := b.TempDir()
	if root := os.Getenv("TRACEMDC_BENCH_DIR"); root != "" {
		var err error
		if dir, err = os.MkdirTemp(root, "asyncwriter-bench"); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	f, err := os.OpenFile(filepath.Join(dir, "digest.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

func checkFile(b *testing.B, name string) {
	b.Helper()
	st, err := os.Stat(name)
	if err != nil {
		b.Fatal(err)
	}
	if want := int64(b.N) * int64(len(benchLine)); st.Size() != want {
		b.Fatalf("file has %d bytes, want %d", st.Size(), want)
	}
}

// slowSink sleeps 10 ms per Write, like a stalled disk.
type slowSink struct{ lines int }

func (s *slowSink) Write(p []byte) (int, error) {
	time.Sleep(10 * time.Millisecond)
	s.lines += bytes.Count(p, []byte{'\n'})
	return len(p), nil
}

// benchDiscardSlowSink measures what a producer pays when the destination stalls: with the
// Discard policy, Write must return at once whether the line is taken or dropped. It reports the
// 99th percentile of the per-Write latency.
func benchDiscardSlowSink(b *testing.B) {
	dst := &slowSink{}
	w := newRingWriter(b, dst, asyncwriter.WithPolicy(asyncwriter.Discard))
	lat := make([]int64, b.N)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchLine)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		_, err := w.Write(benchLine)
		lat[i] = int64(time.Since(t0))
		if err != nil && err != asyncwriter.ErrFull {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	st := w.Stats()
	if st.Accepted+st.Discarded != uint64(b.N) || st.Written != st.Accepted || uint64(dst.lines) != st.Written {
		b.Fatalf("lost lines: %+v, destination got %d, produced %d", st, dst.lines, b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100]), "p99-ns")
	b.ReportMetric(float64(st.Written)/float64(b.N), "delivered/op")
}
