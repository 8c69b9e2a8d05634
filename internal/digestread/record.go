package digestread

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tracemdc/tracemdc/digest/layout"
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
	ParentID   string        // parent.span.id, written for spans whose id is not rpcId-style (W3C)
	Kind       string        // span.kind
	ResultCode string        // result.code
	Thread     string        // current.thread.name
	Cost       time.Duration // time.cost.milliseconds
	URL        string        // request.url, else operation; "service/method" for rpc lines
	Method     string        // method (HTTP); empty for rpc lines
	LogType    string        // from the file name: "spring-mvc" for spring-mvc-digest.log
	LoadTest   bool          // biz baggage mark=T, or read from a shadow/ file
	Raw        string        // the original line, without its line end
	Fields     []Field       // every field of the line, in line order

	rpc bool // a line of SOFARPC's layout (it names the trace id tracerId)
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

// Success reports whether the span's result code means success, by layout.ReadSuccess: SOFA's HTTP
// rule for lines of the HTTP layouts (the writer's rule: "00" is a failure of a server), SOFARPC's
// (layout.RPCSuccess: "00" or blank) for rpc lines, "00" or an HTTP success status for the others.
func (r *Record) Success() bool {
	if r.rpc {
		return layout.RPCSuccess(r.ResultCode)
	}
	_, http := r.Get(layout.FieldReqSize)
	return layout.ReadSuccess(r.ResultCode, http, r.Kind == layout.KindClient)
}

// MaxErrorText is the most runes of an error text ErrorSuffix shows.
const MaxErrorText = 200

// ErrorSuffix returns the error text of the line (its error field) to print after an ERROR mark:
// " " and the text, quoted (strconv.Quote) when it holds control characters or quotes, cut to
// MaxErrorText runes with "…"; "" when the line has none.
func (r *Record) ErrorSuffix() string {
	text, _ := r.Get(layout.FieldError)
	text = strings.TrimSpace(text)
	if text == "" {
		return ""
	}
	if utf8.RuneCountInString(text) > MaxErrorText {
		text = string([]rune(text)[:MaxErrorText]) + "…"
	}
	if strings.ContainsFunc(text, func(c rune) bool { return unicode.IsControl(c) || c == '"' }) || !utf8.ValidString(text) {
		text = strconv.Quote(text)
	}
	return " " + text
}
