package digest

import (
	"fmt"
	"time"

	"github.com/tracemdc/tracemdc/trace"
)

// Observer is told of every span a Reporter counts in its stat lines (sampled or not, whatever the
// stat interval, stat logs off included), with what the stat aggregation derived from it: the log
// type, the stat key, the result code, success and the load-test mark. It is the hook for metrics:
// module github.com/tracemdc/tracemdc/promdigest turns it into Prometheus counters and histograms
// keyed exactly as the stat lines are.
//
// ObserveSpan runs on the reporter's consumer goroutine, off the request path, one span at a time:
// what it costs delays the digest lines, never a request (a slow Observer makes the queue fill, as a
// slow disk does). An Observer given to several reporters is called from each one's consumer and
// must be safe for concurrent use. The Observation is passed by value, as slog passes a Record: it
// costs no allocation and may be kept. A panic in ObserveSpan is recovered, counted in
// Stats.ObserverPanics and written to tracer-self.log; the span's lines are written all the same.
type Observer interface {
	ObserveSpan(o Observation)
}

// ObserverFunc is an Observer made of a function.
type ObserverFunc func(o Observation)

// ObserveSpan calls f.
func (f ObserverFunc) ObserveSpan(o Observation) { f(o) }

// Observation is one span as the stat aggregation counts it: its methods give the parts of its stat
// line's key and outcome, derived once by the reporter for both. The zero Observation is not valid.
type Observation struct {
	r    *Reporter
	ti   *typeInfo
	s    *trace.FinishedSpan
	key  statKey
	code string
}

// Span returns the finished span.
func (o *Observation) Span() *trace.FinishedSpan { return o.s }

// LogType returns the log type as its files are named (<type>-stat.log): the span's log type, or
// Config.DefaultLogType, made safe for a file name.
func (o *Observation) LogType() string { return o.ti.name }

// HTTP reports whether the span has the HTTP layout (the built-in http-server and http-client
// encoders, those registered for another log type, or, in a log type without an encoder of its own,
// an HTTP span: see Config.Encoders): its stat key is app, route and method. Otherwise the stat key
// is app and operation.
func (o *Observation) HTTP() bool { return o.ti.http }

// Client reports whether the span has the HTTP client layout.
func (o *Observation) Client() bool { return o.ti.client }

// App returns the local.app of the stat key.
func (o *Observation) App() string { return o.key.app }

// Route returns the request.url part of an HTTP stat key, "" for other log types: the span's route
// template (trace.Span.SetRoute, "/orders/{id}") when it has one, else its URL. It is what the stat
// line aggregates on, so metrics keyed on it have the stat lines' cardinality.
func (o *Observation) Route() string {
	if o.ti.http {
		return o.key.k1
	}
	return ""
}

// Method returns the method part of an HTTP or rpc stat key, "" for other log types.
func (o *Observation) Method() string {
	switch {
	case o.ti.http:
		return o.key.k2
	case o.ti.rpc != nil:
		return o.key.k3
	}
	return ""
}

// Operation returns the operation of a stat key of a log type with neither the HTTP nor an rpc
// layout, "" for those.
func (o *Observation) Operation() string {
	if o.ti.http || o.ti.rpc != nil {
		return ""
	}
	return o.key.k1
}

// ResultCode returns the result code of the span's digest and stat lines: its own, or the one the
// reporter gives a span that set none (see the package documentation).
func (o *Observation) ResultCode() string { return o.code }

// Success reports the stat line's success (Y), by the rule of the log type's layout.
func (o *Observation) Success() bool { return o.key.success }

// IsLoadTest reports whether the span carries the load-test mark (its lines go to shadow/), as
// trace.FinishedSpan.IsLoadTest does.
func (o *Observation) IsLoadTest() bool { return o.key.load }

// Duration returns the span's duration (the stat lines sum it in whole milliseconds).
func (o *Observation) Duration() time.Duration { return o.s.Duration() }

// ReportError writes err, rate-limited, to the reporter's tracer-self.log, as Reporter.ReportError
// does: an Observer's way to say what it refused (a metric over its cardinality limit, say).
func (o *Observation) ReportError(err error) { o.r.ReportError(err) }

// observe hands s to Config.Observer, recovering a panic. The Observation is built on the stack and
// passed by value: neither an allocation nor a write to the heap per span.
func (r *Reporter) observe(ti *typeInfo, s *trace.FinishedSpan, k *statKey, code string) {
	defer r.recoverObserver(ti, s)
	r.cfg.Observer.ObserveSpan(Observation{r: r, ti: ti, s: s, key: *k, code: code})
}

// recoverObserver counts and self-logs a panic of the Observer.
func (r *Reporter) recoverObserver(ti *typeInfo, s *trace.FinishedSpan) {
	if p := recover(); p != nil {
		r.observerPanics.Add(1)
		r.self.log(levelError, "observer", s.TraceID(), fmt.Sprintf("observer panicked on a span of %s: %v", ti.name, p))
	}
}
