package digest

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
