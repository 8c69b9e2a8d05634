package digest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
)

// observed is what a test Observer keeps of an Observation.
type observed struct {
	logType, app, route, method, op, code string
	http, client, success, load           bool
	dur                                   time.Duration
	traceID                               string
}

type recordingObserver struct {
	mu  sync.Mutex
	got []observed
}

func (ro *recordingObserver) ObserveSpan(o Observation) {
	ro.mu.Lock()
	defer ro.mu.Unlock()
	ro.got = append(ro.got, observed{o.LogType(), o.App(), o.Route(), o.Method(), o.Operation(), o.ResultCode(),
		o.HTTP(), o.Client(), o.Success(), o.IsLoadTest(), o.Duration(), o.Span().TraceID()})
}

// TestObserverMatchesStatLines: the Observer sees every span the stat lines count (unsampled and
// load-test ones too) with the same key, success and cost: aggregating what it saw gives exactly the
// reporter's stat lines, across the HTTP server, HTTP client and generic layouts.
func TestObserverMatchesStatLines(t *testing.T) {
	ro := &recordingObserver{}
	r, dir := newReporter(t, Config{Observer: ro, Clock: fixedClock(), Location: time.UTC,
		Encoders: map[string]Encoder{"spring-mvc": HTTPServerEncoder()}})
	tr := trace.New("obs", trace.WithReporter(r), trace.WithSampler(trace.PercentageSampler(50)))
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	type spec struct {
		lt, url, code string
		ms            int
		load          bool
	}
	var specs []spec
	for i := 0; i < 60; i++ {
		specs = append(specs,
			spec{LogTypeHTTPServer, fmt.Sprint("/orders/", i%3), []string{"200", "404", "302", "500"}[i%4], i % 7, i%10 == 0},
			spec{LogTypeHTTPClient, "/stock", []string{"00", "200", "503"}[i%3], i % 5, false},
			spec{"spring-mvc", "/legacy", "200", 1, false},
			spec{"redis", "", []string{"", "00", "99", "07"}[i%4], i % 3, i%9 == 0})
	}
	for _, sp := range specs {
		opts := []trace.StartOption{trace.WithLogType(sp.lt), trace.WithStartTime(t0)}
		if sp.load {
			opts = append(opts, trace.WithLoadTest())
		}
		_, s := tr.Start(context.Background(), "op "+sp.lt, opts...)
		if sp.url != "" {
			s.SetTag(layout.FieldRequestURL, sp.url)
			s.SetTag(layout.FieldMethod, "GET")
		}
		if sp.code != "" {
			s.SetResultCode(sp.code)
		}
		s.FinishAt(t0.Add(time.Duration(sp.ms)*time.Millisecond + 300*time.Microsecond))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(ro.got) != len(specs) {
		t.Fatalf("observed %d spans, reported %d", len(ro.got), len(specs))
	}
	for i, o := range ro.got {
		sp := specs[i]
		wantDur := time.Duration(sp.ms)*time.Millisecond + 300*time.Microsecond
		if o.logType != sp.lt || o.app != "obs" || o.load != sp.load || o.dur != wantDur {
			t.Fatalf("span %d %+v: observed %+v", i, sp, o)
		}
		http := sp.url != ""
		if o.http != http || o.client != (sp.lt == LogTypeHTTPClient) {
			t.Fatalf("span %d %+v: layout %+v", i, sp, o)
		}
		if http && (o.route != sp.url || o.method != "GET" || o.op != "") || !http && (o.op != "op redis" || o.route != "" || o.method != "") {
			t.Fatalf("span %d %+v: key %+v", i, sp, o)
		}
		wantCode := sp.code
		if wantCode == "" {
			wantCode = layout.CodeSuccess
		}
		if o.code != wantCode {
			t.Fatalf("span %d %+v: code %q", i, sp, o.code)
		}
	}

	// The observations, aggregated as a stat table, are the stat lines.
	type key struct{ file, app, k1, k2, success, load string }
	type val struct{ count, cost int64 }
	fromObs, fromFiles := map[key]val{}, map[key]val{}
	yn := func(b bool, y, n string) string {
		if b {
			return y
		}
		return n
	}
	for _, o := range ro.got {
		k := key{o.logType, o.app, o.route, o.method, yn(o.success, "Y", "N"), yn(o.load, "T", "F")}
		if !o.http {
			k.k1 = o.op
		}
		v := fromObs[k]
		v.count++
		v.cost += o.dur.Milliseconds()
		fromObs[k] = v
	}
	for _, lt := range []string{LogTypeHTTPServer, LogTypeHTTPClient, "spring-mvc", "redis"} {
		for _, sub := range []string{"", layout.ShadowDirName} {
			for _, line := range readLines(t, filepath.Join(dir, sub, layout.StatFileName(lt))) {
				var sl struct {
					Key     map[string]string `json:"stat.key"`
					Count   int64             `json:"count"`
					Cost    int64             `json:"total.cost.milliseconds"`
					Success string            `json:"success"`
					Load    string            `json:"load.test"`
				}
				if err := json.Unmarshal([]byte(line), &sl); err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				k := key{lt, sl.Key["local.app"], sl.Key["request.url"] + sl.Key["operation"], sl.Key["method"], sl.Success, sl.Load}
				if _, dup := fromFiles[k]; dup {
					t.Fatalf("stat key twice: %s", line)
				}
				fromFiles[k] = val{sl.Count, sl.Cost}
			}
		}
	}
	if !maps.Equal(fromObs, fromFiles) {
		t.Fatalf("observed\n%v\nstat lines\n%v", fromObs, fromFiles)
	}
}

// TestObserverWithoutStatLines: with stat logs off, the Observer still sees every span.
func TestObserverWithoutStatLines(t *testing.T) {
	ro := &recordingObserver{}
	r, dir := newReporter(t, Config{Observer: ro, StatInterval: -1})
	tr := trace.New("obs", trace.WithReporter(r))
	for i := 0; i < 10; i++ {
		httpSpan(tr, "/x", "200")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if len(ro.got) != 10 {
		t.Fatalf("observed %d", len(ro.got))
	}
	if files := listFiles(t, dir); strings.Contains(strings.Join(files, " "), layout.StatSuffix) {
		t.Fatalf("stat files written: %v", files)
	}
}

// TestObserverPanic: a panicking Observer is recovered and counted, self-logged with the span's trace
// id, and the span's digest line is written all the same; spans after it are observed as usual.
func TestObserverPanic(t *testing.T) {
	var calls int
	obs := ObserverFunc(func(o Observation) {
		calls++
		if calls == 2 {
			panic("boom")
		}
		o.ReportError(errors.New("observer says hello"))
	})
	r, dir := newReporter(t, Config{Observer: obs, Policy: Block})
	tr := trace.New("obs", trace.WithReporter(r))
	for i := 0; i < 3; i++ {
		httpSpan(tr, "/x", "200")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	st := r.Stats()
	if st.ObserverPanics != 1 || st.Written != 3 || calls != 3 || st.Errors != 2 {
		t.Fatalf("calls %d, stats %+v", calls, st)
	}
	self := readSelfLog(t, dir)
	if !strings.Contains(self, "observer panicked on a span of http-server: boom") || !strings.Contains(self, "observer says hello") {
		t.Fatalf("self log:\n%s", self)
	}
}

// TestObserverNoAlloc: handling a span with an Observer that reads every part of the Observation
// allocates nothing on the consumer (the Observation is passed by value).
func TestObserverNoAlloc(t *testing.T) {
	var n int
	obs := ObserverFunc(func(o Observation) {
		n += len(o.LogType()) + len(o.App()) + len(o.Route()) + len(o.Method()) + len(o.Operation()) + len(o.ResultCode())
		if o.Success() && !o.IsLoadTest() && o.Duration() >= 0 && o.Span() != nil {
			n++
		}
	})
	r, _ := newReporter(t, Config{Observer: obs, StatInterval: -1, Policy: Block})
	rec := benchSpan()
	r.Report(rec)
	r.Flush() // the log type is resolved and the buffers have grown
	// The consumer is idle between Flush calls: calling handle here is what it would do.
	if a := testing.AllocsPerRun(1000, func() { r.handle(rec) }); a != 0 {
		t.Fatalf("handle with an Observer: %v allocs", a)
	}
	if n == 0 {
		t.Fatal("observer not called")
	}
}
