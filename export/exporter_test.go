package export

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/trace"
)

func gzipReader(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }

func TestBatchBySize(t *testing.T) {
	sink := newZipkinSink(t, nil)
	// A delay far longer than the test: only the size sends batches before Close.
	e := newZipkin(t, sink.url(), WithBatch(10, time.Hour), WithPolicy(asyncwriter.Block))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 35, "op")
	e.Flush()
	spans, batches := sink.got()
	if len(spans) != 35 {
		t.Fatalf("%d spans exported, want 35", len(spans))
	}
	// Flush sends the last 5 at once; every other batch is full. The consumer may have sent a
	// full batch early only when it had 10 spans.
	for i, b := range batches[:len(batches)-1] {
		if len(b) != 10 {
			t.Errorf("batch %d has %d spans, want 10", i, len(b))
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, Stats{Spans: 35, Exported: 35})
}

func TestBatchByTime(t *testing.T) {
	sink := newZipkinSink(t, nil)
	e := newZipkin(t, sink.url(), WithBatch(1000, 20*time.Millisecond))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 3, "op")
	// No Flush, no Close: the batch delay alone must send them. Poll.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if spans, _ := sink.got(); len(spans) == 3 && e.Stats().Exported == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the batch delay did not send the spans")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st := e.Stats(); st.Exported != 3 || st.Batches != 1 {
		t.Errorf("stats %+v: want 3 spans exported in 1 batch", st)
	}
}

func TestUnsampledNotExported(t *testing.T) {
	sink := newZipkinSink(t, nil)
	e := newZipkin(t, sink.url())
	tr := trace.New("app", trace.WithReporter(e), trace.WithSampler(trace.NeverSample()))
	finish(tr, context.Background(), 4, "op")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkAccounting(t, e, Stats{})
	if st.Unsampled != 4 || sink.requests.Load() != 0 {
		t.Errorf("unsampled %d, requests %d: want 4 and 0", st.Unsampled, sink.requests.Load())
	}
}

// 503 (with Retry-After), 429 and 502 are retried until the backend takes the batch.
func TestRetryThenSuccess(t *testing.T) {
	codes := []int{http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway}
	sink := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if int(n) <= len(codes) {
			if n == 1 {
				w.Header().Set("Retry-After", "0")
			}
			http.Error(w, "busy", codes[n-1])
			return true
		}
		return false
	})
	log := &errorLog{}
	e := newZipkin(t, sink.url(), WithRetry(time.Millisecond, 10*time.Millisecond, time.Minute), WithErrorReporter(log))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 7, "op")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkAccounting(t, e, Stats{Spans: 7, Exported: 7})
	if st.Requests != 4 || st.Retries != 3 || st.Batches != 1 {
		t.Errorf("requests %d retries %d batches %d, want 4, 3, 1", st.Requests, st.Retries, st.Batches)
	}
	if errs := log.all(); len(errs) != 0 {
		t.Errorf("errors reported for a batch that got through: %v", errs)
	}
}

// A backend that is not there yet (connection refused) is retried until it is.
func TestRetryConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nobody listens: connection refused
	e := newZipkin(t, "http://"+addr, WithRetry(5*time.Millisecond, 20*time.Millisecond, time.Minute))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 5, "op")
	go e.Flush()
	// Wait for a refused attempt, then start the server on that address.
	for e.Stats().Requests < 2 {
		time.Sleep(time.Millisecond)
	}
	sink := newZipkinSink(t, nil)
	sink.srv.Close()
	l2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("address %s taken meanwhile: %v", addr, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(sink.serve)}
	go srv.Serve(l2)
	defer srv.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkAccounting(t, e, Stats{Spans: 5, Exported: 5})
	if st.Retries < 1 {
		t.Errorf("retries %d", st.Retries)
	}
	if spans, _ := sink.got(); len(spans) != 5 {
		t.Errorf("%d spans at the backend", len(spans))
	}
}

