package export

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/trace"
)

// A digest.Reporter (used by the both-at-once tests) starts a lumberjack goroutine (Logger.millRun)
// that lumberjack never stops, not even on Close (see package rolling): it is the only goroutine
// allowed to outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// zipkinSink is a Zipkin server on 127.0.0.1 that decodes every batch and keeps its spans. Its
// answer is decided by the test's answer function (nil: 202).
type zipkinSink struct {
	srv      *httptest.Server
	mu       sync.Mutex
	spans    []zipkinSpan
	batches  [][]zipkinSpan
	headers  []http.Header
	requests atomic.Int64
	answer   func(n int64, w http.ResponseWriter, r *http.Request) bool // true: answered, keep nothing
}

func newZipkinSink(t testing.TB, answer func(n int64, w http.ResponseWriter, r *http.Request) bool) *zipkinSink {
	t.Helper()
	s := &zipkinSink{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *zipkinSink) serve(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	if s.answer != nil && s.answer(n, w, r) {
		_, _ = io.Copy(io.Discard, r.Body)
		return
	}
	if r.URL.Path != zipkinPath || r.Method != http.MethodPost {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzipReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	var batch []zipkinSpan
	if err := json.NewDecoder(body).Decode(&batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.spans = append(s.spans, batch...)
	s.batches = append(s.batches, batch)
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	w.WriteHeader(http.StatusAccepted)
}

func (s *zipkinSink) got() ([]zipkinSpan, [][]zipkinSpan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]zipkinSpan(nil), s.spans...), append([][]zipkinSpan(nil), s.batches...)
}

// newStalledSink is a Zipkin server that answers no request until the test ends (or the client
// gives up).
func newStalledSink(t testing.TB) *zipkinSink {
	t.Helper()
	release := make(chan struct{})
	s := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return false
	})
	t.Cleanup(func() { close(release) }) // before the server's Close, registered earlier
	return s
}

// url is the sink's base URL: NewZipkin appends /api/v2/spans.
func (s *zipkinSink) url() string { return s.srv.URL }

// newZipkin makes an exporter to url and closes it when the test ends.
func newZipkin(t testing.TB, url string, opts ...Option) *Exporter {
	t.Helper()
	e, err := NewZipkin(append([]Option{WithEndpointURL(url)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// checkAccounting fails unless the exporter, closed, accounts for every span exactly.
func checkAccounting(t testing.TB, e *Exporter, want Stats) Stats {
	t.Helper()
	st := e.Stats()
	if st.Spans != st.Exported+st.Dropped+st.Failed {
		t.Errorf("accounting: spans %d != exported %d + dropped %d + failed %d", st.Spans, st.Exported, st.Dropped, st.Failed)
	}
	if st.Spans != want.Spans || st.Exported != want.Exported || st.Dropped != want.Dropped || st.Failed != want.Failed {
		t.Errorf("stats %+v, want spans %d exported %d dropped %d failed %d", st, want.Spans, want.Exported, want.Dropped, want.Failed)
	}
	return st
}

// errorLog is a trace.ErrorReporter keeping what it gets.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (l *errorLog) ReportError(err error) {
	l.mu.Lock()
	l.errs = append(l.errs, err)
	l.mu.Unlock()
}

func (l *errorLog) all() []*Error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*Error
	for _, err := range l.errs {
		if e, ok := err.(*Error); ok {
			out = append(out, e)
		}
	}
	return out
}

// finish starts and finishes n spans of tr under parent (a new root when parent is nil).
func finish(tr *trace.Tracer, ctx context.Context, n int, op string) {
	for i := 0; i < n; i++ {
		_, s := tr.Start(ctx, op)
		s.Finish()
	}
}

// checkTotals fails unless err is the totals report Close makes, saying want.
func checkTotals(t testing.TB, err *Error, e *Exporter, want string) {
	t.Helper()
	st := e.Stats()
	if err.Op != "totals" || err.Error() != want || uint64(err.Spans) != st.Dropped+st.Failed || err.Total != st.Spans {
		t.Errorf("totals %+v: %q, want %q", err, err.Error(), want)
	}
}
