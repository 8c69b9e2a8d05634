package digest

import (
	"strconv"
	"time"
	"unsafe"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
)

// Built-in log types, as the spans of package trace/tracehttp name them (layout.LogTypeHTTPServer
// and layout.LogTypeHTTPClient).
const (
	LogTypeHTTPServer = layout.LogTypeHTTPServer
	LogTypeHTTPClient = layout.LogTypeHTTPClient
)

// TagThreadName is the tag whose value a digest line shows as current.thread.name. Go has no thread
// names: a span without this tag shows DefaultThreadName.
const TagThreadName = layout.FieldThreadName

// DefaultThreadName is the current.thread.name of a span without the TagThreadName tag.
const DefaultThreadName = "goroutine"

// FieldEncoder receives the fields of one digest line, in line order. The same calls make a JSON
// object member ("key":value) or a comma-separated column (value only, the key is dropped), so one
// Encoder serves both formats. Strings are escaped and cut at Config.MaxValueBytes.
type FieldEncoder interface {
	AddString(key, value string)
	AddInt(key string, value int64)
	AddBool(key string, value bool)
	// AddTag adds a tag value with its type: a JSON number or boolean for int and bool tags.
	AddTag(key string, value trace.TagValue)
}

// Encoder writes the component fields of a digest line: the fields between the common fields
// (time … time.cost.milliseconds, written by the reporter) and the two baggage fields (written by
// the reporter too). EncodeFields runs on the reporter's consumer goroutine, one span at a time; it
// must not keep enc or call it after returning. A panic in it is recovered: the span's line is
// dropped whole and counted (Stats.EncodePanics).
type Encoder interface {
	EncodeFields(s *trace.FinishedSpan, enc FieldEncoder)
}

// EncoderFunc is an Encoder made of a function.
type EncoderFunc func(s *trace.FinishedSpan, enc FieldEncoder)

// EncodeFields calls f.
func (f EncoderFunc) EncodeFields(s *trace.FinishedSpan, enc FieldEncoder) { f(s, enc) }

// httpEncoder is the SOFA HTTP layout: request.url, method, req.size.bytes, resp.size.bytes, then
// error (server) or remote.app (client). Its log types aggregate stats on url and method, with the
// HTTP success rule. A client line of a span with an error text also gets an error key after
// remote.app, in JSON only (see httpClientError).
type httpEncoder struct{ client bool }

// HTTPServerEncoder returns the built-in encoder of http-server lines (SOFATracer's Spring MVC
// layout). Register it for other server log types (say "spring-mvc") to get the same layout and the
// HTTP stat key and success rule.
func HTTPServerEncoder() Encoder { return httpServerEnc }

// HTTPClientEncoder returns the built-in encoder of http-client lines: SOFATracer's layout, plus, in
// JSON lines only, an "error" key after remote.app when the span has an error text (its "error" tag,
// else its error): SOFA's client layout has no error field, so a call that failed without a response
// would otherwise leave no trace of why. CSV lines keep SOFA's columns exactly.
func HTTPClientEncoder() Encoder { return httpClientEnc }

var (
	httpServerEnc Encoder = &httpEncoder{client: false}
	httpClientEnc Encoder = &httpEncoder{client: true}
	genericEnc    Encoder = genericEncoder{}
)

// GenericEncoder returns the encoder of log types without one of their own: operation, then every
// tag in the order its key was first set (tags named like a common or baggage field are left out,
// and the current.thread.name tag is shown in its common field), then error when the span has an
// error and no error tag.
func GenericEncoder() Encoder { return genericEnc }

func (e *httpEncoder) EncodeFields(s *trace.FinishedSpan, enc FieldEncoder) {
	tagString(s, enc, layout.FieldRequestURL)
	tagString(s, enc, layout.FieldMethod)
	unit := "" // the client layout's sizes have none
	if !e.client {
		unit = layout.SizeSuffix // SOFA's Spring MVC CSV layout: "5B,7B"
	}
	tagSize(s, enc, layout.FieldReqSize, unit)
	tagSize(s, enc, layout.FieldRespSize, unit)
	if e.client {
		tagString(s, enc, layout.FieldRemoteApp)
		if msg := httpClientError(s); msg != "" && namesFields(enc) {
			enc.AddString(layout.FieldError, msg)
		}
		return
	}
	if v, ok := s.Tag(layout.FieldError); ok {
		enc.AddTag(layout.FieldError, v)
		return
	}
	enc.AddString(layout.FieldError, s.ErrorMessage())
}