// A 400 is not retried: the batch fails, counted, and the error is reported with the backend's
// message.
func TestBadRequestFails(t *testing.T) {
	sink := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			http.Error(w, "bad span\x00\nsecond line", http.StatusBadRequest)
			return true
		}
		return false
	})
	log := &errorLog{}
	e := newZipkin(t, sink.url(), WithErrorReporter(log), WithBatch(4, time.Hour))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 4, "first") // one batch: refused
	e.Flush()
	finish(tr, context.Background(), 2, "second")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkAccounting(t, e, Stats{Spans: 6, Exported: 2, Failed: 4})
	if st.Requests != 2 || st.Retries != 0 {
		t.Errorf("requests %d retries %d: a 400 is not retried", st.Requests, st.Retries)
	}
	errs := log.all()
	if len(errs) != 2 {
		t.Fatalf("%d errors reported, want the batch's and the totals: %v", len(errs), errs)
	}
	checkTotals(t, errs[1], e, "export: 4 of 6 spans not exported: POST "+e.Endpoint()+": 2 exported, 0 dropped, 4 failed")
	got := errs[0]
	if got.Op != "deliver" || got.Status != 400 || got.Spans != 4 || got.Attempts != 1 {
		t.Errorf("error %+v", got)
	}
	msg := got.Error()
	if !strings.Contains(msg, "4 spans failed") || !strings.Contains(msg, "400 Bad Request: bad span") || strings.ContainsAny(msg, "\n\x00") {
		t.Errorf("message %q", msg)
	}
}

// Retries stop when their total time would pass the bound; the batch fails.
func TestRetriesBounded(t *testing.T) {
	sink := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return true
	})
	log := &errorLog{}
	e := newZipkin(t, sink.url(), WithRetry(time.Millisecond, 4*time.Millisecond, 300*time.Millisecond), WithErrorReporter(log))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 3, "op")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := checkAccounting(t, e, Stats{Spans: 3, Failed: 3})
	if st.Retries < 2 {
		t.Errorf("retries %d: want several within 300ms", st.Retries)
	}
	errs := log.all()
	if len(errs) != 2 || errs[0].Status != 503 || !strings.Contains(errs[0].Msg, "retries used up") {
		t.Fatalf("errors %v", errs)
	}
	checkTotals(t, errs[1], e, "export: 3 of 3 spans not exported: POST "+e.Endpoint()+": 0 exported, 0 dropped, 3 failed")
}

// Discard under a stalled backend: Report never waits; what does not fit is dropped and counted;
// Close gives up at its deadline and says how many spans were lost. Exact accounting throughout.
func TestDiscardStalledBackend(t *testing.T) {
	sink := newStalledSink(t)
	log := &errorLog{}
	e := newZipkin(t, sink.url(), WithQueueCapacity(16), WithBatch(4, time.Hour), WithErrorReporter(log),
		WithCloseTimeout(100*time.Millisecond))
	tr := trace.New("app", trace.WithReporter(e))
	done := make(chan struct{})
	go func() {
		defer close(done)
		finish(tr, context.Background(), 1000, "op")
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatal("Report blocked behind a stalled backend under the Discard policy")
	}
	err := e.Close()
	var ce *Error
	if !errors.As(err, &ce) || ce.Op != "close" {
		t.Fatalf("Close: %v, want an *Error of op close", err)
	}
	st := e.Stats()
	if st.Spans != 1000 || st.Exported != 0 || st.Spans != st.Dropped+st.Failed {
		t.Fatalf("stats %+v: want 1000 spans, none exported, all dropped or failed", st)
	}
	// At most the queue and one batch were held; the batch being sent was cut off.
	if st.Failed != 4 || st.Dropped != 996 {
		t.Errorf("failed %d dropped %d, want 4 and 996", st.Failed, st.Dropped)
	}
	if ce.Spans == 0 || uint64(ce.Spans) > st.Spans {
		t.Errorf("close error counts %d spans", ce.Spans)
	}
	var dropped uint64
	for _, x := range log.all() {
		if x.Op == "drop" {
			dropped += uint64(x.Spans)
		}
	}
	if dropped != st.Dropped {
		t.Errorf("drop reports add up to %d, Stats.Dropped %d", dropped, st.Dropped)
	}
	all := log.all()
	checkTotals(t, all[len(all)-1], e, fmt.Sprintf("export: 1000 of 1000 spans not exported: POST %s: 0 exported, %d dropped, %d failed",
		e.Endpoint(), st.Dropped, st.Failed))
	// After Close, spans are dropped and counted.
	finish(tr, context.Background(), 2, "late")
	if st2 := e.Stats(); st2.Dropped != st.Dropped+2 || st2.Spans != 1002 {
		t.Errorf("after Close: %+v", st2)
	}
}

