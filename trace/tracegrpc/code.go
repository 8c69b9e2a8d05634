package tracegrpc

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// Result codes of the spans, SOFARPC's (see the package documentation for the mapping).
const (
	CodeSuccess  = layout.CodeSuccess  // 00: OK
	CodeBizError = layout.CodeBizError // 01: a status a handler returned
	CodeRPCError = layout.CodeRPCError // 02: transport, framework and internal failures
	CodeTimeout  = layout.CodeTimeout  // 03: DeadlineExceeded
	CodeRouting  = layout.CodeRouting  // 04: no address to call
)

// resultCode maps the error a call ended with to SOFARPC's result code: layout.GRPCResultCode of its
// status, or CodeRouting for a client call that found no address. unsent is true for a client call
// that never got a transport stream (no request header went out).
func resultCode(err error, unsent bool) string {
	if err == nil {
		return CodeSuccess
	}
	st, _ := status.FromError(err)
	if st.Code() == codes.Unavailable && unsent && noAddress(st.Message()) {
		return CodeRouting
	}
	return layout.GRPCResultCode(uint32(st.Code()))
}

// noAddress reports whether the message of an Unavailable status that failed a call before it had a
// connection says name resolution gave no address: gRPC's pickers fail with "name resolver error: …"
// (pick_first, on a resolver error or an empty address list), "produced zero addresses" or "no
// children to pick from" (the other balancers).
func noAddress(msg string) bool {
	return strings.Contains(msg, "name resolver error") || strings.Contains(msg, "produced zero addresses") ||
		strings.Contains(msg, "no children to pick from")
}
