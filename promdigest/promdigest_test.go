package promdigest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/promdigest"
	"github.com/tracemdc/tracemdc/trace"
)

// Every rolling.File starts a lumberjack goroutine (Logger.millRun) that lumberjack never stops, not
// even on Close (see package rolling): it is the only goroutine allowed to outlive the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// Accept headers of a Prometheus server scraping the text format and OpenMetrics 1.0.
const (
	acceptText        = "text/plain;version=0.0.4;q=0.5"
	acceptOpenMetrics = "application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5"
)

// serve exposes reg over a real HTTP server on loopback, as promhttp serves /metrics, until the test ends.
func serve(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// scrape GETs url with the Accept header and decodes the answer with expfmt's decoder of the format
// the server chose (text or OpenMetrics).
func scrape(t *testing.T, url, accept string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", accept)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	format := expfmt.ResponseFormat(resp.Header)
	wantOM := strings.HasPrefix(accept, "application/openmetrics-text")
	if got := format.FormatType() == expfmt.TypeOpenMetrics; got != wantOM {
		t.Fatalf("Accept %q answered with %q", accept, format)
	}
	dec := expfmt.NewDecoder(resp.Body, format)
	fams := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		err := dec.Decode(mf)
		if errors.Is(err, io.EOF) {
			return fams
		}
		if err != nil {
			t.Fatalf("decode %s: %v", format, err)
		}
		fams[mf.GetName()] = mf
	}
}

// labelsOf returns a metric's labels as name=value pairs, sorted and joined.
func labelsOf(m *dto.Metric) string {
	var pairs []string
	for _, l := range m.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// spanSpec is one span of a test: its log type, key, code, duration, marks.
type spanSpec struct {
	logType, op, url, method, remote, code string
	dur                                    time.Duration
	load, unsampled                        bool
}

// labels is the label set the spec's span must be counted under, spelled out from the metric
// documentation (not from the code under test).
func (sp spanSpec) labels(app string) (family, labels string) {
	l := []string{"app=" + app, "log_type=" + sp.logType, "load_test=" + fmt.Sprint(sp.load)}
	var success bool
	switch sp.logType {
	case layout.LogTypeHTTPServer, layout.LogTypeHTTPClient:
		family = "tracemdc_http_request"
		l = append(l, "method="+sp.method, "route="+sp.url, "code="+sp.code[:1]+"xx")
		success = sp.code[0] == '2' || sp.code == "302"
	case layout.LogTypeRPCClient:
		family = "tracemdc_rpc_request"
		svc, m, _ := strings.Cut(strings.TrimPrefix(sp.op, "/"), "/")
		l = append(l, "remote_app="+sp.remote, "service="+svc, "method="+m, "code="+sp.code)
		success = sp.code == "00"
	default:
		family = "tracemdc_span"
		code := sp.code
		if code == "" {
			code = "00" // the reporter's default for a span that set none
		} else if code != "00" && code != "99" {
			code = "other"
		}
		l = append(l, "operation="+sp.op, "code="+code)
		success = code == "00"
	}
	if success {
		l = append(l, "result=success")
	} else {
		l = append(l, "result=failure")
	}
	sort.Strings(l)
	return family, strings.Join(l, ",")
}

// pipeline is a tracer (and one that samples nothing, same app) reporting to a real digest Reporter
// whose Observer is a Metrics registered in its own registry, served over HTTP.
type pipeline struct {
	r        *digest.Reporter
	tr, trU  *trace.Tracer
	dir, url string
}

func newPipeline(t *testing.T, m *promdigest.Metrics, app string) *pipeline {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m)
	root := t.TempDir()
	r, err := digest.New(digest.Config{Root: root, Observer: m, Policy: digest.Block})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return &pipeline{r: r, tr: trace.New(app, trace.WithReporter(r)),
		trU: trace.New(app, trace.WithReporter(r), trace.WithSampler(trace.PercentageSampler(0))),
		dir: filepath.Join(root, layout.DirName), url: serve(t, reg)}
}