// isHTTPSpan reports whether s is an HTTP span, as tracehttp makes them: a server or client span with
// the request.url and method tags. In a log type without a registered encoder such a span gets the
// HTTP layout of its kind (see Config.Encoders).
func isHTTPSpan(s *trace.FinishedSpan) bool {
	if k := s.Kind(); k != trace.KindServer && k != trace.KindClient {
		return false
	}
	_, url := s.Tag(layout.FieldRequestURL)
	_, method := s.Tag(layout.FieldMethod)
	return url && method
}

// httpClientError is the error text of a client span: its non-empty "error" tag (tracehttp's
// Transport sets it), else the message of its error.
func httpClientError(s *trace.FinishedSpan) string {
	if v, ok := s.Tag(layout.FieldError); ok {
		if msg := v.String(); msg != "" {
			return msg
		}
	}
	return s.ErrorMessage()
}

// fieldNamer is implemented by a FieldEncoder that writes field names (JSON): a field outside SOFA's
// positional layout may be added there without moving any column.
type fieldNamer interface{ namesFields() bool }

// namesFields reports whether enc writes field names; false for an encoder that does not say.
func namesFields(enc FieldEncoder) bool {
	if e, ok := enc.(*lineEncoder); ok { // the reporter's own: a type check, no interface lookup
		return !e.csv
	}
	n, ok := enc.(fieldNamer)
	return ok && n.namesFields()
}

func tagString(s *trace.FinishedSpan, enc FieldEncoder, key string) {
	v, _ := s.Tag(key)
	enc.AddTag(key, v) // the zero TagValue is ""
}

// tagSize adds the integer tag key (0 when the span has none); in a CSV line of the reporter's
// encoder, with unit after the number (SOFA's CSV layouts write some sizes so). A tag that is not an
// integer is added as it is.
func tagSize(s *trace.FinishedSpan, enc FieldEncoder, key, unit string) {
	v, ok := s.Tag(key)
	if !ok {
		v = trace.Int64(key, 0).Value
	}
	if e, ok := enc.(*lineEncoder); ok && e.csv && unit != "" && v.Kind() == trace.TagInt {
		e.addIntSuffix(key, v.Int64(), unit)
		return
	}
	enc.AddTag(key, v)
}

type genericEncoder struct{}

func (genericEncoder) EncodeFields(s *trace.FinishedSpan, enc FieldEncoder) {
	enc.AddString(layout.FieldOperation, s.Operation())
	hasErr := false
	for t := range s.Tags {
		if reservedField(t.Key) {
			continue
		}
		if t.Key == layout.FieldError {
			hasErr = true
		}
		enc.AddTag(t.Key, t.Value)
	}
	if !hasErr && s.Err() != nil {
		enc.AddString(layout.FieldError, s.ErrorMessage())
	}
}

// reservedField reports whether key is a field the reporter writes itself: a field of every line,
// or one of the keys a line of Config.Output starts with (a tag of that name would make a reader take
// a file's line for a stream's line of another kind, and give a stream's line the key twice).
func reservedField(key string) bool {
	switch key {
	case layout.FieldTime, layout.FieldLocalApp, layout.FieldTraceID, layout.FieldSpanID,
		layout.FieldSpanKind, layout.FieldResultCode, layout.FieldThreadName, layout.FieldCost,
		layout.FieldOperation, layout.FieldSysBaggage, layout.FieldBizBaggage, layout.FieldParentSpanID,
		layout.FieldLogKind, layout.FieldLogType, layout.FieldLogShadow:
		return true
	}
	return false
}

