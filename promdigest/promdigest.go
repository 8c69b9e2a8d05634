package promdigest

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/idmap"
)

// Label names. The stat key gives app, route and method (HTTP layouts) or operation (the others);
// the rest are bounded by construction.
const (
	LabelLogType   = "log_type"   // the log type, as its files are named
	LabelApp       = "app"        // local.app
	LabelRoute     = "route"      // HTTP: the stat key's route template (the URL for a span without one)
	LabelMethod    = "method"     // HTTP method; rpc: the method called
	LabelRemoteApp = "remote_app" // rpc: the application called (client) or calling (server)
	LabelService   = "service"    // rpc: the service
	LabelOperation = "operation"  // other log types: the operation
	LabelResult    = "result"     // ResultSuccess or ResultFailure, by the log type's success rule
	LabelCode      = "code"       // the result code's class (see CodeClass)
	LabelLoadTest  = "load_test"  // "true" for load-test spans (the mark=T baggage)
)

// Values of LabelResult, and OverflowValue, which replaces the stat-key labels of a series past the
// cardinality limit.
const (
	ResultSuccess = "success"
	ResultFailure = "failure"
	OverflowValue = "__overflow__"
)

// Exemplar label names: the trace and span ids as a tracing backend holds them (idmap: SOFA ids
// left-padded to 32 hex as SOFATracer's Zipkin reporter sends them, W3C ids unchanged), and the
// trace id as the digest lines show it when it differs (a SOFA id), to find the lines in a log store.
const (
	ExemplarTraceID       = "trace_id"
	ExemplarSpanID        = "span_id"
	ExemplarDigestTraceID = "digest_trace_id"
)

// Defaults of the options.
const (
	DefaultNamespace        = "tracemdc"
	DefaultMaxSeries        = 1000
	DefaultExemplarInterval = time.Second
)

// Metrics turns what a digest.Reporter counts in its stat lines into Prometheus metrics, keyed by the
// same stat key: per log type a request counter and a duration histogram (in seconds, with a recent
// trace as exemplar in each bucket). It is a digest.Observer — give it to digest.Config.Observer —
// and a prometheus.Collector — register it. One Metrics may observe several reporters; its methods
// are safe for concurrent use.
type Metrics struct {
	buckets    []float64
	maxSeries  int
	exInterval int64                         // nanoseconds
	count      [numFamilies]*prometheus.Desc // counters
	seconds    [numFamilies]*prometheus.Desc // histograms
	overflow   *prometheus.CounterVec

	// series is read without a lock on every span; a new series copies the map under mu (rare:
	// at most maxSeries times per log type, plus the overflow series).
	series atomic.Pointer[map[seriesKey]*series]
	// recent caches series by a cheap index of their key (lengths and a byte, no hashing): a span
	// whose series sits in its slot skips the map, whose lookup hashes five strings and was three
	// quarters of ObserveSpan's time. A slot holds any recent series; the key is compared in full.
	recent   [64]atomic.Pointer[series]
	mu       sync.Mutex
	n        map[string]int        // series of each log type, counted against maxSeries
	reported map[string]*overflown // by log type
}

// family is a kind of stat key, with metric names and labels of its own.
type family uint8

const (
	familyHTTP family = iota // app, method, route
	familyRPC                // app, remote app, service, method
	familySpan               // app, operation
	numFamilies
)

// seriesKey is the label set of one series: the stat key (k1..k3 by family) and the outcome, the
// last packed in one word (family, code class, success, load test) to keep the hash short.
type seriesKey struct {
	logType, app, k1, k2, k3 string
	bits                     uint16
}

const (
	bitSuccess  = 1 << 0
	bitLoad     = 1 << 1
	shiftFamily = 2 // 2 bits
	shiftClass  = 4
	maskFamily  = 3
	maskClass   = 0xff
)

func (k seriesKey) family() family { return family(k.bits >> shiftFamily & maskFamily) }
func (k seriesKey) class() string  { return classes[k.bits>>shiftClass&maskClass] }
func (k seriesKey) success() bool  { return k.bits&bitSuccess != 0 }
func (k seriesKey) loadTest() bool { return k.bits&bitLoad != 0 }

// slot returns the index of k in Metrics.recent.
func (k *seriesKey) slot() int {
	i := len(k.app)*3 + len(k.k1)*7 + len(k.k2)*31 + len(k.k3)*17 + int(k.bits)
	if n := len(k.k2); n > 0 {
		i += int(k.k2[n-1]) * 5 // a route's last byte: /orders/{id} and /orders/{id}/items differ
	}
	return i & 63
}

