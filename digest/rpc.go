package digest

import (
	"strconv"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
)

// Built-in log types of SOFARPC-style RPC spans, as the gRPC module names them
// (layout.LogTypeRPCClient and layout.LogTypeRPCServer).
const (
	LogTypeRPCClient = layout.LogTypeRPCClient
	LogTypeRPCServer = layout.LogTypeRPCServer
)

// LineEncoder is an Encoder that also writes whole lines in a layout of its own, for log types whose
// lines do not start with the common fields: SOFARPC's rpc-client and rpc-server lines
// (RPCClientEncoder, RPCServerEncoder) begin with "timestamp" and "tracerId" instead of "time" and
// "traceId". The reporter calls EncodeLine for JSON lines, with the span's result code (see the
// package documentation), and EncodeFields for CSV lines, which keep the common columns.
//
// EncodeLine adds every field of the line, in order, ids and time included; the reporter writes only
// the braces and the line end. The contract of Encoder holds: the consumer goroutine, one span at a
// time, enc not kept, a panic recovered and counted.
type LineEncoder interface {
	Encoder
	EncodeLine(s *trace.FinishedSpan, code string, enc LineFieldEncoder)
}

// LineFieldEncoder is the FieldEncoder a LineEncoder writes a line with. Its strings are escaped and
// cut as FieldEncoder's are.
type LineFieldEncoder interface {
	FieldEncoder
	// AddTime adds t in layout.TimeLayout, in the reporter's Config.Location.
	AddTime(key string, t time.Time)
	// AddIntString adds a number as a JSON string ("634"), as SOFARPC writes its numbers.
	AddIntString(key string, value int64)
	// AddBaggage adds b serialized as SOFA does (k=v&k=v&, '%', '&', '=' escaped as %25, %26, %3D).
	AddBaggage(key string, b trace.Baggage)
}

var (
	_ LineFieldEncoder = (*lineEncoder)(nil)
	_ LineEncoder      = (*rpcEncoder)(nil)
)

// AddTime writes t in the reporter's zone.
func (e *lineEncoder) AddTime(key string, t time.Time) {
	e.key(key)
	if !e.csv {
		e.buf = append(e.buf, '"')
	}
	e.buf = appendTime(e.buf, t.In(e.loc))
	if !e.csv {
		e.buf = append(e.buf, '"')
	}
}

// AddIntString writes value quoted in JSON, plain in CSV.
func (e *lineEncoder) AddIntString(key string, value int64) {
	e.key(key)
	if !e.csv {
		e.buf = append(e.buf, '"')
	}
	e.buf = strconv.AppendInt(e.buf, value, 10)
	if !e.csv {
		e.buf = append(e.buf, '"')
	}
}

// AddBaggage writes b serialized.
func (e *lineEncoder) AddBaggage(key string, b trace.Baggage) { e.baggage(key, b) }

// line writes a whole JSON line with le: its fields between braces, then the line end.
func (e *lineEncoder) line(le LineEncoder, s *trace.FinishedSpan, code string) {
	start := len(e.buf)
	le.EncodeLine(s, code, e)
	if len(e.buf) == start {
		e.buf = append(e.buf, '{')
	} else {
		e.buf[start] = '{' // the separator key wrote before the first field
	}
	e.buf = append(e.buf, '}', '\n')
}

// rpcEncoder is SOFARPC's layout of rpc-client (client true) or rpc-server lines.
type rpcEncoder struct {
	client bool
	fields []string // layout.RPCClientFields or layout.RPCServerFields
}

var (
	rpcClientEnc Encoder = &rpcEncoder{client: true, fields: layout.RPCClientFields}
	rpcServerEnc Encoder = &rpcEncoder{client: false, fields: layout.RPCServerFields}
)

// RPCClientEncoder returns the built-in encoder of rpc-client lines, SOFARPC's layout:
//
//	{"timestamp":"2024-05-01 12:00:00.015","tracerId":"0ad1…","spanId":"0.1","span.kind":"client",
//	"local.app":"orders","protocol":"grpc","service":"shop.Inventory","method":"Reserve",
//	"current.thread.name":"goroutine","invoke.type":"sync","remote.app":"inventory",
//	"remote.ip":"127.0.0.1:50051","local.client.ip":"127.0.0.1","result.code":"00","resp.size":"12",
//	"req.size":"15","client.elapse.time":"3","local.client.port":"53124","baggage":"mark=T&"}
//
// in layout.RPCClientFields' order, with numbers as JSON strings. Each key comes from the span: the
// ids, kind, application, end time and result code; service and method from their tags, else from an
// operation named "/service/method" (gRPC's full method); current.thread.name as in every line;
// client.elapse.time from its tag, else the span's duration; baggage is the biz baggage (SOFARPC
// writes no sys baggage). Every other key is a tag of that name, left out when the span does not have
// it, as SOFARPC leaves out what it did not measure. After the documented keys come, in JSON only,
// the span's other tags in the order they were set, "error" with the span's error text when it has
// one, and parent.span.id when the span id is not rpcId-style (a W3C id), whose parent cannot be
// derived from it. CSV lines keep the common columns, with SOFARPC's keys that are not among them as
// component fields (empty when absent).
//
// Stat lines of its log types are keyed by local.app, remote.app, service and method, with SOFARPC's
// success rule (layout.RPCSuccess).
func RPCClientEncoder() Encoder { return rpcClientEnc }

// RPCServerEncoder returns the built-in encoder of rpc-server lines: SOFARPC's layout, in
// layout.RPCServerFields' order, built as RPCClientEncoder says (without client.elapse.time).
func RPCServerEncoder() Encoder { return rpcServerEnc }

