package digest

import (
	"context"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/trace"
)

// benchSpan is a finished http-server span as tracehttp makes it, with one biz baggage entry.
func benchSpan() *trace.FinishedSpan {
	tr := trace.New("bench-app")
	_, s := tr.Start(context.Background(), "GET /orders", trace.WithKind(trace.KindServer),
		trace.WithLogType(LogTypeHTTPServer))
	s.SetTag("request.url", "http://shop.example.com/orders/42")
	s.SetTag("method", "GET")
	s.SetTagInt("req.size.bytes", 0)
	s.SetTagInt("resp.size.bytes", 1234)
	s.SetResultCode("200")
	s.SetBaggageItem("user", "alice")
	s.Finish()
	return s.Record()
}

// BenchmarkEncode measures encoding one span into a reused buffer.
func BenchmarkEncode(b *testing.B) {
	rec := benchSpan()
	for _, bc := range []struct {
		name string
		csv  bool
		enc  Encoder
	}{
		{"json_http_server", false, httpServerEnc},
		{"csv_http_server", true, httpServerEnc},
		{"json_generic", false, genericEnc},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := lineEncoder{csv: bc.csv, limit: DefaultMaxValueBytes, loc: time.Local}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				e.buf = e.buf[:0]
				e.begin(rec, rec.ResultCode())
				bc.enc.EncodeFields(rec, &e)
				e.end(rec, bc.enc == httpServerEnc, false)
			}
			b.SetBytes(int64(len(e.buf)))
		})
	}
}

// BenchmarkPipeline measures starting and finishing an http-server span with a reporter writing
// real files in a temporary directory; the time includes New and Close (the drain).
func BenchmarkPipeline(b *testing.B) {
	for _, bc := range []struct {
		name   string
		policy Policy
	}{{"block", Block}, {"discard", Discard}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			r, err := New(Config{Root: b.TempDir(), Policy: bc.policy})
			if err != nil {
				b.Fatal(err)
			}
			tr := trace.New("bench-app", trace.WithReporter(r))
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, s := tr.Start(ctx, "GET /orders", trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeHTTPServer))
				s.SetTag("request.url", "http://shop.example.com/orders/42")
				s.SetTag("method", "GET")
				s.SetTagInt("req.size.bytes", 0)
				s.SetTagInt("resp.size.bytes", 1234)
				s.SetResultCode("200")
				s.Finish()
			}
			if err := r.Close(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			st := r.Stats()
			if st.Written+st.Discarded != uint64(b.N) {
				b.Fatalf("stats %+v for %d spans", st, b.N)
			}
			b.ReportMetric(float64(st.Discarded)/float64(b.N), "discarded/op")
		})
	}
}

// TestReportNoAlloc: handing a finished span to the queue allocates nothing.
func TestReportNoAlloc(t *testing.T) {
	r, _ := newReporter(t, Config{Policy: Block})
	rec := benchSpan()
	if a := testing.AllocsPerRun(1000, func() { r.Report(rec) }); a != 0 {
		t.Fatalf("Report: %v allocs", a)
	}
}
