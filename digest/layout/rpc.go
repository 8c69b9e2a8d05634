package layout

// Field names of SOFARPC's digest lines (log types LogTypeRPCClient and LogTypeRPCServer). They differ
// from the common ones: the end time is "timestamp" and the trace id "tracerId"; spanId, span.kind,
// local.app, result.code, current.thread.name, remote.app and method are spelled as in the common
// layout (FieldSpanID, FieldSpanKind, …). Times are whole milliseconds and sizes bytes, written as
// JSON strings ("634"), as SOFARPC writes them.
const (
	FieldTimestamp           = "timestamp"             // span end, TimeLayout, local time
	FieldTracerID            = "tracerId"              // trace id
	FieldProtocol            = "protocol"              // "grpc", "bolt", "tri", …
	FieldService             = "service"               // the service (gRPC: package.Service)
	FieldInvokeType          = "invoke.type"           // one of the Invoke* values
	FieldRouterRecord        = "router.record"         // how the address was found (SOFARPC: REGISTRY, DIRECT)
	FieldRemoteIP            = "remote.ip"             // the peer, host:port
	FieldLocalClientIP       = "local.client.ip"       // client: the local address of the connection
	FieldLocalClientPort     = "local.client.port"     // client: the local port of the connection
	FieldReqSerializeTime    = "req.serialize.time"    // client: ms to serialize the request
	FieldRespDeserializeTime = "resp.deserialize.time" // client: ms to deserialize the response
	FieldRPCRespSize         = "resp.size"             // response bytes on the wire
	FieldRPCReqSize          = "req.size"              // request bytes on the wire
	FieldClientConnTime      = "client.conn.time"      // client: ms to connect
	FieldClientElapseTime    = "client.elapse.time"    // client: ms of the whole call
	FieldServerPoolWaitTime  = "server.pool.wait.time" // server: ms waiting for a worker
	FieldBizImplTime         = "biz.impl.time"         // server: ms in the handler
	FieldRespSerializeTime   = "resp.serialize.time"   // server: ms to serialize the response
	FieldReqDeserializeTime  = "req.deserialize.time"  // server: ms to deserialize the request
	FieldRPCBaggage          = "baggage"               // the biz baggage, k=v&k=v& (SOFARPC writes no sys baggage)
)

// RPCClientFields and RPCServerFields are SOFARPC's documented key orders of the rpc-client and
// rpc-server digest lines. A writer uses them; a reader must not depend on them: SOFATracer 3.1.4 and
// later print the tags in hash order.
var (
	RPCClientFields = []string{FieldTimestamp, FieldTracerID, FieldSpanID, FieldSpanKind, FieldLocalApp,
		FieldProtocol, FieldService, FieldMethod, FieldThreadName, FieldInvokeType, FieldRouterRecord,
		FieldRemoteApp, FieldRemoteIP, FieldLocalClientIP, FieldResultCode, FieldReqSerializeTime,
		FieldRespDeserializeTime, FieldRPCRespSize, FieldRPCReqSize, FieldClientConnTime,
		FieldClientElapseTime, FieldLocalClientPort, FieldRPCBaggage}
	RPCServerFields = []string{FieldTimestamp, FieldTracerID, FieldSpanID, FieldSpanKind, FieldService,
		FieldMethod, FieldRemoteIP, FieldRemoteApp, FieldProtocol, FieldLocalApp, FieldThreadName,
		FieldResultCode, FieldServerPoolWaitTime, FieldBizImplTime, FieldRespSerializeTime,
		FieldReqDeserializeTime, FieldRPCRespSize, FieldRPCReqSize, FieldRPCBaggage}
)

// Values of FieldInvokeType.
const (
	InvokeSync         = "sync"
	InvokeOneway       = "oneway"
	InvokeCallback     = "callback"
	InvokeFuture       = "future"
	InvokeClientStream = "client_stream"
	InvokeServerStream = "server_stream"
	InvokeBiStream     = "bi_stream"
)

// ProtocolGRPC is the FieldProtocol value of gRPC calls, as SOFARPC writes it.
const ProtocolGRPC = "grpc"

// RPCStatKey is the list of the stat.key fields of rpc stat lines, in line order. An rpc stat line is
// {"time":…,"stat.key":{"local.app":…,"remote.app":…,"service":…,"method":…},"count":N,
// "total.cost.milliseconds":M,"success":"Y"}: SOFARPC's, without load.test (load-test spans are counted
// in the stat files under ShadowDirName).
var RPCStatKey = []string{FieldLocalApp, FieldRemoteApp, FieldService, FieldMethod}

// IsRPCID reports whether a span id is rpcId-style: decimal components joined by '.' ("0", "0.1.2"),
// whose parent is the part before the last '.'. W3C's 16 hex digits are not.
func IsRPCID(id string) bool {
	if id == "" {
		return false
	}
	prevDot := true
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= '0' && c <= '9':
			prevDot = false
		case c == '.' && !prevDot:
			prevDot = true
		default:
			return false
		}
	}
	return !prevDot
}

// GRPCResultCode is the result code of a gRPC call that ended with status code c (gRPC's numbering,
// google.golang.org/grpc/codes): OK (0) gives CodeSuccess; DeadlineExceeded (4) CodeTimeout;
// Canceled (1), ResourceExhausted (8), Unimplemented (12), Internal (13), Unavailable (14) and
// DataLoss (15), failures of the transport or the framework, CodeRPCError; any other status, the
// handler's own (Unknown for a plain error, InvalidArgument, NotFound, PermissionDenied, ...),
// CodeBizError. CodeRouting (no address to call) is not a status: the gRPC client instrumentation
// tells it from the Unavailable of a call that never had a connection. Package tracegrpc and
// OpenTelemetry's gRPC spans in otelmdc both map through it.
func GRPCResultCode(c uint32) string {
	switch c {
	case 0:
		return CodeSuccess
	case 4:
		return CodeTimeout
	case 1, 8, 12, 13, 14, 15:
		return CodeRPCError
	}
	return CodeBizError
}
