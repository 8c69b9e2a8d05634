package otlp

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/tracemdc/tracemdc/export"
)

// A digest.Reporter (used by the self-log tests) starts a lumberjack goroutine (Logger.millRun)
// that lumberjack never stops, not even on Close (see package rolling); the OTel SDK of the
// benchmark leaves none after Shutdown. Nothing else may outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// sink is an OTLP/HTTP server on 127.0.0.1 that decodes every request with the official types and
// keeps the resource spans. answer, when set, may answer instead (returning true).
type sink struct {
	srv      *httptest.Server
	mu       sync.Mutex
	reqs     []*collectorpb.ExportTraceServiceRequest
	headers  []http.Header
	requests atomic.Int64
	answer   func(n int64, w http.ResponseWriter, r *http.Request) bool
}

func newSink(t testing.TB, answer func(n int64, w http.ResponseWriter, r *http.Request) bool) *sink {
	t.Helper()
	s := &sink{answer: answer}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	n := s.requests.Add(1)
	if s.answer != nil && s.answer(n, w, r) {
		_, _ = io.Copy(io.Discard, r.Body)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := &collectorpb.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(b, req); err != nil || r.Header.Get("Content-Type") != ContentType {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.headers = append(s.headers, r.Header.Clone())
	s.mu.Unlock()
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", ContentType)
	_, _ = w.Write(out)
}

func (s *sink) url() string { return s.srv.URL + "/v1/traces" }

// spans returns every span received, with the service name of its resource.
func (s *sink) spans() (out []*tracepb.Span, services []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, req := range s.reqs {
		for _, rs := range req.ResourceSpans {
			svc := ""
			for _, a := range rs.GetResource().GetAttributes() {
				if a.Key == "service.name" {
					svc = a.GetValue().GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					out = append(out, sp)
					services = append(services, svc)
				}
			}
		}
	}
	return out, services
}

func newExporter(t testing.TB, opts ...export.Option) *export.Exporter {
	t.Helper()
	e, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// checkAccounting fails unless the closed exporter accounts for every span as want says.
func checkAccounting(t testing.TB, e *export.Exporter, want export.Stats) export.Stats {
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

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errs...)
}
