// Package promdigest exposes what tracemdc's digest stat lines count as Prometheus metrics: per log
// type a request counter and a duration histogram, keyed by the stat lines' own key (app, route and
// method for HTTP; app, remote app, service and method for RPC; app and operation for the rest), with
// the trace of a recent span as the exemplar of each histogram bucket. It is a module of its own, so
// the main tracemdc module does not depend on Prometheus.
//
//	m := promdigest.New()
//	prometheus.MustRegister(m)                                // or any prometheus.Registerer
//	r, err := digest.New(digest.Config{Observer: m})          // files, or Output: os.Stdout
//	http.Handle("/metrics", promhttp.HandlerFor(prometheus.DefaultGatherer,
//		promhttp.HandlerOpts{EnableOpenMetrics: true}))    // OpenMetrics carries the exemplars
//
// # Off the request path
//
// Metrics is a digest.Observer: the reporter calls it on its consumer goroutine, for each span it
// counts in its stat lines, after the span left the request through the reporter's queue. The
// request path pays nothing for the metrics (no allocation, no lock, no label lookup there), and the
// metrics see exactly the spans the stat lines count, with the same key: one derivation, in package
// digest, so a route is the stat key's: the route template when the span has one (tracehttp's
// middleware sets it from Go's ServeMux pattern, its WithRoute function or the handler's
// Span.SetRoute), never the URL with its ids; only a span without a route, such as a client call,
// is keyed by its URL, and the series limit below caps those. The metrics and the stat lines never
// disagree. The cost falls on the consumer, with no lock and no allocation once the
// series exists: the series is found in a small cache indexed by its key's lengths (the key
// compared in full), else in a copy-on-write map, and a span costs two atomic additions (its
// bucket, the sum in nanoseconds); the counter is the histogram's count, made at scrape time, so the
// two always agree. BenchmarkObserveSpan measures that alone, BenchmarkPipeline/metrics against
// BenchmarkPipeline/digest_only the whole pipeline.
//
// # Metrics and labels
//
// Names follow Prometheus' conventions (base unit seconds, _total counters), under the namespace
// "tracemdc" (WithNamespace):
//
//	tracemdc_http_requests_total, tracemdc_http_request_duration_seconds
//	    {log_type, app, method, route, result, code, load_test}
//	tracemdc_rpc_requests_total, tracemdc_rpc_request_duration_seconds
//	    {log_type, app, remote_app, service, method, result, code, load_test}
//	tracemdc_spans_total, tracemdc_span_duration_seconds
//	    {log_type, app, operation, result, code, load_test}
//	tracemdc_metrics_overflow_spans_total {log_type}
//
// A log type is a label, not a name: log types are the program's own strings (http-server,
// spring-mvc, rpc-client…), and one family per layout keeps one set of label names per metric name.
// result is success or failure by the log type's success rule (SOFA's, as in the stat line's Y/N);
// code is the result code's class (CodeClass: 2xx, 4xx… for HTTP, 00 to 04 and 99 for RPC and the
// rest, none, other), a label of a few values whatever codes a program sets; load_test is true for
// spans with the load-test mark.
//
// # Cardinality
//
// A stat key can come from the outside (a route a router does not know, a method, an operation named
// after its input, the URL of a client call, which knows no route), so the label sets of each log
// type are limited (WithMaxSeries, DefaultMaxSeries): http-client URLs cannot crowd out http-server
// routes. Past the limit, a span whose key has no series yet is counted with OverflowValue in place
// of app and the key's labels (route and method, remote_app, service and method, or operation), its
// log type, result, code and load-test labels kept, and in tracemdc_metrics_overflow_spans_total;
// the reporter's tracer-self.log says so (a *LimitError) at the first such span of a log type and at
// most once a minute after. No span goes uncounted, and the memory stays bounded: the overflowing
// keys are not kept.
//
// # Exemplars
//
// Each histogram bucket carries, as its OpenMetrics exemplar, the ids of a recent sampled span that
// fell into it: a dashboard links from a slow bucket to that trace. The exemplar's trace_id and
// span_id are the ids as a tracing backend holds them, by package idmap, the mapping the exporters
// use: a W3C trace id as it is, a SOFA trace id left-padded with zeros to 32 hex characters as
// SOFATracer's Zipkin reporter sends it, a SOFA span id hashed to 16 hex — valid W3C ids, which
// Grafana and the backends expect, and the key a link to Jaeger, Tempo or Zipkin needs. A SOFA id
// itself would not resolve there, and the padded form is not what a log line shows, so an exemplar of
// a SOFA trace also carries digest_trace_id, the id of the digest and business log lines, for a link
// to a log store (the digest lines on stdout, shipped to Loki or Elasticsearch) or to tracetail.
// Unsampled spans, which no backend holds, never become exemplars. A bucket takes a new exemplar at
// most once per second of span end times (WithExemplarInterval): an exemplar costs a few
// allocations, the steady path none.
package promdigest