// Block holds the caller while the queue is full and loses nothing.
func TestBlockLosesNothing(t *testing.T) {
	var mu sync.Mutex
	slow := true
	sink := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		s := slow
		mu.Unlock()
		if s {
			time.Sleep(time.Millisecond)
		}
		return false
	})
	e := newZipkin(t, sink.url(), WithQueueCapacity(8), WithBatch(3, time.Millisecond), WithPolicy(asyncwriter.Block))
	tr := trace.New("app", trace.WithReporter(e))
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			finish(tr, context.Background(), 250, "op")
		}()
	}
	wg.Wait()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, Stats{Spans: 1000, Exported: 1000})
	if spans, _ := sink.got(); len(spans) != 1000 {
		t.Errorf("%d spans at the backend", len(spans))
	}
}

func TestGzipAndHeaders(t *testing.T) {
	sink := newZipkinSink(t, nil)
	e := newZipkin(t, sink.url(), WithCompression(Gzip), WithHeaders(map[string]string{"X-Api-Key": "k1"}))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 3, "op")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, Stats{Spans: 3, Exported: 3})
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.headers) != 1 {
		t.Fatalf("%d requests", len(sink.headers))
	}
	h := sink.headers[0]
	if h.Get("Content-Encoding") != "gzip" || h.Get("X-Api-Key") != "k1" || h.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", h)
	}
}

// A panicking encoder fails its batch, counted and reported; the exporter goes on.
func TestEncoderPanic(t *testing.T) {
	sink := newZipkinSink(t, nil)
	log := &errorLog{}
	enc := &panicky{Encoder: &zipkinEncoder{}}
	e, err := New(enc, WithEndpointURL(sink.url()+zipkinPath), WithErrorReporter(log), WithBatch(2, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 2, "boom")
	finish(tr, context.Background(), 2, "fine")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, Stats{Spans: 4, Exported: 2, Failed: 2})
	errs := log.all()
	if len(errs) != 2 || errs[0].Op != "encode" || !strings.Contains(errs[0].Msg, "panicked") {
		t.Fatalf("errors %v", errs)
	}
	checkTotals(t, errs[1], e, "export: 2 of 4 spans not exported: POST "+e.Endpoint()+": 2 exported, 0 dropped, 2 failed")
}

type panicky struct{ Encoder }

func (p *panicky) Encode(dst []byte, spans []*trace.FinishedSpan) ([]byte, error) {
	if spans[0].Operation() == "boom" {
		panic("boom")
	}
	return p.Encoder.Encode(dst, spans)
}

func TestOptionErrors(t *testing.T) {
	_, err := New(&zipkinEncoder{}, WithEndpointURL("ftp://x"), WithBatch(0, 0), WithQueueCapacity(-1),
		WithRetry(time.Second, time.Millisecond, 0), WithHeaders(map[string]string{"Bad Name": "v", "X-Ok": "a\nb"}),
		WithPolicy(asyncwriter.Policy(9)), WithTimeout(-1), WithCloseTimeout(0))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"endpoint URL", "batch size", "batch delay", "queue capacity", "retry", "header name", "X-Ok", "policy", "timeout", "close timeout"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %q: %v", want, err)
		}
	}
	if _, err := New(nil); err == nil {
		t.Error("nil encoder accepted")
	}
	if _, err := New(&zipkinEncoder{}); err == nil || !strings.Contains(err.Error(), "no endpoint") {
		t.Errorf("no endpoint: %v", err)
	}
}

