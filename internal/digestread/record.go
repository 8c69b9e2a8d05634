package digestread

import (
	"strings"
	"time"
)

// Field names of a digest line, in the order the writer puts them. The common fields come first, then
// the component's own fields, then the two baggage fields.
const (
	FieldTime       = "time"                   // span end, TimeLayout, local time
	FieldLocalApp   = "local.app"              // the application that wrote the span
	FieldTraceID    = "traceId"                // trace id
	FieldSpanID     = "spanId"                 // span id, rpcId style ("0", "0.1", "0.1.1")
	FieldSpanKind   = "span.kind"              // "client" or "server"
	FieldResultCode = "result.code"            // HTTP status, or "00" success, "99" error, "03" timeout
	FieldThreadName = "current.thread.name"    // the goroutine or thread label
	FieldCost       = "time.cost.milliseconds" // duration, written as "<n>ms"
	FieldRequestURL = "request.url"            // HTTP components
	FieldMethod     = "method"                 // HTTP components
	FieldReqSize    = "req.size.bytes"         // HTTP components
	FieldRespSize   = "resp.size.bytes"        // HTTP components
	FieldError      = "error"                  // HTTP server; HTTP client too, in JSON, when the call failed
	FieldRemoteApp  = "remote.app"             // HTTP client only
	FieldOperation  = "operation"              // non-HTTP components: the operation name, when present
	FieldSysBaggage = "sys.baggage"            // k=v&k=v& (escaped)
	FieldBizBaggage = "biz.baggage"            // k=v&k=v& (escaped); the load-test mark is mark=T
)

// TimeLayout is the layout of the time field: yyyy-MM-dd HH:mm:ss.SSS.
const TimeLayout = "2006-01-02 15:04:05.000"

// Common is the list of common fields, in line order.
var Common = []string{FieldTime, FieldLocalApp, FieldTraceID, FieldSpanID, FieldSpanKind, FieldResultCode,
	FieldThreadName, FieldCost}

// HTTPServerFields and HTTPClientFields are the component fields of the HTTP server and client digest
// lines, in line order, between the common fields and the baggage.
var (
	HTTPServerFields = []string{FieldRequestURL, FieldMethod, FieldReqSize, FieldRespSize, FieldError}
	HTTPClientFields = []string{FieldRequestURL, FieldMethod, FieldReqSize, FieldRespSize, FieldRemoteApp}
)

// KindClient and KindServer are the values of the span.kind field.
const (
	KindClient = "client"
	KindServer = "server"
)

// Field is one key/value pair of a digest line. Values of JSON strings are unescaped; other JSON values
// (numbers, objects) keep their JSON text.
type Field struct {
	Key, Value string
}

// Record is one parsed digest line. A Record owns its strings; it stays valid after the reader moves on.
type Record struct {
	Time       time.Time     // span end
	App        string        // local.app
	TraceID    string        // traceId
	SpanID     string        // spanId
	Kind       string        // span.kind
	ResultCode string        // result.code
	Thread     string        // current.thread.name
	Cost       time.Duration // time.cost.milliseconds
	URL        string        // request.url, else operation
	Method     string        // method
	LogType    string        // from the file name: "spring-mvc" for spring-mvc-digest.log
	LoadTest   bool          // biz baggage mark=T, or read from a shadow/ file
	Raw        string        // the original line, without its line end
	Fields     []Field       // every field of the line, in line order
}

// Get returns the value of the field key and whether the line has it.
func (r *Record) Get(key string) (string, bool) {
	for _, f := range r.Fields {
		if f.Key == key {
			return f.Value, true
		}
	}
	return "", false
}

// Start returns the span's start time: its end time minus its cost.
func (r *Record) Start() time.Time { return r.Time.Add(-r.Cost) }

// Success reports whether the span's result code means success (see Success).
func (r *Record) Success() bool { return Success(r.ResultCode) }

// Success reports whether a digest result code means success: "00" (RPC and other components), or an
// HTTP status (three digits) starting with 1 or 2, or 301/302. Everything else, the empty code
// included, is a failure.
func Success(code string) bool {
	if code == "00" {
		return true
	}
	if len(code) != 3 || !isDigits(code) {
		return false
	}
	return code[0] == '1' || code[0] == '2' || code == "301" || code == "302"
}

// LoadTestMark reports whether serialized biz baggage (k=v&k=v&) carries the load-test mark mark=T.
func LoadTestMark(bizBaggage string) bool {
	for bizBaggage != "" {
		var entry string
		entry, bizBaggage, _ = strings.Cut(bizBaggage, "&")
		if entry == "mark=T" {
			return true
		}
	}
	return false
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
