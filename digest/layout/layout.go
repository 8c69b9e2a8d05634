// Package layout is the one owner of the digest log formats: the field names and their order in
// each kind of line, the time layout, the directory and file names, the result codes and the success
// rules. The writer (package digest), the reader (tracetail), the instrumentation (tracehttp, the gRPC
// module) and the OpenTelemetry span processor all take them from here, so a name is spelled once.
// It imports only the standard library.
//
//	path := filepath.Join(layout.DigestDir(layout.DefaultRoot()), layout.DigestFileName("spring-mvc"))
//	ok := layout.HTTPSuccess("302", false) // true: SOFATracer counts 301 and 302 as success
//
// The formats are SOFATracer's (see the package digest documentation for a whole line).
package layout

import (
	"os"
	"path/filepath"
	"strings"
)

// Field names of a digest line. The common fields come first, then the component's own fields, then
// the two baggage fields.
const (
	FieldTime       = "time"                   // span end, TimeLayout, local time
	FieldLocalApp   = "local.app"              // the application that wrote the span
	FieldTraceID    = "traceId"                // trace id
	FieldSpanID     = "spanId"                 // span id, rpcId style ("0", "0.1", "0.1.1") or 16 hex
	FieldSpanKind   = "span.kind"              // KindClient or KindServer (other kinds as their name)
	FieldResultCode = "result.code"            // HTTP status, or a result code (CodeSuccess, …)
	FieldThreadName = "current.thread.name"    // the goroutine or thread label
	FieldCost       = "time.cost.milliseconds" // duration, written as "<n>ms"
	FieldRequestURL = "request.url"            // HTTP components
	FieldMethod     = "method"                 // HTTP components
	FieldReqSize    = "req.size.bytes"         // HTTP components
	FieldRespSize   = "resp.size.bytes"        // HTTP components
	FieldError      = "error"                  // HTTP server; HTTP client too, in JSON, when the call failed
	FieldRemoteApp  = "remote.app"             // HTTP client, RPC
	FieldOperation  = "operation"              // other components: the operation name, when present
	FieldSysBaggage = "sys.baggage"            // k=v&k=v& (escaped)
	FieldBizBaggage = "biz.baggage"            // k=v&k=v& (escaped); the load-test mark is mark=T
	// FieldRoute is the route template that served an HTTP request ("/orders/{id}", the tag of
	// trace.Span.SetRoute, named as trace.TagRoute): HTTP stat lines key on it, in their request.url
	// field, when a span has it; a JSON digest line carries it after SOFA's fields, with its other
	// tags, and keeps the real URL in request.url.
	FieldRoute = "http.route"
	// FieldParentSpanID is written after SOFA's fields, in JSON lines only, when the span id is not
	// rpcId-style (a W3C id), whose parent cannot be derived from the id itself.
	FieldParentSpanID = "parent.span.id"
)

// SizeSuffix ends the two sizes (FieldReqSize, FieldRespSize) in CSV lines of the HTTP server layout,
// as SOFATracer's Spring MVC CSV encoder writes them ("5B,7B"). JSON lines write the sizes as numbers,
// and the HTTP client CSV layout writes them without a suffix, as SOFATracer's HttpClient encoder does.
const SizeSuffix = "B"

// TimeLayout is the Go layout of the time field: SOFATracer's yyyy-MM-dd HH:mm:ss.SSS.
const TimeLayout = "2006-01-02 15:04:05.000"

// CostSuffix ends the value of FieldCost: "15ms".
const CostSuffix = "ms"

// Common is the list of common fields, in line order.
var Common = []string{FieldTime, FieldLocalApp, FieldTraceID, FieldSpanID, FieldSpanKind, FieldResultCode,
	FieldThreadName, FieldCost}

// HTTPServerFields and HTTPClientFields are the component fields of the HTTP server and client digest
// lines, in line order, between the common fields and the baggage.
var (
	HTTPServerFields = []string{FieldRequestURL, FieldMethod, FieldReqSize, FieldRespSize, FieldError}
	HTTPClientFields = []string{FieldRequestURL, FieldMethod, FieldReqSize, FieldRespSize, FieldRemoteApp}
)

// Baggage is the list of the two baggage fields that end a line, in line order.
var Baggage = []string{FieldSysBaggage, FieldBizBaggage}

// Values of FieldSpanKind.
const (
	KindClient = "client"
	KindServer = "server"
)

// Log types: a span's log type names its files (<type>-digest.log, <type>-stat.log).
const (
	LogTypeHTTPServer = "http-server" // net/http servers (tracehttp.Middleware)
	LogTypeHTTPClient = "http-client" // net/http clients (tracehttp.Transport)
	LogTypeSpringMVC  = "spring-mvc"  // SOFATracer's name for HTTP servers, for SOFA's tools
	LogTypeRPCClient  = "rpc-client"  // SOFARPC-style RPC clients (gRPC)
	LogTypeRPCServer  = "rpc-server"  // SOFARPC-style RPC servers (gRPC)
	LogTypeDefault    = "span"        // spans that name no log type
)

