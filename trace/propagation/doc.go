// Package propagation carries span contexts across process boundaries in the formats a Go service's
// neighbours speak: SOFATracer's B3 header names with SOFA ids, the serialized SOFA context (sftc_head),
// MOSN's SOFA-TraceId/SOFA-RpcId, and W3C traceparent, tracestate and baggage. A Composite injects all
// of its propagators and extracts the first one present and valid.
//
// Extraction never panics: bad or oversized input gives an *Error (test with errors.Is against the Err*
// values here and trace.ErrInvalidID), which the caller counts, and the caller starts a new root.
package propagation