func TestZipkinEnv(t *testing.T) {
	t.Setenv(EnvZipkinEndpoint, "http://zipkin.example:9411")
	t.Setenv(EnvZipkinTimeout, "2500")
	e, err := NewZipkin()
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Endpoint() != "http://zipkin.example:9411/api/v2/spans" || e.cfg.timeout != 2500*time.Millisecond {
		t.Errorf("endpoint %s timeout %v", e.Endpoint(), e.cfg.timeout)
	}
	// An option wins over the environment; a URL with a path is kept as it is.
	e2, err := NewZipkin(WithEndpointURL("http://127.0.0.1:1/custom/spans"), WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if e2.Endpoint() != "http://127.0.0.1:1/custom/spans" || e2.cfg.timeout != time.Second {
		t.Errorf("endpoint %s timeout %v", e2.Endpoint(), e2.cfg.timeout)
	}
	t.Setenv(EnvZipkinTimeout, "soon")
	if _, err := NewZipkin(); err == nil || !strings.Contains(err.Error(), EnvZipkinTimeout) {
		t.Errorf("bad timeout: %v", err)
	}
}

// A tick of the batch delay that finds the queue full must not be lost: the spans batched after the
// backend recovers are sent by the delay alone, with no Flush, Close or further spans. (Before, the
// lost tick left the timer marked as armed and the last partial batch waited forever.)
func TestBatchDelayAfterFullQueue(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(release) }) }
	defer open()
	sink := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		<-release
		return false
	})
	const delay = 100 * time.Millisecond
	e := newZipkin(t, sink.url(), WithQueueCapacity(16), WithBatch(1000, delay))
	tr := trace.New("app", trace.WithReporter(e))
	// The first span arms the batch delay's timer. Flush sends it (the backend holds the request), a
	// second Flush's batch waits for the sender, a third Flush holds the goroutine handing over.
	var flushes sync.WaitGroup
	flush := func() {
		flushes.Add(1)
		go func() { defer flushes.Done(); e.Flush() }()
	}
	finish(tr, context.Background(), 1, "op")
	flush()
	for e.Stats().Requests < 1 {
		time.Sleep(time.Millisecond)
	}
	finish(tr, context.Background(), 1, "op")
	flush()
	for len(e.sendq) < 1 {
		time.Sleep(time.Millisecond)
	}
	flush()
	// Keep the queue full while the goroutine is held, until the tick has come and found it full.
	for end := time.Now().Add(3 * delay); time.Now().Before(end); time.Sleep(time.Millisecond) {
		finish(tr, context.Background(), 1, "fill")
	}
	open()
	flushes.Wait()
	// What was queued is batched now; only the batch delay can send it.
	deadline := time.Now().Add(10 * time.Second)
	for e.Stats().Pending() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: %d spans never sent by the batch delay", e.Stats(), e.Stats().Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	st := e.Stats()
	checkAccounting(t, e, Stats{Spans: st.Spans, Exported: st.Spans - st.Dropped, Dropped: st.Dropped})
}

// An endpoint URL with user info authenticates the requests (basic authentication) and is shown
// without the credentials in errors, Endpoint and the self log's totals; so is a bad URL in New's
// error.
func TestEndpointCredentialsNotShown(t *testing.T) {
	var user, pass atomic.Value
	sink := newZipkinSink(t, func(n int64, w http.ResponseWriter, r *http.Request) bool {
		u, p, _ := r.BasicAuth()
		user.Store(u)
		pass.Store(p)
		http.Error(w, "refused", http.StatusBadRequest)
		return true
	})
	withCreds := strings.Replace(sink.url(), "http://", "http://alice:s3cret@", 1)
	log := &errorLog{}
	e := newZipkin(t, withCreds, WithErrorReporter(log))
	tr := trace.New("app", trace.WithReporter(e))
	finish(tr, context.Background(), 2, "op")
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	checkAccounting(t, e, Stats{Spans: 2, Failed: 2})
	if user.Load() != "alice" || pass.Load() != "s3cret" {
		t.Errorf("basic auth %v:%v, want the URL's", user.Load(), pass.Load())
	}
	errs := log.all()
	if len(errs) != 2 || e.Endpoint() != strings.Replace(sink.url(), "http://", "http://xxxxx@", 1)+zipkinPath {
		t.Fatalf("endpoint %s, errors %v", e.Endpoint(), errs)
	}
	for _, err := range errs {
		if msg := err.Error(); strings.Contains(msg, "s3cret") || strings.Contains(msg, "alice") || !strings.Contains(msg, "xxxxx@") {
			t.Errorf("error shows the credentials or no endpoint: %s", msg)
		}
	}
	for _, bad := range []string{"ftp://alice:s3cret@host/x", "http://alice:s3cret@host:port/x"} {
		if _, err := New(&zipkinEncoder{}, WithEndpointURL(bad)); err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%s): %v", bad, err)
		}
	}
}