// series is one label set: its histogram, kept as atomic counts per bucket and a sum in nanoseconds
// (two atomic additions a span), and each bucket's exemplar. Collect makes the counter (the same
// count, so the two always agree) and the histogram of it at scrape time.
type series struct {
	key       seriesKey // as the map holds it
	family    family
	labels    []string        // label values, in the family's order
	counts    []atomic.Uint64 // per bucket, not cumulative; the last is +Inf
	sumNanos  atomic.Int64
	exemplars []atomic.Pointer[prometheus.Exemplar] // per bucket
	overflow  prometheus.Counter                    // an overflow series: metrics_overflow_spans_total of its log type
}

// overflown is what the self log was told about a log type's spans past the limit.
type overflown struct {
	at      time.Time
	n, told uint64 // spans; n when the self log was last told
}

var (
	_ digest.Observer      = (*Metrics)(nil)
	_ prometheus.Collector = (*Metrics)(nil)
)

// New makes a Metrics. Register it with a prometheus.Registerer and give it to digest.Config.Observer:
//
//	m := promdigest.New()
//	prometheus.MustRegister(m)
//	r, err := digest.New(digest.Config{Observer: m})
func New(opts ...Option) *Metrics {
	c := newConfig(opts)
	m := &Metrics{
		buckets:    c.buckets,
		maxSeries:  c.maxSeries,
		exInterval: int64(c.exemplarInterval),
		reported:   map[string]*overflown{},
		n:          map[string]int{},
	}
	m.series.Store(&map[seriesKey]*series{})
	for f, d := range families {
		labels := append(append([]string{LabelLogType, LabelApp}, d.key...), LabelResult, LabelCode, LabelLoadTest)
		m.count[f] = prometheus.NewDesc(prometheus.BuildFQName(c.namespace, "", d.count),
			d.what+" counted by the digest stat lines, by "+d.by+".", labels, nil)
		m.seconds[f] = prometheus.NewDesc(prometheus.BuildFQName(c.namespace, "", d.seconds),
			"Duration of the "+d.what+" counted by the digest stat lines, by "+d.by+".", labels, nil)
	}
	m.overflow = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: c.namespace, Name: "metrics_overflow_spans_total",
		Help: fmt.Sprintf("Spans counted under the %s label values because their log type reached the series limit (%d).", OverflowValue, c.maxSeries)},
		[]string{LabelLogType})
	return m
}

// families names the metrics of each family and the labels of its stat key.
var families = [numFamilies]struct {
	count, seconds, what, by string
	key                      []string
}{
	familyHTTP: {"http_requests_total", "http_request_duration_seconds",
		"HTTP spans (requests served, calls made)", "route", []string{LabelMethod, LabelRoute}},
	familyRPC: {"rpc_requests_total", "rpc_request_duration_seconds",
		"RPC spans (calls served, calls made)", "service and method", []string{LabelRemoteApp, LabelService, LabelMethod}},
	familySpan: {"spans_total", "span_duration_seconds",
		"spans of the other log types", "operation", []string{LabelOperation}},
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for f := range families {
		ch <- m.count[f]
		ch <- m.seconds[f]
	}
	m.overflow.Describe(ch)
}

// Collect implements prometheus.Collector: each series' counter and histogram, read at once.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range *m.series.Load() {
		var count uint64
		cumulative := make(map[float64]uint64, len(m.buckets))
		for i := range s.counts {
			count += s.counts[i].Load()
			if i < len(m.buckets) {
				cumulative[m.buckets[i]] = count
			}
		}
		sum := float64(s.sumNanos.Load()) / 1e9
		ch <- orInvalid(m.count[s.family])(prometheus.NewConstMetric(m.count[s.family], prometheus.CounterValue, float64(count), s.labels...))
		h, err := prometheus.NewConstHistogram(m.seconds[s.family], count, sum, cumulative, s.labels...)
		var ex []prometheus.Exemplar
		for i := range s.exemplars {
			if e := s.exemplars[i].Load(); e != nil {
				ex = append(ex, *e)
			}
		}
		if err == nil && len(ex) > 0 {
			h, err = prometheus.NewMetricWithExemplars(h, ex...)
		}
		ch <- orInvalid(m.seconds[s.family])(h, err)
	}
	m.overflow.Collect(ch)
}