// finish starts and finishes the span of sp ending at end.
func (p *pipeline) finish(sp spanSpec, end time.Time) *trace.FinishedSpan {
	tr := p.tr
	if sp.unsampled {
		tr = p.trU
	}
	opts := []trace.StartOption{trace.WithLogType(sp.logType), trace.WithStartTime(end.Add(-sp.dur))}
	if sp.load {
		opts = append(opts, trace.WithLoadTest())
	}
	_, s := tr.Start(context.Background(), sp.op, opts...)
	if sp.url != "" {
		s.SetTag(layout.FieldRequestURL, sp.url)
		s.SetTag(layout.FieldMethod, sp.method)
	}
	if sp.remote != "" {
		s.SetTag(layout.FieldRemoteApp, sp.remote)
	}
	if sp.code != "" {
		s.SetResultCode(sp.code)
	}
	s.FinishAt(end)
	return s.Record()
}

// TestScrapeCountsAndBuckets: spans of the HTTP, rpc and generic layouts with known durations,
// sampled or not, load test or not, go through a real Reporter; /metrics, scraped over HTTP in the
// text format and in OpenMetrics and parsed by expfmt, holds for every label set exactly the count,
// the cumulative bucket counts and the sum the spans imply; and per stat key and success, the counts
// equal the reporter's own stat lines (one stat-key derivation for both).
func TestScrapeCountsAndBuckets(t *testing.T) {
	m := promdigest.New()
	p := newPipeline(t, m, "shop")
	durs := []time.Duration{time.Millisecond, 7 * time.Millisecond, 30 * time.Millisecond, 300 * time.Millisecond,
		3 * time.Second, 12 * time.Second}
	var specs []spanSpec
	for i := 0; i < 120; i++ {
		d := durs[i%len(durs)] + time.Duration(i)*time.Microsecond
		specs = append(specs,
			spanSpec{logType: layout.LogTypeHTTPServer, op: "GET", url: []string{"/orders", "/stock"}[i%2], method: "GET",
				code: []string{"200", "404", "302", "500", "201"}[i%5], dur: d, load: i%11 == 0, unsampled: i%3 == 0},
			spanSpec{logType: layout.LogTypeHTTPClient, op: "POST", url: "/pay", method: "POST",
				code: []string{"200", "503"}[i%2], dur: d},
			spanSpec{logType: layout.LogTypeRPCClient, op: "/shop.Stock/" + []string{"Reserve", "Release"}[i%2],
				remote: "stock", code: []string{"00", "03", "02"}[i%3], dur: d},
			spanSpec{logType: "redis", op: []string{"GET", "SET"}[i%2], code: []string{"", "00", "99", "x7"}[i%4], dur: d})
	}
	end := time.Now()
	for _, sp := range specs {
		p.finish(sp, end)
	}
	p.r.Flush() // every span has been observed

	type series struct {
		count   uint64
		sum     float64
		buckets map[float64]uint64
	}
	want := map[string]*series{} // family|labels
	for _, sp := range specs {
		family, labels := sp.labels("shop")
		s := want[family+"|"+labels]
		if s == nil {
			s = &series{buckets: map[float64]uint64{}}
			want[family+"|"+labels] = s
		}
		s.count++
		s.sum += sp.dur.Seconds()
		for _, ub := range prometheus.DefBuckets {
			if sp.dur.Seconds() <= ub {
				s.buckets[ub]++
			} else {
				s.buckets[ub] += 0
			}
		}
	}

	for _, accept := range []string{acceptText, acceptOpenMetrics} {
		fams := scrape(t, p.url, accept)
		got := map[string]*series{}
		for _, family := range []string{"tracemdc_http_request", "tracemdc_rpc_request", "tracemdc_span"} {
			counterName := strings.TrimSuffix(family, "_request") + map[bool]string{true: "_requests_total", false: "s_total"}[family != "tracemdc_span"]
			histName := family + "_duration_seconds"
			cf, hf := fams[counterName], fams[histName]
			if cf == nil || hf == nil || cf.GetType() != dto.MetricType_COUNTER || hf.GetType() != dto.MetricType_HISTOGRAM {
				t.Fatalf("%s: families %s, %s missing or mistyped in %v", accept, counterName, histName, slices.Sorted(maps.Keys(fams)))
			}
			for _, mc := range cf.GetMetric() {
				got[family+"|"+labelsOf(mc)] = &series{count: uint64(mc.GetCounter().GetValue())}
			}
			for _, mh := range hf.GetMetric() {
				s := got[family+"|"+labelsOf(mh)]
				if s == nil || s.count != mh.GetHistogram().GetSampleCount() {
					t.Fatalf("%s: histogram %s %s has no counter of the same count", accept, histName, labelsOf(mh))
				}
				s.sum = mh.GetHistogram().GetSampleSum()
				s.buckets = map[float64]uint64{}
				for _, b := range mh.GetHistogram().GetBucket() {
					if !math.IsInf(b.GetUpperBound(), 1) {
						s.buckets[b.GetUpperBound()] = b.GetCumulativeCount()
					}
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d series, want %d:\n%v", accept, len(got), len(want), slices.Sorted(maps.Keys(got)))
		}
		for k, w := range want {
			g := got[k]
			if g == nil {
				t.Fatalf("%s: no series %s; have\n%s", accept, k, strings.Join(slices.Sorted(maps.Keys(got)), "\n"))
			}
			if g.count != w.count || math.Abs(g.sum-w.sum) > 1e-6 || !maps.Equal(g.buckets, w.buckets) {
				t.Fatalf("%s: %s: count %d sum %g buckets %v, want %d %g %v", accept, k, g.count, g.sum, g.buckets, w.count, w.sum, w.buckets)
			}
		}
	}

	// The stat lines of the same reporter count the same keys.
	if err := p.r.Close(); err != nil {
		t.Fatal(err)
	}
	fromStat := map[string]int64{}
	for _, lt := range []string{layout.LogTypeHTTPServer, layout.LogTypeHTTPClient, layout.LogTypeRPCClient, "redis"} {
		for _, sub := range []string{"", layout.ShadowDirName} {
			b, err := os.ReadFile(filepath.Join(p.dir, sub, layout.StatFileName(lt)))
			if err != nil {
				continue
			}
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
				var sl struct {
					Key     map[string]string `json:"stat.key"`
					Count   int64             `json:"count"`
					Success string            `json:"success"`
				}
				if err := json.Unmarshal([]byte(line), &sl); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				k := sl.Key
				key := strings.Join([]string{lt, k["local.app"], k["request.url"], k["method"], k["remote.app"], k["service"], k["operation"],
					map[string]string{"Y": "success", "N": "failure"}[sl.Success], fmt.Sprint(sub != "")}, "|")
				fromStat[key] += sl.Count
			}
		}
	}
	fromMetrics := map[string]int64{}
	for k, s := range want {
		l := map[string]string{}
		for _, pair := range strings.Split(strings.SplitN(k, "|", 2)[1], ",") {
			n, v, _ := strings.Cut(pair, "=")
			l[n] = v
		}
		key := strings.Join([]string{l["log_type"], l["app"], l["route"], l["method"], l["remote_app"], l["service"], l["operation"],
			l["result"], l["load_test"]}, "|")
		fromMetrics[key] += int64(s.count)
	}
	if !maps.Equal(fromStat, fromMetrics) {
		t.Fatalf("stat lines\n%v\nmetrics\n%v", fromStat, fromMetrics)
	}
}

// TestExemplars: each histogram bucket carries the trace of a recent sampled span as its exemplar, in
// OpenMetrics: trace_id and span_id as a backend holds them (valid W3C ids: a SOFA trace id
// left-padded as SOFATracer's Zipkin reporter sends it, W3C ids as they are), digest_trace_id for a
// SOFA id (to find its digest lines); a bucket takes a new exemplar at most once per interval of span
// end times; unsampled spans, which no backend holds, never become exemplars.
func TestExemplars(t *testing.T) {
	m := promdigest.New()
	p := newPipeline(t, m, "ex")
	trW3C := trace.New("ex", trace.WithReporter(p.r), trace.WithIDGenerator(trace.W3CIDGenerator()))
	t0 := time.Now().Truncate(time.Second)
	job := func(tr *trace.Tracer, dur time.Duration, end time.Time) *trace.FinishedSpan {
		_, s := tr.Start(context.Background(), "GET", trace.WithLogType("cache"), trace.WithStartTime(end.Add(-dur)))
		s.FinishAt(end)
		return s.Record()
	}
	// Bucket le=0.005: the first span takes the exemplar, one 1.5 s later replaces it, one 100 ms
	// after that does not.
	job(p.tr, 2*time.Millisecond, t0)
	sofa := job(p.tr, 4*time.Millisecond, t0.Add(1500*time.Millisecond))
	job(p.tr, 3*time.Millisecond, t0.Add(1600*time.Millisecond))
	// Bucket le=0.1: a sampled span with W3C ids between two unsampled ones, the last 3 s later.
	job(p.trU, 70*time.Millisecond, t0)
	w3c := job(trW3C, 80*time.Millisecond, t0.Add(10*time.Millisecond))
	job(p.trU, 90*time.Millisecond, t0.Add(3*time.Second))
	// Bucket le=+Inf: unsampled spans only.
	job(p.trU, 20*time.Second, t0)
	job(p.trU, 30*time.Second, t0.Add(5*time.Second))
	p.r.Flush()

	fams := scrape(t, p.url, acceptOpenMetrics)
	hf := fams["tracemdc_span_duration_seconds"]
	if hf == nil || len(hf.GetMetric()) != 1 {
		t.Fatalf("histogram: %v", hf)
	}
	got := map[float64]*dto.Exemplar{}
	for _, b := range hf.GetMetric()[0].GetHistogram().GetBucket() {
		if e := b.GetExemplar(); e != nil {
			got[b.GetUpperBound()] = e
		}
	}
	if len(got) != 2 || got[0.005] == nil || got[0.1] == nil {
		t.Fatalf("exemplars on buckets %v, want on 0.005 and 0.1 only", slices.Sorted(maps.Keys(got)))
	}
	for ub, c := range map[float64]struct {
		s    *trace.FinishedSpan
		want map[string]string
	}{
		0.005: {sofa, map[string]string{"trace_id": idmap.TraceHex(sofa.TraceID()), "span_id": idmap.SpanHex(sofa.SpanID()),
			"digest_trace_id": sofa.TraceID()}},
		0.1: {w3c, map[string]string{"trace_id": w3c.TraceID(), "span_id": w3c.SpanID()}},
	} {
		e := got[ub]
		labels := map[string]string{}
		for _, l := range e.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(labels, c.want) || !idmap.IsW3CTraceID(labels["trace_id"]) || !idmap.IsW3CSpanID(labels["span_id"]) {
			t.Fatalf("bucket %g: exemplar %v, want %v (valid W3C ids)", ub, labels, c.want)
		}
		if math.Abs(e.GetValue()-c.s.Duration().Seconds()) > 1e-9 || e.GetTimestamp() == nil {
			t.Fatalf("bucket %g: exemplar value %g at %v, want %g", ub, e.GetValue(), e.GetTimestamp(), c.s.Duration().Seconds())
		}
	}
	if idmap.TraceHex(sofa.TraceID()) == sofa.TraceID() {
		t.Fatalf("the default generator gave %q, not a SOFA id", sofa.TraceID())
	}
}

// TestOverflow: past the series limit of a log type, spans of new stat keys are counted under the
// overflow label value in place of app and operation (their result, code and log type kept), counted
// in metrics_overflow_spans_total, and said in the reporter's self log; another log type keeps its
// own limit; no span is lost from the metrics, and the stat lines keep every key.
func TestOverflow(t *testing.T) {
	m := promdigest.New(promdigest.WithMaxSeries(4))
	p := newPipeline(t, m, "of")
	end := time.Now()
	total := 0
	for i := 0; i < 10; i++ {
		for j := 0; j < 3; j++ {
			p.finish(spanSpec{logType: "job", op: fmt.Sprint("op-", i), code: "00", dur: time.Millisecond}, end)
			total++
		}
	}
	p.finish(spanSpec{logType: "job", op: "op-0", code: "99", dur: time.Millisecond}, end)  // a new label set too
	p.finish(spanSpec{logType: "cache", op: "GET", code: "00", dur: time.Millisecond}, end) // a limit of its own
	total += 2
	p.r.Flush()

	fams := scrape(t, p.url, acceptText)
	counts := map[string]float64{}
	sum := 0.0
	for _, mc := range fams["tracemdc_spans_total"].GetMetric() {
		counts[labelsOf(mc)] = mc.GetCounter().GetValue()
		sum += mc.GetCounter().GetValue()
	}
	want := map[string]float64{
		"app=of,code=00,load_test=false,log_type=job,operation=op-0,result=success":                   3,
		"app=of,code=00,load_test=false,log_type=job,operation=op-1,result=success":                   3,
		"app=of,code=00,load_test=false,log_type=job,operation=op-2,result=success":                   3,
		"app=of,code=00,load_test=false,log_type=job,operation=op-3,result=success":                   3,
		"app=__overflow__,code=00,load_test=false,log_type=job,operation=__overflow__,result=success": 18,
		"app=__overflow__,code=99,load_test=false,log_type=job,operation=__overflow__,result=failure": 1,
		"app=of,code=00,load_test=false,log_type=cache,operation=GET,result=success":                  1,
	}
	if !maps.Equal(counts, want) || sum != float64(total) {
		t.Fatalf("counters\n%v\nwant\n%v", counts, want)
	}
	of := fams["tracemdc_metrics_overflow_spans_total"]
	if of == nil || len(of.GetMetric()) != 1 || labelsOf(of.GetMetric()[0]) != "log_type=job" || of.GetMetric()[0].GetCounter().GetValue() != 19 {
		t.Fatalf("overflow counter %v", of)
	}
	if err := p.r.Close(); err != nil {
		t.Fatal(err)
	}
	self, _ := os.ReadFile(filepath.Join(p.dir, layout.SelfLogName))
	if !strings.Contains(string(self), "promdigest: the limit of 4 series is reached: 1 spans of job with new stat keys counted so far under the label value __overflow__") {
		t.Fatalf("self log:\n%s", self)
	}
	stat, _ := os.ReadFile(filepath.Join(p.dir, layout.StatFileName("job")))
	if n := strings.Count(string(stat), "\n"); n != 11 {
		t.Fatalf("%d stat lines, want 11 (the metrics' limit is theirs only):\n%s", n, stat)
	}
}

// readFile returns the text of a file under dir.
func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestInvalidUTF8Labels: stat keys with invalid UTF-8 (a hostile operation name) are counted under
// their valid form, one series for all of them, and the scrape still parses.
func TestInvalidUTF8Labels(t *testing.T) {
	m := promdigest.New()
	p := newPipeline(t, m, "bad")
	for _, op := range []string{"op\xff", "op\xfe", "op\xff", "op\uFFFD"} {
		p.finish(spanSpec{logType: "job", op: op, code: "00", dur: time.Millisecond}, time.Now())
	}
	p.r.Flush()
	fams := scrape(t, p.url, acceptText)
	var got []string
	for _, mc := range fams["tracemdc_spans_total"].GetMetric() {
		got = append(got, fmt.Sprintf("%s %g", labelsOf(mc), mc.GetCounter().GetValue()))
	}
	if want := "app=bad,code=00,load_test=false,log_type=job,operation=op\uFFFD,result=success 4"; len(got) != 1 || got[0] != want {
		t.Fatalf("series %q, want %q", got, want)
	}
}

// TestBucketsNaNInf: NaN and +Inf among WithBuckets' bounds are left out, so both formats scrape and
// parse with the bounds that remain (a NaN bound made the OpenMetrics scrape unreadable).
func TestBucketsNaNInf(t *testing.T) {
	m := promdigest.New(promdigest.WithBuckets(0.1, math.Inf(1), math.NaN(), -1))
	p := newPipeline(t, m, "shop")
	end := time.Now()
	for _, d := range []time.Duration{50 * time.Millisecond, 5 * time.Second} {
		p.finish(spanSpec{logType: layout.LogTypeHTTPServer, op: "GET /x", url: "/x", method: "GET", code: "200", dur: d}, end)
	}
	p.r.Flush()
	for _, accept := range []string{acceptText, acceptOpenMetrics} {
		h := scrape(t, p.url, accept)["tracemdc_http_request_duration_seconds"].GetMetric()[0].GetHistogram()
		var bounds []float64
		var counts []uint64
		for _, b := range h.GetBucket() {
			bounds, counts = append(bounds, b.GetUpperBound()), append(counts, b.GetCumulativeCount())
		}
		if h.GetSampleCount() != 2 || !slices.Equal(bounds[:2], []float64{-1, 0.1}) || !slices.Equal(counts[:2], []uint64{0, 1}) ||
			(len(bounds) == 3 && (!math.IsInf(bounds[2], 1) || counts[2] != 2)) || len(bounds) > 3 {
			t.Errorf("%s: count %d, buckets %v %v", accept, h.GetSampleCount(), bounds, counts)
		}
	}
}
