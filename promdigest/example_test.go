package promdigest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/promdigest"
	"github.com/tracemdc/tracemdc/trace"
)

// Metrics observing a reporter that writes no file (its lines go to an io.Writer, os.Stdout in a
// container): two requests of one route, one failed, in the text format of /metrics.
func Example() {
	m := promdigest.New(promdigest.WithBuckets(0.01, 0.1, 1))
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	r, err := digest.New(digest.Config{Output: io.Discard, OutputOnly: true, Observer: m})
	if err != nil {
		fmt.Println(err)
		return
	}
	tracer := trace.New("shop", trace.WithReporter(r))
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		code string
		dur  time.Duration
	}{{"200", 15 * time.Millisecond}, {"500", 250 * time.Millisecond}} {
		_, span := tracer.Start(context.Background(), "GET /orders/{id}", trace.WithKind(trace.KindServer),
			trace.WithLogType(layout.LogTypeHTTPServer), trace.WithStartTime(start))
		span.SetTag(layout.FieldRequestURL, "/orders/{id}")
		span.SetTag(layout.FieldMethod, "GET")
		span.SetResultCode(c.code)
		span.FinishAt(start.Add(c.dur))
	}
	_ = r.Close() // or Flush: the spans are observed on the reporter's consumer goroutine

	fams, _ := reg.Gather()
	var b bytes.Buffer
	for _, f := range fams {
		_ = expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain)).Encode(f)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "tracemdc_http_requests_total{") || strings.Contains(line, "_bucket{") && strings.Contains(line, `code="5xx"`) {
			fmt.Println(line)
		}
	}
	// Output:
	// tracemdc_http_request_duration_seconds_bucket{app="shop",code="5xx",load_test="false",log_type="http-server",method="GET",result="failure",route="/orders/{id}",le="0.01"} 0
	// tracemdc_http_request_duration_seconds_bucket{app="shop",code="5xx",load_test="false",log_type="http-server",method="GET",result="failure",route="/orders/{id}",le="0.1"} 0
	// tracemdc_http_request_duration_seconds_bucket{app="shop",code="5xx",load_test="false",log_type="http-server",method="GET",result="failure",route="/orders/{id}",le="1"} 1
	// tracemdc_http_request_duration_seconds_bucket{app="shop",code="5xx",load_test="false",log_type="http-server",method="GET",result="failure",route="/orders/{id}",le="+Inf"} 1
	// tracemdc_http_requests_total{app="shop",code="2xx",load_test="false",log_type="http-server",method="GET",result="success",route="/orders/{id}"} 1
	// tracemdc_http_requests_total{app="shop",code="5xx",load_test="false",log_type="http-server",method="GET",result="failure",route="/orders/{id}"} 1
}
