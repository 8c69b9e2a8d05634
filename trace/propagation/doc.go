// Package propagation carries span contexts across process boundaries in the formats a Go service's
// neighbours speak: SOFATracer's B3 header names with SOFA ids, the serialized SOFA context (sftc_head),
// MOSN's SOFA-TraceId/SOFA-RpcId, Zipkin's single b3 header (read only), W3C traceparent,
// tracestate and baggage, and SOFARPC's gRPC metadata (Triple: sofa-traceid, tri-trace-rpcid, …). A
// Composite injects all of its propagators and extracts the first one present and valid.
//
// Extraction never panics. Bad ids or a malformed traceparent give an *Error (test with errors.Is
// against the Err* values here and trace.ErrInvalidID) and no context: the caller counts the error and
// starts a new root. A sampled flag that cannot be read (X-B3-Sampled: yes) does not: it is ignored as
// if absent (the context is sampled, SOFA's default), the ids and baggage are kept, and Extract returns
// the context with an *Error wrapping ErrSampledIgnored. Baggage never costs the caller its trace: entries over the size
// limit or past trace.MaxBaggageEntries, malformed entries (a W3C list-member that cannot be parsed, a
// B3 header key that is not a token, a B3 value that does not URL-decode) and entries past the first 8192 bytes of a header are dropped,
// the rest are kept in order (the load-test mark mark=T/F first, so it is never crowded out), and
// Extract returns the valid context together with an *Error wrapping a *BaggageDropError
// (errors.Is(err, ErrBaggageDropped)). Hand that error to trace.Tracer.ReportError: it counts the error
// once in Stats.Errors and each refused or unread entry in Stats.BaggageRefused.
package propagation