// Result codes of spans that are not HTTP (HTTP spans carry their status code). 00 to 04 are
// SOFARPC's; 99 is SOFATracer's generic error, also written for an HTTP client call that got no
// response.
const (
	CodeSuccess    = "00"
	CodeBizError   = "01" // RPC: the handler returned an error (a business exception)
	CodeRPCError   = "02" // RPC: transport, protocol or framework failure
	CodeTimeout    = "03" // RPC: the deadline passed
	CodeRouting    = "04" // RPC: no address to call (routing, name resolution)
	CodeError      = "99" // a failed span without a more precise code
	CodeNoResponse = CodeError
	LoadTestKey    = "mark"                            // biz baggage key of the load-test mark
	LoadTestValue  = "T"                               // its value on a load-test span ("F": not)
	LoadTestEntry  = LoadTestKey + "=" + LoadTestValue // the entry in serialized biz baggage
)

// HTTPSuccess is SOFATracer's HTTP success rule: a status of three digits starting with 1 or 2, or
// 301 or 302; for a client also CodeSuccess. Everything else, the empty code included, is a failure.
func HTTPSuccess(code string, client bool) bool {
	if code == CodeSuccess {
		return client
	}
	if len(code) != 3 || !isDigits(code) {
		return false
	}
	return code[0] == '1' || code[0] == '2' || code == "301" || code == "302"
}

// ReadSuccess is the rule a reader applies to a line it did not write and whose writer's rule it
// cannot know: HTTPSuccess for lines of the HTTP layouts (httpLayout: they have req.size.bytes), else
// CodeSuccess or an HTTP success status (other tools' components write either).
func ReadSuccess(code string, httpLayout, client bool) bool {
	if httpLayout {
		return HTTPSuccess(code, client)
	}
	return code == CodeSuccess || HTTPSuccess(code, false)
}

// RPCSuccess is SOFARPC's stat success rule: CodeSuccess or a blank code.
func RPCSuccess(code string) bool { return code == CodeSuccess || strings.TrimSpace(code) == "" }

// GenericSuccess is the success rule of the other log types: CodeSuccess only.
func GenericSuccess(code string) bool { return code == CodeSuccess }

// LoadTestMark reports whether serialized biz baggage (k=v&k=v&) carries the load-test mark mark=T.
func LoadTestMark(bizBaggage string) bool {
	for bizBaggage != "" {
		var entry string
		entry, bizBaggage, _ = strings.Cut(bizBaggage, "&")
		if entry == LoadTestEntry {
			return true
		}
	}
	return false
}

// Stat line fields: {"time":…,"stat.key":{…},"count":N,"total.cost.milliseconds":M,"success":"Y",
// "load.test":"F"}. The stat key holds local.app and request.url + method (HTTP), remote.app +
// service + method (RPC) or the operation (others).
const (
	StatFieldKey      = "stat.key"
	StatFieldCount    = "count"
	StatFieldCost     = "total.cost.milliseconds"
	StatFieldSuccess  = "success"
	StatFieldLoadTest = "load.test"
	Yes, No           = "Y", "N" // values of StatFieldSuccess and StatFieldLoadTest
)

// Level prefixes of a tracer-self.log line, SOFATracer's, each padded to 8 characters: a line is
// yyyy-MM-dd HH:mm:ss.SSS, one of these, then [traceId] and the message.
const (
	SelfLogError = "[ERROR] "
	SelfLogWarn  = "[WARN]  "
	SelfLogInfo  = "[INFO]  "
)

// Environment variables naming the log root, in order of precedence (then $HOME/logs).
const (
	EnvLogPath     = "TRACEMDC_LOG_PATH"
	EnvSOFALogPath = "SOFA_TRACER_LOGGING_PATH"
)

// Directory and file names under the log root.
const (
	DirName        = "tracelog"        // <root>/tracelog holds every file
	ShadowDirName  = "shadow"          // <root>/tracelog/shadow: the files of load-test spans
	DigestSuffix   = "-digest.log"     // <type>-digest.log
	StatSuffix     = "-stat.log"       // <type>-stat.log
	SelfLogName    = "tracer-self.log" // the tracer's own warnings and errors
	StaticInfoName = "static-info.log" // one line per start: pid,ip,zone,timezone
)

// DefaultRoot returns the log root: $TRACEMDC_LOG_PATH, else $SOFA_TRACER_LOGGING_PATH, else
// $HOME/logs (./logs when there is no home directory).
func DefaultRoot() string {
	for _, env := range []string{EnvLogPath, EnvSOFALogPath} {
		if v := os.Getenv(env); v != "" {
			return v
		}
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return "logs"
	}
	return filepath.Join(home, "logs")
}

// DigestDir returns the directory of the logs under a log root: <root>/tracelog.
func DigestDir(root string) string { return filepath.Join(root, DirName) }

// DigestFileName returns the digest file name of a log type: <type>-digest.log.
func DigestFileName(logType string) string { return logType + DigestSuffix }

// StatFileName returns the stat file name of a log type: <type>-stat.log.
func StatFileName(logType string) string { return logType + StatSuffix }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
