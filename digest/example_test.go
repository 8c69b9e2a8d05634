package digest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/trace"
)

// fixedIDs makes the example's ids predictable.
type fixedIDs struct{}

func (fixedIDs) TraceID() string                            { return "0ad1348f1403169275002100356696" }
func (fixedIDs) RootSpanID() string                         { return "0" }
func (fixedIDs) ChildSpanID(parent string, n uint64) string { return fmt.Sprint(parent, ".", n) }

// A reporter writing JSON digest lines under a temporary log root; the span's times are fixed so the
// line is predictable.
func Example() {
	root, _ := os.MkdirTemp("", "digest-example")
	defer os.RemoveAll(root)

	r, err := digest.New(digest.Config{Root: root, Location: time.UTC})
	if err != nil {
		fmt.Println(err)
		return
	}
	tracer := trace.New("shop", trace.WithReporter(r), trace.WithIDGenerator(fixedIDs{}))

	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	_, span := tracer.Start(context.Background(), "GET /orders",
		trace.WithKind(trace.KindServer), trace.WithLogType(digest.LogTypeHTTPServer), trace.WithStartTime(start))
	span.SetTag("request.url", "http://shop/orders")
	span.SetTag("method", "GET")
	span.SetTagInt("resp.size.bytes", 42)
	span.SetResultCode("200")
	span.SetBaggageItem("user", "a&b=c")
	span.FinishAt(start.Add(15 * time.Millisecond))

	if err := r.Close(); err != nil {
		fmt.Println(err)
	}
	b, _ := os.ReadFile(filepath.Join(root, "tracelog", "http-server-digest.log"))
	fmt.Print(string(b))
	// Output:
	// {"time":"2024-05-01 12:00:00.015","local.app":"shop","traceId":"0ad1348f1403169275002100356696","spanId":"0","span.kind":"server","result.code":"200","current.thread.name":"goroutine","time.cost.milliseconds":"15ms","request.url":"http://shop/orders","method":"GET","req.size.bytes":0,"resp.size.bytes":42,"error":"","sys.baggage":"","biz.baggage":"user=a%26b%3Dc&"}
}

// A user encoder for a "redis" log type; the same encoder writes JSON and CSV lines. Here CSV, in
// which the comma inside the command is written %2C; Close writes the stat line of the interval.
func ExampleEncoderFunc() {
	root, _ := os.MkdirTemp("", "digest-example")
	defer os.RemoveAll(root)

	redis := digest.EncoderFunc(func(s *trace.FinishedSpan, enc digest.FieldEncoder) {
		cmd, _ := s.Tag("redis.cmd")
		enc.AddTag("redis.cmd", cmd)
		enc.AddInt("redis.db", 0)
	})
	r, err := digest.New(digest.Config{Root: root, Format: digest.CSV, Location: time.UTC,
		Encoders: map[string]digest.Encoder{"redis": redis},
		Clock:    func() time.Time { return time.Date(2024, 5, 1, 12, 1, 0, 0, time.UTC) }}) // stat time
	if err != nil {
		fmt.Println(err)
		return
	}
	tracer := trace.New("shop", trace.WithReporter(r), trace.WithIDGenerator(fixedIDs{}))

	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	_, span := tracer.Start(context.Background(), "MGET",
		trace.WithKind(trace.KindClient), trace.WithLogType("redis"), trace.WithStartTime(start))
	span.SetTag("redis.cmd", "MGET a,b")
	span.SetTag(digest.TagThreadName, "worker-1")
	span.SetResultCode("00")
	span.FinishAt(start.Add(2 * time.Millisecond))

	_ = r.Close()
	b, _ := os.ReadFile(filepath.Join(root, "tracelog", "redis-digest.log"))
	fmt.Print(string(b))
	b, _ = os.ReadFile(filepath.Join(root, "tracelog", "redis-stat.log"))
	fmt.Print(string(b)) // written by Close: the partial interval
	// Output:
	// 2024-05-01 12:00:00.002,shop,0ad1348f1403169275002100356696,0,client,00,worker-1,2ms,MGET a%2Cb,0,,
	// 2024-05-01 12:01:00.000,shop,MGET,1,2,Y,F
}

// Format, Policy and Rolling read their names, so a configuration file or the environment can set
// them; a value New cannot use is an error naming the field.
func ExampleConfig_fromJSON() {
	var cfg digest.Config
	err := json.Unmarshal([]byte(`{"Format": "csv", "Policy": "block", "Rolling": "hourly"}`), &cfg)
	fmt.Println(cfg.Format, cfg.Policy, cfg.Rolling, err)

	err = json.Unmarshal([]byte(`{"Rolling": "weekly"}`), &cfg)
	fmt.Println(err)

	_, err = digest.New(digest.Config{Root: os.TempDir(), QueueCapacity: -5})
	fmt.Println(err)
	// Output:
	// csv block hourly <nil>
	// digest: unknown Period "weekly" (one of daily, hourly, size-only)
	// digest: Config.QueueCapacity = -5: out of range (0 for 1024, or 1 to 16777216)
}
