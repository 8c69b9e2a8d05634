package bench

import (
	"bytes"
	"io"
	"log"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog/diode"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/asyncwriter"
)

// asyncLine is a 200-byte line.
var asyncLine = append(bytes.Repeat([]byte("x"), 199), '\n')

// asyncSink is io.Discard counting lines; it is safe for the peers' goroutines.
type asyncSink struct{ lines atomic.Int64 }

func (s *asyncSink) Write(p []byte) (int, error) {
	s.lines.Add(int64(bytes.Count(p, []byte{'\n'})))
	return len(p), nil
}

// asyncProduce writes b.N lines from two goroutines; the caller drains inside the timed region.
func asyncProduce(b *testing.B, w io.Writer) {
	b.ReportAllocs()
	b.SetBytes(int64(len(asyncLine)))
	b.ResetTimer()
	var wg sync.WaitGroup
	for p := 0; p < 2; p++ {
		n := b.N / 2
		if p == 0 {
			n += b.N % 2
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < n; i++ {
				_, _ = w.Write(asyncLine)
			}
		}()
	}
	wg.Wait()
}

// BenchmarkAsync compares async line writers with two producers and 200-byte lines, the time
// including the drain at the end: tracemdc's asyncwriter (Block policy: no line lost), zerolog's
// diode in waiter mode (drops lines it cannot keep up with: delivered/op shows how many arrived),
// and zap's BufferedWriteSyncer (synchronous buffering under a mutex).
func BenchmarkAsync(b *testing.B) {
	b.Run("tracemdc", func(b *testing.B) {
		dst := &asyncSink{}
		w, err := asyncwriter.NewWriter(dst)
		if err != nil {
			b.Fatal(err)
		}
		asyncProduce(b, w)
		_ = w.Close()
		b.StopTimer()
		if got := dst.lines.Load(); got != int64(b.N) {
			b.Fatalf("delivered %d of %d", got, b.N)
		}
		b.ReportMetric(float64(dst.lines.Load())/float64(b.N), "delivered/op")
	})
	b.Run("zerolog_diode", func(b *testing.B) {
		dst := &asyncSink{}
		var missed atomic.Int64
		// The diode logs every collision through the standard logger: silence it meanwhile.
		defer log.SetOutput(log.Writer())
		log.SetOutput(io.Discard)
		w := diode.NewWriter(dst, 1024, 0, func(n int) { missed.Add(int64(n)) })
		asyncProduce(b, w)
		// The diode's Close drops what is still queued: wait until every line is delivered or
		// known missed, or until no progress is seen for 2 ms (missed lines at the tail are
		// never reported).
		last, since := int64(-1), time.Now()
		for {
			got := dst.lines.Load() + missed.Load()
			if got >= int64(b.N) {
				break
			}
			if got != last {
				last, since = got, time.Now()
			} else if time.Since(since) > 2*time.Millisecond {
				break
			}
			runtime.Gosched()
		}
		_ = w.Close()
		b.StopTimer()
		b.ReportMetric(float64(dst.lines.Load())/float64(b.N), "delivered/op")
	})
	b.Run("zap_buffered", func(b *testing.B) {
		dst := &asyncSink{}
		w := &zapcore.BufferedWriteSyncer{WS: zapcore.AddSync(dst)}
		asyncProduce(b, w)
		_ = w.Stop()
		b.StopTimer()
		if got := dst.lines.Load(); got != int64(b.N) {
			b.Fatalf("delivered %d of %d", got, b.N)
		}
		b.ReportMetric(float64(dst.lines.Load())/float64(b.N), "delivered/op")
	})
}
