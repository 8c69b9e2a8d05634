package digestread

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// ErrMalformed is wrapped by every error ParseLine returns for a line that is not a digest line.
var ErrMalformed = errors.New("malformed digest line")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// ParseLine parses one digest line, JSON (it starts with '{') or CSV, without its line end. loc is the
// time zone of the time field (nil means time.Local). LogType is left empty: the caller knows the file
// (see ParseDigestPath). A line without a valid time, trace id or span id, or with an unreadable cost,
// is malformed; the error wraps ErrMalformed.
//
// SOFARPC's rpc lines (tracemdc's and the Java ones, keys in any order) are read too: timestamp and
// tracerId stand for time and traceId, the cost is client.elapse.time (a client) or biz.impl.time
// (a server), in milliseconds, quoted or not; URL is "service/method" and Method is empty; the
// load-test mark is read from baggage.
func ParseLine(line []byte, loc *time.Location) (*Record, error) {
	s := strings.TrimSpace(string(line))
	if s == "" {
		return nil, malformed("empty line")
	}
	r := &Record{Raw: s}
	var err error
	if s[0] == '{' {
		r.Fields, err = parseJSONObject(s)
	} else {
		r.Fields, err = parseCSV(s)
	}
	if err != nil {
		return nil, err
	}
	if err := r.fill(loc); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Record) fill(loc *time.Location) error {
	if loc == nil {
		loc = time.Local
	}
	var ts, cost, stamp, elapse, impl, service, method string
	var haveURL, rpc bool
	for _, f := range r.Fields {
		switch f.Key {
		case layout.FieldTime:
			ts = f.Value
		case layout.FieldTimestamp:
			stamp = f.Value
		case layout.FieldTracerID:
			r.TraceID, rpc = f.Value, true
		case layout.FieldClientElapseTime:
			elapse = f.Value
		case layout.FieldBizImplTime:
			impl = f.Value
		case layout.FieldService:
			service = f.Value
		case layout.FieldRPCBaggage:
			r.LoadTest = layout.LoadTestMark(f.Value)
		case layout.FieldLocalApp:
			r.App = f.Value
		case layout.FieldTraceID:
			r.TraceID = f.Value
		case layout.FieldSpanID:
			r.SpanID = f.Value
		case layout.FieldParentSpanID:
			r.ParentID = f.Value
		case layout.FieldSpanKind:
			r.Kind = f.Value
		case layout.FieldResultCode:
			r.ResultCode = f.Value
		case layout.FieldThreadName:
			r.Thread = f.Value
		case layout.FieldCost:
			cost = f.Value
		case layout.FieldRequestURL:
			r.URL, haveURL = f.Value, true
		case layout.FieldOperation:
			if !haveURL {
				r.URL = f.Value
			}
		case layout.FieldMethod:
			r.Method, method = f.Value, f.Value
		case layout.FieldBizBaggage:
			r.LoadTest = layout.LoadTestMark(f.Value)
		}
	}
	if rpc {
		r.rpc = true
		if ts == "" {
			ts = stamp
		}
		if cost == "" {
			cost = cmp.Or(elapse, impl)
		}
		if !haveURL {
			r.URL, r.Method = service+"/"+method, ""
		}
	}
	if r.TraceID == "" || r.SpanID == "" {
		return malformed("no %s or %s", layout.FieldTraceID, layout.FieldSpanID)
	}
	t, err := time.ParseInLocation(layout.TimeLayout, ts, loc)
	if err != nil {
		return malformed("bad %s %q", layout.FieldTime, ts)
	}
	r.Time = t
	if cost != "" {
		ms, err := strconv.ParseInt(strings.TrimSuffix(cost, "ms"), 10, 64)
		if err != nil || ms < 0 {
			return malformed("bad %s %q", layout.FieldCost, cost)
		}
		r.Cost = time.Duration(ms) * time.Millisecond
	}
	return nil
}

