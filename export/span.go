package export

import (
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/trace"
)

// Attribute keys the exporters add to a span's tags.
const (
	// AttrOriginSpanID and AttrOriginParentSpanID carry a span's own ids when the backend sees
	// mapped ones (SOFA rpcId-style ids), as SOFATracer's Zipkin reporter sends them.
	AttrOriginSpanID       = "origin.span.id"
	AttrOriginParentSpanID = "origin.parent.span.id"
	// AttrResultCode is the span's result code (layout.FieldResultCode), when it has one.
	AttrResultCode = layout.FieldResultCode
	// AttrLogType is the span's log type ("http-server", ...), when it has one.
	AttrLogType = layout.FieldLogType
	// AttrLoadTest is true on a span with the load-test mark (biz baggage mark=T).
	AttrLoadTest = "load.test"
)

// keptSuffix makes the id of a span that kept its caller's span id (see IDs).
const keptSuffix = "/server"

// IDs returns the ids a backend gets for s: idmap's mapping (W3C ids as they are; a SOFA trace id
// left-padded to 32 hex digits; other span ids, rpcId-style SOFA ids among them, FNV-1a 64 of the
// id), which is SOFATracer's Zipkin reporter's, so that Java and Go spans of one trace join, with one
// change: a server span that kept the span id of its caller (trace.ServerSpanKeep, as SOFARPC
// servers do; FinishedSpan.KeptRemoteID) gets an id of its own, idmap.SpanID(spanId+"/server"),
// whose parent is the caller's client span (idmap.SpanID(spanId)), so that no backend sees two
// spans with one id; its local children point at that own id. A root's parent id is all zero.
func IDs(s *trace.FinishedSpan) (traceID [16]byte, spanID, parentID [8]byte) {
	spanID, parentID = SpanIDs(s)
	return idmap.TraceID(s.TraceID()), spanID, parentID
}

// SpanIDs returns the span id and parent id of IDs, for an encoder that maps the trace id once for
// the spans of one trace.
func SpanIDs(s *trace.FinishedSpan) (spanID, parentID [8]byte) {
	switch {
	case s.KeptRemoteID():
		return keptSpanID(s.SpanID()), idmap.SpanID(s.SpanID())
	case s.ParentKeptRemoteID():
		return idmap.SpanID(s.SpanID()), keptSpanID(s.ParentID())
	}
	return idmap.SpanID(s.SpanID()), idmap.SpanID(s.ParentID())
}

func keptSpanID(id string) [8]byte {
	var buf [64]byte
	return idmap.SpanID(string(append(append(buf[:0], id...), keptSuffix...)))
}

// Status says whether s failed, and why: it failed when it has an error (its message is the
// reason) or a result code that its log type's success rule refuses (SOFATracer's rules, package
// digest/layout: HTTP spans by their status, RPC spans 00 or blank, others 00 or an HTTP success
// status); the reason is then "result.code <code>". A span without code nor error did not fail.
func Status(s *trace.FinishedSpan) (failed bool, reason string) {
	if msg := s.ErrorMessage(); msg != "" {
		return true, msg
	}
	if s.Err() != nil {
		return true, "error"
	}
	code := s.ResultCode()
	if code == "" {
		return false, ""
	}
	var ok bool
	switch s.LogType() {
	case layout.LogTypeHTTPServer, layout.LogTypeSpringMVC:
		ok = layout.HTTPSuccess(code, false)
	case layout.LogTypeHTTPClient:
		ok = layout.HTTPSuccess(code, true)
	case layout.LogTypeRPCClient, layout.LogTypeRPCServer:
		ok = layout.RPCSuccess(code)
	default:
		ok = layout.ReadSuccess(code, false, false)
	}
	if ok {
		return false, ""
	}
	return true, AttrResultCode + " " + code
}

// AppendAttributes appends the attributes a backend gets for s to dst and returns it: the span's
// tags in order, then AttrResultCode, AttrLogType, the biz and the sys baggage entries under their
// own keys (as SOFATracer's Zipkin reporter and OpenTelemetry's baggage processor do), AttrLoadTest,
// and AttrOriginSpanID/AttrOriginParentSpanID when the ids are mapped. A key is given once: a
// baggage entry whose key a tag already has is left out. It allocates only to grow dst.
func AppendAttributes(dst []trace.Tag, s *trace.FinishedSpan) []trace.Tag {
	start := len(dst)
	for t := range s.Tags {
		dst = append(dst, t)
	}
	if code := s.ResultCode(); code != "" {
		dst = appendNew(dst, start, trace.String(AttrResultCode, code))
	}
	if lt := s.LogType(); lt != "" {
		dst = appendNew(dst, start, trace.String(AttrLogType, lt))
	}
	for k, v := range s.BizBaggage().Range {
		dst = appendNew(dst, start, trace.String(k, v))
	}
	for k, v := range s.SysBaggage().Range {
		dst = appendNew(dst, start, trace.String(k, v))
	}
	if s.IsLoadTest() {
		dst = appendNew(dst, start, trace.Bool(AttrLoadTest, true))
	}
	if id := s.SpanID(); !idmap.IsW3CSpanID(id) || s.KeptRemoteID() {
		dst = appendNew(dst, start, trace.String(AttrOriginSpanID, id))
	}
	if id := s.ParentID(); id != "" && (!idmap.IsW3CSpanID(id) || s.KeptRemoteID() || s.ParentKeptRemoteID()) {
		dst = appendNew(dst, start, trace.String(AttrOriginParentSpanID, id))
	}
	return dst
}

// appendNew appends t unless dst[start:] has its key.
func appendNew(dst []trace.Tag, start int, t trace.Tag) []trace.Tag {
	for i := start; i < len(dst); i++ {
		if dst[i].Key == t.Key {
			return dst
		}
	}
	return append(dst, t)
}
