package digest

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
)

// TestHTTPClientFailure: an HTTP client span whose request got no response (it has an error and no
// status, as tracehttp's Transport leaves it after a transport error) is written with result.code
// "99", counted with success "N", selected by tracetail's -errors filter, and its error text is the
// error key of the JSON line (after SOFA's fields). The CSV line keeps SOFA's http-client columns,
// exactly. A client span that got a response has no error key; an answered call whose body read
// failed keeps its status as result code and shows the error text.
func TestHTTPClientFailure(t *testing.T) {
	jsonClientOrder := slices.Concat(layout.Common, layout.HTTPClientFields,
		[]string{layout.FieldSysBaggage, layout.FieldBizBaggage})
	for _, format := range []Format{JSON, CSV} {
		t.Run(format.String(), func(t *testing.T) {
			r, dir := newReporter(t, Config{Format: format, Clock: fixedClock(), Location: time.UTC})
			tr := trace.New("cf", trace.WithReporter(r))
			t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
			span := func(url, code string, err error, errTag string) {
				_, s := tr.Start(context.Background(), "call", trace.WithLogType(LogTypeHTTPClient),
					trace.WithKind(trace.KindClient), trace.WithStartTime(t0))
				s.SetTag("request.url", url)
				s.SetTag("method", "GET")
				s.SetTagInt("req.size.bytes", 0)
				s.SetTagInt("resp.size.bytes", 0)
				s.SetTag("remote.app", "inventory")
				if errTag != "" {
					s.SetTag("error", errTag)
				}
				if code != "" {
					s.SetResultCode(code)
				}
				s.SetError(err)
				s.FinishAt(t0.Add(3 * time.Millisecond))
			}
			span("http://down/refused", "", errors.New(`dial tcp 127.0.0.1:1: connect: connection refused`), "")
			span("http://down/tagged", "", errors.New("raw"), "context deadline exceeded, \"quoted\"\nline")
			span("http://up/ok", "200", nil, "")
			span("http://up/cut", "200", errors.New("unexpected EOF"), "")
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, filepath.Join(dir, "http-client-digest.log"))
			if len(lines) != 4 {
				t.Fatalf("%d digest lines, want 4:\n%s", len(lines), strings.Join(lines, "\n"))
			}
			type want struct {
				code, errText string
				listed        bool // by tracetail -errors
			}
			wants := []want{
				{"99", "dial tcp 127.0.0.1:1: connect: connection refused", true},
				{"99", "context deadline exceeded, \"quoted\"\nline", true},
				{"200", "", false},
				{"200", "unexpected EOF", false},
			}
			errorsOnly := &digestread.Filter{Errors: true}
			for i, l := range lines {
				rec, err := digestread.ParseLine([]byte(l), time.UTC)
				if err != nil {
					t.Fatalf("line %d: %v\n%s", i, err, l)
				}
				w := wants[i]
				if rec.ResultCode != w.code {
					t.Errorf("line %d: result.code %q, want %q\n%s", i, rec.ResultCode, w.code, l)
				}
				if got := errorsOnly.Match(rec); got != w.listed {
					t.Errorf("line %d: -errors selects it: %v, want %v", i, got, w.listed)
				}
				keys := fieldKeys(rec.Fields)
				got, hasErr := rec.Get(layout.FieldError)
				if format == CSV {
					// SOFA's columns, positionally: no error column, whatever the span holds.
					if !slices.Equal(keys, jsonClientOrder) || hasErr {
						t.Errorf("line %d: CSV columns %q, want %q", i, keys, jsonClientOrder)
					}
					continue
				}
				wantKeys := jsonClientOrder
				if w.errText != "" {
					wantKeys = slices.Insert(slices.Clone(jsonClientOrder), len(jsonClientOrder)-2, layout.FieldError)
				}
				if !slices.Equal(keys, wantKeys) {
					t.Errorf("line %d: keys %q, want %q", i, keys, wantKeys)
				}
				if got != w.errText {
					t.Errorf("line %d: error %q, want %q", i, got, w.errText)
				}
			}
			stat := readLines(t, filepath.Join(dir, "http-client-stat.log"))
			var refused, ok, cut bool
			for _, s := range stat {
				switch {
				case strings.Contains(s, "refused"):
					refused = strings.Contains(s, `"success":"N"`) || strings.HasSuffix(s, ",N,F")
				case strings.Contains(s, "/ok"):
					ok = strings.Contains(s, `"success":"Y"`) || strings.HasSuffix(s, ",Y,F")
				case strings.Contains(s, "/cut"):
					cut = strings.Contains(s, `"success":"Y"`) || strings.HasSuffix(s, ",Y,F")
				}
			}
			if len(stat) != 4 || !refused || !ok || !cut {
				t.Fatalf("client stat lines:\n%s", strings.Join(stat, "\n"))
			}
		})
	}
}
