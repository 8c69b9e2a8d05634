package tracehttp_test

import (
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// recorder keeps every finished span and every error the tracer reports.
type recorder struct {
	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every new span
	spans   []*trace.FinishedSpan
	errs    []error
}

func (r *recorder) Report(s *trace.FinishedSpan) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	if r.changed != nil {
		close(r.changed)
		r.changed = nil
	}
	r.mu.Unlock()
}

// waitSpans blocks until n spans are reported (the test's own deadline bounds it) and returns them.
func (r *recorder) waitSpans(n int) []*trace.FinishedSpan {
	for {
		r.mu.Lock()
		if len(r.spans) >= n {
			s := append([]*trace.FinishedSpan(nil), r.spans...)
			r.mu.Unlock()
			return s
		}
		if r.changed == nil {
			r.changed = make(chan struct{})
		}
		ch := r.changed
		r.mu.Unlock()
		<-ch
	}
}

func (r *recorder) ReportError(err error) {
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (r *recorder) Spans() []*trace.FinishedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*trace.FinishedSpan(nil), r.spans...)
}

func (r *recorder) Errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func (r *recorder) only(t *testing.T) *trace.FinishedSpan {
	t.Helper()
	s := r.Spans()
	if len(s) != 1 {
		t.Fatalf("got %d spans, want 1", len(s))
	}
	return s[0]
}

func newTracer(app string, opts ...trace.Option) (*trace.Tracer, *recorder) {
	rec := &recorder{}
	return trace.New(app, append([]trace.Option{trace.WithReporter(rec)}, opts...)...), rec
}

func tag(t *testing.T, s *trace.FinishedSpan, key string) string {
	t.Helper()
	v, ok := s.Tag(key)
	if !ok {
		t.Fatalf("span %s has no tag %q", s.SpanID(), key)
	}
	return v.String()
}

func hasTag(s *trace.FinishedSpan, key string) bool {
	_, ok := s.Tag(key)
	return ok
}