// ObserveSpan implements digest.Observer: it counts the span in the series of its stat key and
// observes its duration. It allocates nothing once the series exists, except for an exemplar, which
// each bucket of a series takes at most once per exemplar interval, from a sampled span.
func (m *Metrics) ObserveSpan(o digest.Observation) {
	k := seriesKey{logType: o.LogType(), app: o.App(), bits: uint16(classIndex(o.ResultCode(), o.HTTP())) << shiftClass}
	if o.Success() {
		k.bits |= bitSuccess
	}
	if o.IsLoadTest() {
		k.bits |= bitLoad
	}
	switch {
	case o.HTTP():
		k.bits |= uint16(familyHTTP) << shiftFamily
		k.k1, k.k2 = o.Method(), o.Route()
	case o.RPC():
		k.bits |= uint16(familyRPC) << shiftFamily
		k.k1, k.k2, k.k3 = o.RemoteApp(), o.Service(), o.Method()
	default:
		k.bits |= uint16(familySpan) << shiftFamily
		k.k1 = o.Operation()
	}
	slot := &m.recent[k.slot()]
	s := slot.Load()
	if s == nil || s.key != k {
		if s = (*m.series.Load())[k]; s == nil {
			m.mu.Lock()
			s = m.newSeries(k, &o)
			m.mu.Unlock()
		}
		if s.key == k {
			slot.Store(s) // not an overflow or invalid-UTF-8 key: those never hit
		}
	}
	if s.overflow != nil {
		s.overflow.Inc()
	}
	d := o.Duration()
	secs := d.Seconds()
	b := m.bucket(secs)
	s.counts[b].Add(1)
	s.sumNanos.Add(int64(d))
	sp := o.Span()
	if !sp.Sampled() || m.exInterval < 0 {
		return // an unsampled trace is in no backend: no exemplar
	}
	end := sp.End()
	if e := s.exemplars[b].Load(); e != nil {
		if since := end.UnixNano() - e.Timestamp.UnixNano(); since < m.exInterval && since > -m.exInterval {
			return
		}
	}
	// A few allocations, at most once per exemplar interval per bucket; a race between two
	// reporters' consumers keeps either span.
	s.exemplars[b].Store(&prometheus.Exemplar{Value: secs, Timestamp: end, Labels: exemplarLabels(sp.TraceID(), sp.SpanID())})
}