// parseCSV splits a CSV digest line: the common fields, the component fields, then sys and biz
// baggage. Component fields are named after the HTTP layouts when there are five of them (the fifth
// is error for a server span, remote.app for a client span); otherwise the first is request.url, the
// second method, and the rest field.<column> (1-based). Every field is unescaped as the digest
// writer escapes it: %25 and %2C stand for '%' and ',', %00 to %1F and %7F for the ASCII control
// characters ('\n' is %0A) (SOFATracer escapes only the commas of baggage, which reads the same).
func parseCSV(s string) ([]Field, error) {
	parts := strings.Split(s, ",")
	nc := len(layout.Common)
	if len(parts) < nc+2 {
		return nil, malformed("%d CSV columns, want at least %d", len(parts), nc+2)
	}
	fields := make([]Field, 0, len(parts))
	for i := range parts {
		parts[i] = unescapeCSV(parts[i])
	}
	for i, k := range layout.Common {
		fields = append(fields, Field{k, parts[i]})
	}
	middle := parts[nc : len(parts)-2]
	var names []string
	if len(middle) == len(layout.HTTPServerFields) {
		names = layout.HTTPServerFields
		if parts[4] == layout.KindClient {
			names = layout.HTTPClientFields
		}
	}
	for i, v := range middle {
		var k string
		switch {
		case names != nil:
			k = names[i]
		case i == 0:
			k = layout.FieldRequestURL
		case i == 1:
			k = layout.FieldMethod
		default:
			k = "field." + strconv.Itoa(nc+i+1)
		}
		fields = append(fields, Field{k, v})
	}
	fields = append(fields,
		Field{layout.FieldSysBaggage, parts[len(parts)-2]},
		Field{layout.FieldBizBaggage, parts[len(parts)-1]})
	return fields, nil
}

// unescapeCSV decodes %25, %2C, and %00 to %1F and %7F (either case of hex digits) in one CSV field;
// every other '%' is kept as it is (baggage values carry their own %26 and %3D). It allocates only for
// fields with a '%'.
func unescapeCSV(s string) string {
	i := strings.IndexByte(s, '%')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) {
			if d, ok := csvEscaped(s[i+1], s[i+2]); ok {
				b.WriteByte(d)
				i += 2
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// csvEscaped returns the byte a %XY escape of the digest writer stands for: '%', ',', an ASCII
// control character or DEL.
func csvEscaped(x, y byte) (byte, bool) {
	hi, ok1 := unhex(x)
	lo, ok2 := unhex(y)
	if !ok1 || !ok2 {
		return 0, false
	}
	c := hi<<4 | lo
	if c == '%' || c == ',' || c < 0x20 || c == 0x7f {
		return c, true
	}
	return 0, false
}

// unhex returns the value of a hex digit, either case.
func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// parseJSONObject parses one JSON object into its fields, in order. String values are unescaped and
// share memory with s when they hold no escape; other values keep their JSON text.
func parseJSONObject(s string) ([]Field, error) {
	p := jsonScanner{s: s}
	p.ws()
	if !p.eat('{') {
		return nil, malformed("JSON: no object")
	}
	fields := make([]Field, 0, 16)
	p.ws()
	if p.eat('}') {
		return fields, p.end()
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		p.ws()
		if !p.eat(':') {
			return nil, malformed("JSON: no ':' after key %q", key)
		}
		p.ws()
		val, err := p.value()
		if err != nil {
			return nil, err
		}
		fields = append(fields, Field{key, val})
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return fields, p.end()
		}
		return nil, malformed("JSON: want ',' or '}' at offset %d", p.i)
	}
}

type jsonScanner struct {
	s string
	i int
}

func (p *jsonScanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScanner) end() error {
	p.ws()
	if p.i != len(p.s) {
		return malformed("JSON: trailing data at offset %d", p.i)
	}
	return nil
}

// str reads a JSON string at the cursor.
func (p *jsonScanner) str() (string, error) {
	if !p.eat('"') {
		return "", malformed("JSON: want a string at offset %d", p.i)
	}
	start := p.i
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			raw := p.s[start:p.i]
			p.i++
			if !escaped {
				return raw, nil
			}
			var out string
			if err := json.Unmarshal([]byte(p.s[start-1:p.i]), &out); err != nil {
				return "", malformed("JSON: bad string: %v", err)
			}
			return out, nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", malformed("JSON: control character in string")
		default:
			p.i++
		}
	}
	return "", malformed("JSON: unterminated string")
}

// value reads any JSON value; non-strings are returned as their JSON text.
func (p *jsonScanner) value() (string, error) {
	if p.i >= len(p.s) {
		return "", malformed("JSON: missing value")
	}
	start := p.i
	switch c := p.s[p.i]; {
	case c == '"':
		return p.str()
	case c == '{' || c == '[':
		depth := 0
		for p.i < len(p.s) {
			switch p.s[p.i] {
			case '"':
				if _, err := p.str(); err != nil {
					return "", err
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			p.i++
			if depth == 0 {
				raw := p.s[start:p.i]
				if !json.Valid([]byte(raw)) {
					return "", malformed("JSON: bad nested value")
				}
				return raw, nil
			}
		}
		return "", malformed("JSON: unterminated value")
	default:
		for p.i < len(p.s) {
			switch p.s[p.i] {
			case ',', '}', ' ', '\t', '\r', '\n':
				goto done
			}
			p.i++
		}
	done:
		raw := p.s[start:p.i]
		if raw == "" || !json.Valid([]byte(raw)) {
			return "", malformed("JSON: bad literal %q", raw)
		}
		return raw, nil
	}
}
