package digest

import (
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/rolling"
	"github.com/tracemdc/tracemdc/trace"
)

// countingFile counts the Write calls made to a log file.
type countingFile struct {
	io.WriteCloser
	writes *atomic.Int64
}

func (f countingFile) Write(p []byte) (int, error) {
	f.writes.Add(1)
	return f.WriteCloser.Write(p)
}

// TestWaitBatched: spans reported one at a time, 50 µs apart, reach the digest file without Flush,
// with either Wait; with Batched (the default) in at most half as many writes as spans, since the
// consumer sleeps between looks and writes what came meanwhile as one batch. (Prompt's count
// depends on how soon the woken consumer gets a processor: on an idle machine about one write per
// span, on a busy one far fewer; asyncwriter's TestBackoffBatches compares the two strategies.)
func TestWaitBatched(t *testing.T) {
	const n = 200
	for _, w := range []Wait{Batched, Prompt} {
		t.Run(w.String(), func(t *testing.T) {
			var writes atomic.Int64
			cfg := Config{Wait: w}
			cfg.openFile = func(rc rolling.Config) (io.WriteCloser, error) {
				f, err := rolling.New(rc)
				if err != nil || !strings.HasSuffix(rc.Filename, "http-server-digest.log") {
					return f, err
				}
				return countingFile{f, &writes}, nil
			}
			r, dir := newReporter(t, cfg)
			tr := trace.New("quiet", trace.WithReporter(r))
			for i := 0; i < n; i++ {
				httpSpan(tr, "http://quiet/"+strconv.Itoa(i), "200")
				for t0 := time.Now(); time.Since(t0) < 50*time.Microsecond; {
				}
			}
			// No Flush: the lines reach the file by themselves.
			path := filepath.Join(dir, "http-server-digest.log")
			deadline := time.Now().Add(20 * time.Second)
			for len(readLines(t, path)) != n {
				if time.Now().After(deadline) {
					t.Fatalf("%d of %d lines in the file after 20 s without Flush", len(readLines(t, path)), n)
				}
				time.Sleep(time.Millisecond)
			}
			if got := writes.Load(); w == Batched && got > n/2 {
				t.Errorf("%d spans written in %d writes, want at most %d", n, got, n/2)
			}
			t.Logf("%s: %d spans in %d writes", w, n, writes.Load())
		})
	}
}
