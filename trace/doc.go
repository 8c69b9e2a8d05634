// Package trace is the tracer core of tracemdc: spans with SOFATracer-compatible ids, baggage,
// deterministic sampling, start/finish hooks, and the Reporter interface that digest logs are
// written through. By default every span writes its trace id and span id into the MDC (package
// mdc) of the context Start returns, so log lines written with that context carry them.
//
//	tracer := trace.New("shop", trace.WithReporter(reporter))
//	ctx, span := tracer.Start(ctx, "checkout", trace.WithKind(trace.KindServer))
//	defer span.Finish()
//	logger.InfoContext(ctx, "paid") // {"msg":"paid","traceId":"0ad1…","spanId":"0"}
//
// # Ids
//
// SOFAIDGenerator (the default) makes SOFATracer trace ids (IP8 + millis13 + counter4 + pid) and
// rpcId-style span ids ("0", "0.1", "0.1.1"); W3CIDGenerator makes 32/16-hex ids for OpenTelemetry
// and Zipkin peers. A span started from a remote parent is its child (ServerSpanChild, HTTP) or
// keeps its id (ServerSpanKeep, SOFARPC). Chains deeper than MaxDepth restart as a new root.
//
// # Errors
//
// Nothing the tracer does fails a business call: panics in reporters and extensions are recovered,
// refused baggage is dropped whole; both are counted (Tracer.Stats) and handed to reporters that
// implement ErrorReporter.
package trace