// lineEncoder appends one line to buf in JSON or CSV. It implements FieldEncoder; the reporter keeps
// one and reuses it, so encoding allocates nothing once buffers have grown.
type lineEncoder struct {
	buf     []byte
	scratch []byte // baggage text before escaping
	csv     bool
	limit   int
	loc     *time.Location
}

var (
	_ FieldEncoder = (*lineEncoder)(nil)
	_ fieldNamer   = (*lineEncoder)(nil)
)

// namesFields reports whether the line is JSON (keys written) rather than CSV (positions only).
func (e *lineEncoder) namesFields() bool { return !e.csv }

// key starts a field: the separator, and for JSON the quoted key and colon.
func (e *lineEncoder) key(k string) {
	if e.csv {
		e.buf = append(e.buf, ',')
		return
	}
	if plainString(k) { // the usual case: no escaping, no limit to check
		e.buf = append(e.buf, ',', '"')
		e.buf = append(e.buf, k...)
		e.buf = append(e.buf, '"', ':')
		return
	}
	e.buf = append(e.buf, ',')
	e.buf = appendJSONString(e.buf, k, e.limit)
	e.buf = append(e.buf, ':')
}

// plainString reports whether s is short (at most 64 bytes) and needs no JSON escaping.
func plainString(s string) bool {
	if len(s) > 64 {
		return false
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		if !plain8(s[i : i+8]) {
			return false
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

func (e *lineEncoder) str(s string) {
	if e.csv {
		e.buf = appendCSVField(e.buf, s, e.limit)
	} else {
		e.buf = appendJSONString(e.buf, s, e.limit)
	}
}

// AddString adds a string, cut at Config.MaxValueBytes unless key names an id (see idField).
func (e *lineEncoder) AddString(key, value string) {
	if idField(key) {
		e.addUncut(key, value)
		return
	}
	e.key(key)
	e.str(value)
}

// idField reports whether key names an id, which no limit cuts: traceId, tracerId (SOFARPC's),
// spanId, parent.span.id.
func idField(key string) bool {
	switch key {
	case layout.FieldTraceID, layout.FieldSpanID, layout.FieldParentSpanID, layout.FieldTracerID:
		return true
	}
	return false
}

// addUncut writes a value escaped but never cut at Config.MaxValueBytes: the ids (trace, span and
// parent id), whose cut would break every join on them (ids from peers are at most
// trace.MaxSpanIDLen bytes), and the span kind, a name of a few letters readers look for.
func (e *lineEncoder) addUncut(key, id string) {
	e.key(key)
	if e.csv {
		e.buf = appendCSVField(e.buf, id, 0)
	} else {
		e.buf = appendJSONString(e.buf, id, 0)
	}
}

func (e *lineEncoder) AddInt(key string, value int64) {
	e.key(key)
	e.buf = strconv.AppendInt(e.buf, value, 10)
}

// addIntSuffix writes value and suffix as one field: a JSON string, or a CSV column.
func (e *lineEncoder) addIntSuffix(key string, value int64, suffix string) {
	e.key(key)
	if !e.csv {
		e.buf = append(e.buf, '"')
	}
	e.buf = strconv.AppendInt(e.buf, value, 10)
	e.buf = append(e.buf, suffix...)
	if !e.csv {
		e.buf = append(e.buf, '"')
	}
}

func (e *lineEncoder) AddBool(key string, value bool) {
	e.key(key)
	e.buf = strconv.AppendBool(e.buf, value)
}

func (e *lineEncoder) AddTag(key string, value trace.TagValue) {
	switch value.Kind() {
	case trace.TagInt:
		e.AddInt(key, value.Int64())
	case trace.TagBool:
		e.AddBool(key, value.Bool())
	default:
		// String of a string TagValue returns the string itself: no allocation.
		e.AddString(key, value.String())
	}
}

// begin writes the common fields of s, with code as its result code (see resultCode).
func (e *lineEncoder) begin(s *trace.FinishedSpan, code string) {
	if e.csv {
		e.buf = appendTime(e.buf, s.End().In(e.loc))
	} else {
		e.buf = append(e.buf, `{"time":"`...)
		e.buf = appendTime(e.buf, s.End().In(e.loc))
		e.buf = append(e.buf, '"')
	}
	e.AddString(layout.FieldLocalApp, s.App())
	e.addUncut(layout.FieldTraceID, s.TraceID())
	e.addUncut(layout.FieldSpanID, s.SpanID())
	e.addUncut(layout.FieldSpanKind, s.Kind().String())
	e.AddString(layout.FieldResultCode, code)
	if v, ok := s.Tag(TagThreadName); ok {
		e.AddTag(layout.FieldThreadName, v)
	} else {
		e.AddString(layout.FieldThreadName, DefaultThreadName)
	}
	e.addIntSuffix(layout.FieldCost, s.Duration().Milliseconds(), layout.CostSuffix)
}

// end writes the two baggage fields, then, in JSON lines only, what follows SOFA's fields, and the
// line end. After SOFA's fields come: for an HTTP layout (http set; client for the client layout),
// the span's tags that the layout has no field for, in the order their keys were first set (see
// httpOwnField; tags named like a common or baggage field are left out); then parent.span.id when
// the span has a parent and its id is not rpcId-style (W3C ids), so a reader can build the tree.
// CSV lines keep SOFA's columns exactly.
func (e *lineEncoder) end(s *trace.FinishedSpan, http, client bool) {
	e.baggage(layout.FieldSysBaggage, s.SysBaggage())
	e.baggage(layout.FieldBizBaggage, s.BizBaggage())
	if !e.csv {
		if http {
			for t := range s.Tags {
				if !httpOwnField(t.Key, client) && !reservedField(t.Key) {
					e.AddTag(t.Key, t.Value)
				}
			}
		}
		if p := s.ParentID(); p != "" && !layout.IsRPCID(s.SpanID()) {
			e.addUncut(layout.FieldParentSpanID, p)
		}
		e.buf = append(e.buf, '}')
	}
	e.buf = append(e.buf, '\n')
}

// httpOwnField reports whether key is a field of the HTTP server (client false) or client layout:
// request.url, method, the two sizes, error (the client's JSON error key included), and remote.app
// for the client.
func httpOwnField(key string, client bool) bool {
	switch key {
	case layout.FieldRequestURL, layout.FieldMethod, layout.FieldReqSize, layout.FieldRespSize, layout.FieldError:
		return true
	case layout.FieldRemoteApp:
		return client
	}
	return false
}

// baggage writes b in SOFA's serialized form, k=v&k=v&, with '%', '&' and '=' of keys and values
// escaped as %25, %26 and %3D, then escaped again for the line format.
func (e *lineEncoder) baggage(key string, b trace.Baggage) {
	sc := e.scratch[:0]
	for k, v := range b.Range {
		sc = appendBaggageText(sc, k)
		sc = append(sc, '=')
		sc = appendBaggageText(sc, v)
		sc = append(sc, '&')
	}
	e.scratch = sc
	var text string
	if len(sc) > 0 {
		// sc is not modified while text is in use (until the next baggage call).
		text = unsafe.String(&sc[0], len(sc))
	}
	e.AddString(key, text)
}

func appendBaggageText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '%':
			esc = "%25"
		case '&':
			esc = "%26"
		case '=':
			esc = "%3D"
		default:
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		start = i + 1
	}
	return append(b, s[start:]...)
}

// appendTime appends t as yyyy-MM-dd HH:mm:ss.SSS (layout.TimeLayout) without allocating.
func appendTime(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	if y < 0 || y > 9999 {
		return t.AppendFormat(b, layout.TimeLayout)
	}
	b = appendDigits(b, y, 4)
	b = append(b, '-')
	b = appendDigits(b, int(mo), 2)
	b = append(b, '-')
	b = appendDigits(b, d, 2)
	b = append(b, ' ')
	b = appendDigits(b, h, 2)
	b = append(b, ':')
	b = appendDigits(b, mi, 2)
	b = append(b, ':')
	b = appendDigits(b, s, 2)
	b = append(b, '.')
	return appendDigits(b, ms, 3)
}

func appendDigits(b []byte, v, width int) []byte {
	var tmp [4]byte
	for i := width - 1; i >= 0; i-- {
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, tmp[:width]...)
}
