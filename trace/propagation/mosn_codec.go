package propagation

import "github.com/tracemdc/tracemdc/trace"

// Header names MOSN uses over HTTP, in net/http's canonical spelling.
const (
	HeaderSofaTraceID = "Sofa-Traceid"
	HeaderSofaRpcID   = "Sofa-Rpcid"
)

// decodeMOSN reads SOFA-TraceId and SOFA-RpcId; both must be present.
func decodeMOSN(c Carrier) (r record, present bool, err error) {
	r.traceID, r.spanID = c.Get(HeaderSofaTraceID), c.Get(HeaderSofaRpcID)
	if r.traceID == "" && r.spanID == "" {
		return record{}, false, nil
	}
	if r.traceID == "" || r.spanID == "" {
		return record{}, true, ErrMissingID
	}
	r.sampled = true // the parent id is derived from the rpcId by build
	if err := r.checkIDs(); err != nil {
		return record{}, true, err
	}
	return r, true, nil
}

func encodeMOSN(sc trace.SpanContext, c Carrier) {
	c.Set(HeaderSofaTraceID, sc.TraceID())
	c.Set(HeaderSofaRpcID, sc.SpanID())
}