// commonRPCField reports whether an rpc field is one the common layout writes itself (so CSV lines
// do not repeat it among the component fields).
func commonRPCField(key string) bool {
	switch key {
	case layout.FieldTimestamp, layout.FieldTracerID, layout.FieldSpanID, layout.FieldSpanKind,
		layout.FieldLocalApp, layout.FieldThreadName, layout.FieldResultCode, layout.FieldRPCBaggage:
		return true
	}
	return false
}

// splitOperation reads service and method from an operation named as gRPC's full method,
// "/package.Service/Method" (the leading '/' optional); an operation without '/' is the service.
func splitOperation(op string) (service, method string) {
	op = strings.TrimPrefix(op, "/")
	if i := strings.LastIndexByte(op, '/'); i >= 0 {
		return op[:i], op[i+1:]
	}
	return op, ""
}

// serviceMethod returns the service and method of s: its tags, else its operation.
func serviceMethod(s *trace.FinishedSpan) (service, method string) {
	service, method = splitOperation(s.Operation())
	if v, ok := s.Tag(layout.FieldService); ok {
		service = v.String()
	}
	if v, ok := s.Tag(layout.FieldMethod); ok {
		method = v.String()
	}
	return service, method
}

// statKey returns the stat key fields of s beyond local.app: remote.app, service and method.
func (e *rpcEncoder) statKey(s *trace.FinishedSpan) (remote, service, method string) {
	if v, ok := s.Tag(layout.FieldRemoteApp); ok && v.Kind() == trace.TagString {
		remote = v.String()
	}
	service, method = serviceMethod(s)
	return remote, service, method
}

// value returns the tag-like value of an rpc field that is neither an id, the time, the kind, the
// application, the thread, the result code nor the baggage.
func (e *rpcEncoder) value(s *trace.FinishedSpan, key, service, method string) (trace.TagValue, bool) {
	switch key {
	case layout.FieldService:
		return trace.String("", service).Value, true
	case layout.FieldMethod:
		return trace.String("", method).Value, true
	}
	if v, ok := s.Tag(key); ok {
		return v, true
	}
	if key == layout.FieldClientElapseTime && e.client {
		return trace.Int64("", s.Duration().Milliseconds()).Value, true
	}
	return trace.TagValue{}, false
}

// addRPCValue adds an rpc field value: numbers as JSON strings, booleans bare.
func addRPCValue(enc LineFieldEncoder, key string, v trace.TagValue) {
	switch v.Kind() {
	case trace.TagInt:
		enc.AddIntString(key, v.Int64())
	case trace.TagBool:
		enc.AddBool(key, v.Bool())
	default:
		enc.AddString(key, v.String())
	}
}

// EncodeLine writes a whole JSON line (see RPCClientEncoder).
func (e *rpcEncoder) EncodeLine(s *trace.FinishedSpan, code string, enc LineFieldEncoder) {
	service, method := serviceMethod(s)
	for _, key := range e.fields {
		switch key {
		case layout.FieldTimestamp:
			enc.AddTime(key, s.End())
		case layout.FieldTracerID:
			enc.AddString(key, s.TraceID())
		case layout.FieldSpanID:
			enc.AddString(key, s.SpanID())
		case layout.FieldSpanKind:
			enc.AddString(key, s.Kind().String())
		case layout.FieldLocalApp:
			enc.AddString(key, s.App())
		case layout.FieldThreadName:
			if v, ok := s.Tag(TagThreadName); ok {
				enc.AddTag(key, v)
			} else {
				enc.AddString(key, DefaultThreadName)
			}
		case layout.FieldResultCode:
			enc.AddString(key, code)
		case layout.FieldRPCBaggage:
			// written last, after the extra fields below
		default:
			if v, ok := e.value(s, key, service, method); ok {
				addRPCValue(enc, key, v)
			}
		}
	}
	hasErr := false
	for t := range s.Tags {
		if e.layoutField(t.Key) || reservedField(t.Key) {
			continue
		}
		if t.Key == layout.FieldError {
			if t.Value.String() == "" {
				continue
			}
			hasErr = true
		}
		addRPCValue(enc, t.Key, t.Value)
	}
	if !hasErr && s.Err() != nil {
		enc.AddString(layout.FieldError, s.ErrorMessage())
	}
	if p := s.ParentID(); p != "" && !layout.IsRPCID(s.SpanID()) {
		enc.AddString(layout.FieldParentSpanID, p)
	}
	enc.AddBaggage(layout.FieldRPCBaggage, s.BizBaggage())
}

// layoutField reports whether key is one of the encoder's documented fields.
func (e *rpcEncoder) layoutField(key string) bool {
	for _, f := range e.fields {
		if f == key {
			return true
		}
	}
	return false
}

// EncodeFields writes the component fields of a CSV line: SOFARPC's keys that the common columns do
// not hold, in order, empty when the span has no value.
func (e *rpcEncoder) EncodeFields(s *trace.FinishedSpan, enc FieldEncoder) {
	service, method := serviceMethod(s)
	for _, key := range e.fields {
		if commonRPCField(key) {
			continue
		}
		v, _ := e.value(s, key, service, method)
		enc.AddTag(key, v)
	}
}

// RPC reports whether the log type has an rpc layout (RPCClientEncoder, RPCServerEncoder): its stat
// key is app, remote app, service and method.
func (o *Observation) RPC() bool { return o.ti.rpc != nil }

// RemoteApp returns the remote.app part of an rpc stat key, "" for other log types.
func (o *Observation) RemoteApp() string {
	if o.ti.rpc != nil {
		return o.key.k1
	}
	return ""
}

// Service returns the service part of an rpc stat key, "" for other log types.
func (o *Observation) Service() string {
	if o.ti.rpc != nil {
		return o.key.k2
	}
	return ""
}
