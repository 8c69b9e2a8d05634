// Package tracehttp traces net/http servers and clients with a trace.Tracer, speaking the header formats
// of package propagation (SOFATracer's B3 names and sftc_head, MOSN, W3C). Middleware starts a server
// span per request and hands the handler a context whose MDC carries the ids; Transport starts a client
// span per outbound request and injects its context into the request's headers.
//
//	mux := http.NewServeMux()
//	srv := &http.Server{Handler: tracehttp.Middleware(tracer, tracehttp.WithSkipPaths("/healthz"))(mux)}
//	client := &http.Client{Transport: tracehttp.NewTransport(tracer, nil)}
package tracehttp
