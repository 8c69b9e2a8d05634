package digest

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/trace"
)

// TestRoundTrip: lines written by the reporter are read back by digestread.ParseLine with the same
// fields and values, in JSON and in CSV, hostile values included (the values a reader gets are the
// written ones with invalid UTF-8 replaced and long values cut with the marker).
func TestRoundTrip(t *testing.T) {
	values := append([]string{"plain", "", "a%2Cb%25c", "100%", "k=v&x"}, hostile...)
	for _, format := range []Format{JSON, CSV} {
		for _, lt := range []string{LogTypeHTTPServer, LogTypeHTTPClient, "rpc"} {
			t.Run(format.String()+"/"+lt, func(t *testing.T) {
				const limit = 1000
				r, dir := newReporter(t, Config{Format: format, Policy: Block, MaxValueBytes: limit, Location: time.UTC})
				tr := trace.New("rt\n,app", trace.WithReporter(r), trace.WithBaggageLimits(1<<20, 1<<20))
				t0 := time.Date(2024, 5, 1, 23, 59, 59, 987_000_000, time.UTC)
				var want [][]digestread.Field
				for i, v := range values {
					kind := trace.KindServer
					switch lt {
					case LogTypeHTTPClient:
						kind = trace.KindClient
					case "rpc":
						// a local span: a server span with the HTTP tags would get the HTTP layout
						kind = trace.KindInternal
					}
					_, s := tr.Start(context.Background(), v, trace.WithLogType(lt), trace.WithKind(kind), trace.WithStartTime(t0))
					s.SetTag("request.url", v)
					s.SetTag("method", v)
					s.SetTagInt("req.size.bytes", int64(i))
					s.SetTagInt("resp.size.bytes", -1)
					s.SetTag("error", v)
					s.SetTag("remote.app", v)
					s.SetResultCode(v)
					bv := v[:min(len(v), 200)]
					s.SetBaggageItem("b%&=", bv)
					s.SetSysBaggageItem("s", bv)
					s.FinishAt(t0.Add(time.Duration(i) * time.Millisecond))
					rec := s.Record()
					code := expectValue(v, limit)
					if v == "" && lt != LogTypeHTTPServer && lt != LogTypeHTTPClient {
						code = "00" // no code and no error: success (see resultCode)
					}
					f := []digestread.Field{
						{Key: layout.FieldTime, Value: rec.End().Format(layout.TimeLayout)},
						{Key: layout.FieldLocalApp, Value: "rt\n,app"},
						{Key: layout.FieldTraceID, Value: rec.TraceID()},
						{Key: layout.FieldSpanID, Value: "0"},
						{Key: layout.FieldSpanKind, Value: kind.String()},
						{Key: layout.FieldResultCode, Value: code},
						{Key: layout.FieldThreadName, Value: DefaultThreadName},
						{Key: layout.FieldCost, Value: strconv.Itoa(i) + "ms"},
					}
					ev := expectValue(v, limit)
					switch lt {
					case LogTypeHTTPServer, LogTypeHTTPClient:
						unit := "" // SOFA's Spring MVC CSV layout writes 5B; its HttpClient layout 5
						if format == CSV && lt == LogTypeHTTPServer {
							unit = layout.SizeSuffix
						}
						f = append(f, digestread.Field{Key: layout.FieldRequestURL, Value: ev},
							digestread.Field{Key: layout.FieldMethod, Value: ev},
							digestread.Field{Key: layout.FieldReqSize, Value: strconv.Itoa(i) + unit},
							digestread.Field{Key: layout.FieldRespSize, Value: "-1" + unit})
						if lt == LogTypeHTTPServer {
							f = append(f, digestread.Field{Key: layout.FieldError, Value: ev})
						} else {
							f = append(f, digestread.Field{Key: layout.FieldRemoteApp, Value: ev})
							if format == JSON && v != "" { // the error text of a client span: JSON only
								f = append(f, digestread.Field{Key: layout.FieldError, Value: ev})
							}
						}
					default:
						f = append(f, digestread.Field{Key: layout.FieldOperation, Value: ev},
							digestread.Field{Key: "request.url", Value: ev},
							digestread.Field{Key: "method", Value: ev},
							digestread.Field{Key: "req.size.bytes", Value: strconv.Itoa(i)},
							digestread.Field{Key: "resp.size.bytes", Value: "-1"},
							digestread.Field{Key: "error", Value: ev},
							digestread.Field{Key: "remote.app", Value: ev})
					}
					esc := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D").Replace
					sys, biz := "s="+esc(bv)+"&", "b%25%26%3D="+esc(bv)+"&"
					if bv == "" { // an empty value deletes the entry
						sys, biz = "", ""
					}
					f = append(f, digestread.Field{Key: layout.FieldSysBaggage, Value: expectValue(sys, limit)},
						digestread.Field{Key: layout.FieldBizBaggage, Value: expectValue(biz, limit)})
					if format == JSON && lt == LogTypeHTTPServer {
						// a tag the server layout has no field for: after SOFA's fields, JSON only
						f = append(f, digestread.Field{Key: layout.FieldRemoteApp, Value: ev})
					}
					want = append(want, f)
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				lines := readLines(t, filepath.Join(dir, lt+"-digest.log"))
				if len(lines) != len(values) {
					t.Fatalf("%d lines for %d spans", len(lines), len(values))
				}
				for i, l := range lines {
					rec, err := digestread.ParseLine([]byte(l), nil)
					if err != nil {
						t.Fatalf("line %d: %v\n%.300s", i, err, l)
					}
					if len(rec.Fields) != len(want[i]) {
						t.Fatalf("line %d: %d fields, want %d\n%.300s", i, len(rec.Fields), len(want[i]), l)
					}
					for j, f := range rec.Fields {
						w := want[i][j]
						// CSV has no keys: the reader names the columns of a non-HTTP line by position.
						keyKnown := format == JSON || lt != "rpc" || j < len(layout.Common) || j >= len(rec.Fields)-2
						if (keyKnown && f.Key != w.Key) || f.Value != w.Value {
							t.Fatalf("line %d field %d: got %s=%.80q, want %s=%.80q", i, j, f.Key, f.Value, w.Key, w.Value)
						}
					}
				}
			})
		}
	}
}
