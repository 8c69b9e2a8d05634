package promdigest

import (
	"math"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Option configures New.
type Option interface{ apply(*config) }

type config struct {
	namespace        string
	buckets          []float64
	maxSeries        int
	exemplarInterval time.Duration
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

func newConfig(opts []Option) config {
	c := config{namespace: DefaultNamespace, buckets: prometheus.DefBuckets, maxSeries: DefaultMaxSeries,
		exemplarInterval: DefaultExemplarInterval}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// WithNamespace sets the prefix of the metric names (DefaultNamespace, "tracemdc", by default:
// tracemdc_http_requests_total); empty means none.
func WithNamespace(ns string) Option { return optionFunc(func(c *config) { c.namespace = ns }) }

// WithBuckets sets the upper bounds, in seconds, of the duration histograms' buckets
// (prometheus.DefBuckets, 5 ms to 10 s, by default). They are sorted; NaN and +Inf are left out (the
// +Inf bucket is always there; a NaN bound would make the OpenMetrics exposition unreadable); a list
// left empty keeps the default.
func WithBuckets(upperBounds ...float64) Option {
	b := slices.DeleteFunc(slices.Clone(upperBounds), func(f float64) bool { return math.IsNaN(f) || math.IsInf(f, 1) })
	slices.Sort(b)
	b = slices.Compact(b)
	return optionFunc(func(c *config) {
		if len(b) > 0 {
			c.buckets = b
		}
	})
}

// WithMaxSeries sets the cardinality limit: the most label sets (each a counter and a histogram)
// Metrics makes for one log type, DefaultMaxSeries by default; a value below 1 keeps the default. A
// log type of its own each: the URLs of http-client spans (a client call knows no route) may fill
// theirs without taking any from http-server's routes. Spans of a stat key that finds no room are
// counted under the label value OverflowValue in place of app and the key's labels, in
// metrics_overflow_spans_total, and in the self log of the reporter.
func WithMaxSeries(n int) Option {
	return optionFunc(func(c *config) {
		if n >= 1 {
			c.maxSeries = n
		}
	})
}

// WithExemplarInterval sets how often each bucket of a histogram series takes the trace of a sampled
// span as its exemplar: at most once per interval of span end times (DefaultExemplarInterval, one
// second, by default). An exemplar costs a few allocations, so the interval keeps the steady path at
// none; 0 takes every sampled span, a negative interval turns exemplars off.
func WithExemplarInterval(d time.Duration) Option {
	return optionFunc(func(c *config) { c.exemplarInterval = d })
}
