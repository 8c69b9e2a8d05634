// Package export sends finished spans to tracing backends (Jaeger, Zipkin, Tempo, any
// OpenTelemetry collector), so that the traces of a fleet can be searched in one place. An
// Exporter is a trace.Reporter: give it to the tracer beside the digest reporter, and every
// sampled span goes both to the digest files and to the backend.
//
//	exp, err := export.NewZipkin(export.WithEndpointURL("http://jaeger:9411"),
//		export.WithErrorReporter(digestReporter)) // export errors in tracer-self.log
//	if err != nil { ... }
//	defer exp.Close()
//	tracer := trace.New("shop", trace.WithReporter(digestReporter), trace.WithReporter(exp))
//
// This package speaks Zipkin v2 JSON (NewZipkin) and has no dependency outside the standard
// library; the OTLP exporter (OTLP/HTTP protobuf, configured by the OTEL_EXPORTER_OTLP_*
// variables) is the nested module github.com/tracemdc/tracemdc/export/otlp, which builds on New.
//
// # Ids
//
// IDs maps the tracer's ids as SOFATracer's Zipkin reporter does (package idmap): a Java
// SOFATracer service and a Go service of one trace land in one backend trace, with the right
// parents. Unlike SOFATracer, a server span that kept its caller's span id (SOFARPC's way) gets an
// id of its own, child of the caller's client span, and local spans are not marked CLIENT.
//
// # Off the request path
//
// Report only puts the span in a bounded queue (asyncwriter.Ring). With the Discard policy (the
// default) a full queue drops the span and counts it, so a backend that is down or slow never holds
// up Finish, nor the reporters after this one; with Block nothing is dropped and Finish waits for
// room. One goroutine sends batches (by size, or when the oldest span has waited WithBatch's delay),
// retrying with backoff on connection errors and HTTP 429, 502, 503, 504 within a bounded time.
// Close drains the queue within a deadline. Stats accounts for every span: Spans == Exported +
// Dropped + Failed once Close returned. Errors (refused batches, drops, a Close that gave up) go,
// rate-limited, to the trace.ErrorReporters of WithErrorReporter: the digest reporter writes them
// to tracer-self.log.
package export