// newSeries finds or makes the series of k, or past the limit finds or makes its overflow series:
// the overflowing keys themselves are not kept, so memory stays bounded however many there are.
// m.mu is held.
func (m *Metrics) newSeries(k seriesKey, o *digest.Observation) *series {
	old := *m.series.Load()
	if s := old[k]; s != nil {
		return s // made by another reporter's consumer meanwhile
	}
	if v := validKey(k); v != k {
		// A label value must be UTF-8: a key with invalid bytes is counted under its valid form (its
		// spans take this path each time; the map holds valid keys only).
		if k = v; old[k] != nil {
			return old[k]
		}
	}
	var overflowCounter prometheus.Counter
	if m.n[k.logType] >= m.maxSeries {
		n := len(families[k.family()].key)
		k.app, k.k1, k.k2, k.k3 = OverflowValue, OverflowValue, overflowIf(n > 1), overflowIf(n > 2)
		m.noteOverflow(k.logType, o)
		if s := old[k]; s != nil {
			return s
		}
		k.logType = strings.Clone(k.logType)
		overflowCounter = m.overflow.WithLabelValues(k.logType)
	} else {
		k.logType, k.app = strings.Clone(k.logType), strings.Clone(k.app)
		k.k1, k.k2, k.k3 = strings.Clone(k.k1), strings.Clone(k.k2), strings.Clone(k.k3)
		m.n[k.logType]++
	}
	f := k.family()
	labels := append([]string{k.logType, k.app, k.k1, k.k2, k.k3}[:2+len(families[f].key)],
		result(k.success()), k.class(), boolValue(k.loadTest()))
	s := &series{key: k, family: f, overflow: overflowCounter, labels: labels,
		counts:    make([]atomic.Uint64, len(m.buckets)+1),
		exemplars: make([]atomic.Pointer[prometheus.Exemplar], len(m.buckets)+1)}
	next := make(map[seriesKey]*series, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	next[k] = s
	m.series.Store(&next)
	return s
}

// validKey returns k with invalid UTF-8 in its strings replaced by U+FFFD.
func validKey(k seriesKey) seriesKey {
	for _, p := range []*string{&k.logType, &k.app, &k.k1, &k.k2, &k.k3} {
		*p = strings.ToValidUTF8(*p, "\uFFFD")
	}
	return k
}

// orInvalid returns a function passing on a metric, or one that makes the scrape report err (labels
// are valid by construction: this is a safeguard, never a panic in a scrape).
func orInvalid(d *prometheus.Desc) func(prometheus.Metric, error) prometheus.Metric {
	return func(mt prometheus.Metric, err error) prometheus.Metric {
		if err != nil {
			return prometheus.NewInvalidMetric(d, err)
		}
		return mt
	}
}

// noteOverflow says in the reporter's self log that spans of logType go to the overflow series: at
// the first one, then at most once a minute with the number since. m.mu is held.
func (m *Metrics) noteOverflow(logType string, o *digest.Observation) {
	st := m.reported[logType]
	if st == nil {
		st = &overflown{}
		m.reported[logType] = st
	}
	st.n++
	now := time.Now()
	if st.told > 0 && now.Sub(st.at) < time.Minute {
		return
	}
	o.ReportError(&LimitError{LogType: logType, Limit: m.maxSeries, Spans: st.n})
	st.at, st.told = now, st.n
}

// LimitError is what Metrics writes to the self log of the reporter it observes when a log type's
// new stat keys go to the overflow series.
type LimitError struct {
	LogType string // the log type whose stat key found no room
	Limit   int    // the series limit (WithMaxSeries)
	Spans   uint64 // the spans of this log type counted under OverflowValue so far
}

// Error says which log type reached the limit and how many of its spans went to the overflow series.
func (e *LimitError) Error() string {
	return fmt.Sprintf("promdigest: the limit of %d series is reached: %d spans of %s with new stat keys counted so far under the label value %s",
		e.Limit, e.Spans, e.LogType, OverflowValue)
}

// bucket returns the index of the histogram bucket of v (len(buckets) for +Inf).
func (m *Metrics) bucket(v float64) int {
	for i, ub := range m.buckets {
		if v <= ub {
			return i
		}
	}
	return len(m.buckets)
}

// exemplarLabels returns the exemplar of a span: its ids as a backend holds them, and the digest
// trace id when it differs and the labels stay within OpenMetrics' 128 characters.
func exemplarLabels(traceID, spanID string) prometheus.Labels {
	hex := idmap.TraceHex(traceID)
	l := prometheus.Labels{ExemplarTraceID: hex, ExemplarSpanID: idmap.SpanHex(spanID)}
	runes := len(ExemplarTraceID) + idmap.TraceHexLen + len(ExemplarSpanID) + idmap.SpanHexLen
	if traceID != hex && utf8.ValidString(traceID) &&
		runes+len(ExemplarDigestTraceID)+utf8.RuneCountInString(traceID) <= prometheus.ExemplarMaxRunes {
		l[ExemplarDigestTraceID] = traceID
	}
	return l
}

// CodeClass is the value of the code label of a result code: for HTTP log types the status class
// ("2xx", "4xx"…; a code that is not three digits, such as the "99" of a client call that got no
// response, is kept if it is one of layout's codes, else "other"), for the others the code itself
// when it is one of layout's result codes (00 to 04, 99), else "other". An empty code is "none".
// The label has a few values whatever the codes a program sets.
func CodeClass(code string, http bool) string { return classes[classIndex(code, http)] }

// classes are the values of the code label; classIndex picks one.
var classes = [...]string{"none", "other", "1xx", "2xx", "3xx", "4xx", "5xx",
	layout.CodeSuccess, layout.CodeBizError, layout.CodeRPCError, layout.CodeTimeout, layout.CodeRouting, layout.CodeError}

func classIndex(code string, http bool) int {
	if code == "" {
		return 0
	}
	if http && len(code) == 3 && code[0] >= '1' && code[0] <= '5' &&
		code[1] >= '0' && code[1] <= '9' && code[2] >= '0' && code[2] <= '9' {
		return 2 + int(code[0]-'1')
	}
	for i := 7; i < len(classes); i++ {
		if code == classes[i] {
			return i
		}
	}
	return 1
}

func overflowIf(b bool) string {
	if b {
		return OverflowValue
	}
	return ""
}

func result(success bool) string {
	if success {
		return ResultSuccess
	}
	return ResultFailure
}

func boolValue(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
