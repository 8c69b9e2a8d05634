package export

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
)

func newDigest(t testing.TB) (*digest.Reporter, string) {
	t.Helper()
	root := t.TempDir()
	r, err := digest.New(digest.Config{Root: root, Policy: digest.Block, StatInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, layout.DigestDir(root)
}

func countLines(t testing.TB, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// Both at once: one tracer with three reporters, the digest files, a reporter that panics on every
// span and an exporter whose backend has stalled. Finish never waits for the backend (Discard), the
// panics are recovered and counted, and every span still gets its digest line; the exporter's drops
// and its given-up batch are counted exactly and written to tracer-self.log by the digest reporter.
func TestBothAtOnceStalledAndPanicking(t *testing.T) {
	sink := newStalledSink(t)
	dr, dir := newDigest(t)
	e := newZipkin(t, sink.url(), WithQueueCapacity(64), WithBatch(8, time.Hour), WithErrorReporter(dr),
		WithCloseTimeout(100*time.Millisecond))
	panicky := trace.ReporterFunc(func(*trace.FinishedSpan) { panic("reporter bug") })
	tr := trace.New("shop", trace.WithReporter(dr), trace.WithReporter(panicky), trace.WithReporter(e))

	const n = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			_, s := tr.Start(context.Background(), "order", trace.WithLogType("orders"))
			s.Finish()
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Finish waited for a stalled backend")
	}
	if err := e.Close(); err == nil {
		t.Error("Close of a stalled exporter returned no error")
	}
	st := e.Stats()
	if st.Spans != n || st.Exported != 0 || st.Dropped+st.Failed != n {
		t.Errorf("exporter stats %+v: want %d spans, all dropped or failed", st, n)
	}
	if ts := tr.Stats(); ts.ReporterPanics != n {
		t.Errorf("reporter panics %d, want %d", ts.ReporterPanics, n)
	}
	if err := dr.Close(); err != nil {
		t.Fatal(err)
	}
	if got := countLines(t, filepath.Join(dir, "orders"+layout.DigestSuffix)); got != n {
		t.Errorf("%d digest lines, want %d", got, n)
	}
	self, err := os.ReadFile(filepath.Join(dir, layout.SelfLogName))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"dropped: POST " + e.Endpoint() + ": queue full (discard policy)",
		"dropped: POST " + e.Endpoint() + ": still queued when Close gave up", "failed: POST " + e.Endpoint() + ": cut off by Close",
		"not exported at close", "reporter bug"} {
		if !bytes.Contains(self, []byte(want)) {
			t.Errorf("tracer-self.log lacks %q:\n%s", want, self)
		}
	}
}

// A batch the backend refuses (400) is counted as failed and written to tracer-self.log with the
// backend's answer.
func TestBadRequestSelfLogged(t *testing.T) {
	sink := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, `{"error":"invalid span: \"id\" missing"}`, http.StatusBadRequest)
		return true
	})
	dr, dir := newDigest(t)
	e := newZipkin(t, sink.url(), WithErrorReporter(dr))
	tr := trace.New("shop", trace.WithReporter(dr), trace.WithReporter(e))
	finish(tr, context.Background(), 3, "op")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, Stats{Spans: 3, Failed: 3})
	if err := dr.Close(); err != nil {
		t.Fatal(err)
	}
	self, err := os.ReadFile(filepath.Join(dir, layout.SelfLogName))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(self)), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "[WARN]") ||
		!strings.HasSuffix(lines[0], `export: 3 spans failed: POST `+e.Endpoint()+`: 400 Bad Request: {"error":"invalid span: \"id\" missing"}`) ||
		!strings.HasSuffix(lines[1], "export: 3 of 3 spans not exported: POST "+e.Endpoint()+": 0 exported, 0 dropped, 3 failed") {
		t.Errorf("tracer-self.log:\n%s", self)
	}
}
