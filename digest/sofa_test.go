package digest

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
)

// TestCSVSizes: SOFATracer's Spring MVC CSV encoder writes the two sizes with a B suffix (5B,7B), its
// HttpClient CSV encoder without; JSON lines write both as numbers. The http-server CSV line had no
// suffix before.
func TestCSVSizes(t *testing.T) {
	for _, c := range []struct {
		format  Format
		logType string
		kind    trace.Kind
		want    string // the sizes and what follows them
	}{
		{CSV, LogTypeHTTPServer, trace.KindServer, ",GET,5B,7B,,,\n"},
		{CSV, LogTypeHTTPClient, trace.KindClient, ",GET,5,7,inventory,,\n"},
		{JSON, LogTypeHTTPServer, trace.KindServer, `"req.size.bytes":5,"resp.size.bytes":7,"error":""`},
		{JSON, LogTypeHTTPClient, trace.KindClient, `"req.size.bytes":5,"resp.size.bytes":7,"remote.app":"inventory"`},
	} {
		t.Run(c.format.String()+"/"+c.logType, func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: c.format, Clock: fixedClock(), Location: time.UTC})
			tr := trace.New("sizes", trace.WithReporter(r))
			_, s := tr.Start(context.Background(), "GET /a", trace.WithLogType(c.logType), trace.WithKind(c.kind))
			s.SetTag("request.url", "http://h/a")
			s.SetTag("method", "GET")
			s.SetTagInt("req.size.bytes", 5)
			s.SetTagInt("resp.size.bytes", 7)
			s.SetTag("remote.app", "inventory")
			s.SetResultCode("200")
			s.Finish()
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, filepath.Join(dir, c.logType+"-digest.log"))
			if len(lines) != 1 || !strings.Contains(lines[0]+"\n", c.want) {
				t.Fatalf("lines %q, want one holding %q", lines, c.want)
			}
		})
	}
}

// TestMaxValueBytesKeepsIDs: a value limit never cuts the trace id, the span id or the span kind
// (MaxValueBytes: 3 wrote "traceId":"0ad...(truncated 27 bytes)" before); other values are still cut.
func TestMaxValueBytesKeepsIDs(t *testing.T) {
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, MaxValueBytes: 3, Location: time.UTC})
			tr := trace.New("app", trace.WithReporter(r), trace.WithIDGenerator(sofaIDs{}))
			ctx, root := tr.Start(context.Background(), "root")
			_, c1 := tr.Start(ctx, "c1")
			ctx2, c2 := tr.Start(ctx, "c2")
			_, c21 := tr.Start(ctx2, "c21", trace.WithLogType(LogTypeHTTPServer), trace.WithKind(trace.KindServer))
			c21.SetTag("request.url", "http://long/url")
			c21.SetTag("method", "GET")
			for _, s := range []*trace.Span{c21, c2, c1, root} {
				s.Finish()
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			var recs []*digestread.Record
			for _, f := range []string{"span-digest.log", "http-server-digest.log"} {
				for _, l := range readLines(t, filepath.Join(dir, f)) {
					rec, err := digestread.ParseLine([]byte(l), time.UTC)
					if err != nil {
						t.Fatalf("%v: %s", err, l)
					}
					recs = append(recs, rec)
				}
			}
			want := map[string]bool{"0": true, "0.1": true, "0.2": true, "0.2.1": true}
			for _, rec := range recs {
				if rec.TraceID != "0ad1348f1403169275002100356696" || !want[rec.SpanID] || len(rec.Kind) < 6 {
					t.Fatalf("ids cut: %s", rec.Raw)
				}
				delete(want, rec.SpanID)
				if rec.SpanID == "0.2.1" && rec.URL != "htt...(truncated 12 bytes)" {
					t.Fatalf("request.url %q not cut at 3 bytes", rec.URL)
				}
			}
			if len(want) != 0 {
				t.Fatalf("spans not read back: %v", want)
			}
		})
	}
}

// sofaIDs makes SOFA ids with a fixed trace id.
type sofaIDs struct{}

func (sofaIDs) TraceID() string    { return "0ad1348f1403169275002100356696" }
func (sofaIDs) RootSpanID() string { return "0" }
func (sofaIDs) ChildSpanID(parent string, n uint64) string {
	return parent + "." + strconv.FormatUint(n, 10)
}
