package digestread

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/mdc"
)

// TraceIDFields and SpanIDFields are the field names under which business log lines carry the trace
// and span ids: those of every mdc naming preset (traceId, SOFA-TraceId, trace_id, trace.id, …).
var (
	TraceIDFields = presetFields(mdc.KeyTraceID)
	SpanIDFields  = presetFields(mdc.KeySpanID)
)

func presetFields(key string) []string {
	var out []string
	for _, p := range []mdc.Preset{mdc.PresetDefault, mdc.PresetSOFA, mdc.PresetOTel, mdc.PresetECS} {
		if f, ok := mdc.NewNaming(p).Field(key); ok && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// LogLine is a business log line that carries a trace id.
type LogLine struct {
	File    string    // the file it was read from
	Line    int       // 1-based line number in File
	Time    time.Time // zero when the line has no readable time
	Level   string    // level of a JSON line, if any
	Message string    // msg (or message) of a JSON line; the whole line for text
	SpanID  string    // span id the line carries under a preset field name, if any
	Field   string    // field name that carried the trace id; "" when found in the text
	Raw     string    // the line as read
}

// MatchLogLine reports whether a business log line carries traceID, and parses it. A JSON line (from
// slog, zap or logrus) matches when a preset trace id field, at the top level or inside one nested
// object (a group such as {"mdc":{"traceId":…}}), holds traceID; any line, JSON or text, also
// matches when traceID appears in it as a whole word. Times are read from time, ts (zap's epoch
// seconds too), timestamp or @timestamp, or at the start of a text line (or after time=); times
// without a zone are in loc (nil: time.Local).
func MatchLogLine(line []byte, traceID string, loc *time.Location) (LogLine, bool) {
	if traceID == "" || !bytes.Contains(line, []byte(traceID)) {
		return LogLine{}, false
	}
	if loc == nil {
		loc = time.Local
	}
	text := strings.TrimRight(string(line), "\r\n")
	ll := LogLine{Raw: text, Message: strings.TrimSpace(text)}
	var obj map[string]any
	trimmed := strings.TrimSpace(text)
	if strings.HasPrefix(trimmed, "{") {
		dec := json.NewDecoder(strings.NewReader(trimmed))
		dec.UseNumber()
		if dec.Decode(&obj) != nil {
			obj = nil
		}
	}
	if obj != nil {
		ll.Field, ll.SpanID = idFields(obj, traceID)
		ll.Time = jsonTime(obj, loc)
		ll.Level = firstString(obj, "level", "lvl", "severity")
		if m := firstString(obj, "msg", "message"); m != "" {
			ll.Message = m
		}
	} else {
		ll.Time = textTime(text, loc)
	}
	if ll.Field == "" && !containsWord(text, traceID) {
		return LogLine{}, false
	}
	return ll, true
}

// idFields finds the preset field holding traceID (top level first, then one nested object) and the
// span id next to it.
func idFields(obj map[string]any, traceID string) (field, spanID string) {
	look := func(m map[string]any) bool {
		for _, f := range TraceIDFields {
			if s, _ := m[f].(string); s == traceID {
				field = f
				spanID = firstString(m, SpanIDFields...)
				return true
			}
		}
		return false
	}
	if look(obj) {
		return
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic when several groups hold ids
	for _, k := range keys {
		if m, ok := obj[k].(map[string]any); ok && look(m) {
			field = k + "." + field
			return
		}
	}
	return "", ""
}

func firstString(m map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

var logTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.000Z0700", // zap ISO8601
	"2006-01-02 15:04:05.000",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05.999999999", // no zone
	"2006/01/02 15:04:05.999999",    // log package
	"2006/01/02 15:04:05",
}

func parseLogTime(s string, loc *time.Location) time.Time {
	for _, l := range logTimeLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t
		}
	}
	return time.Time{}
}

func jsonTime(obj map[string]any, loc *time.Location) time.Time {
	for _, k := range []string{"time", "ts", "timestamp", "@timestamp"} {
		switch v := obj[k].(type) {
		case string:
			if t := parseLogTime(v, loc); !t.IsZero() {
				return t
			}
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil || f <= 0 {
				continue
			}
			if f > 1e12 { // epoch milliseconds
				return time.UnixMilli(int64(f)).In(loc)
			}
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).In(loc).Round(time.Microsecond)
		}
	}
	return time.Time{}
}

// textTime reads the time of a text line: a time=… pair (slog and logrus text), else a timestamp at
// the start of the line (one or two words).
func textTime(s string, loc *time.Location) time.Time {
	if i := strings.Index(s, "time="); i >= 0 && (i == 0 || s[i-1] == ' ') {
		v := s[i+len("time="):]
		if strings.HasPrefix(v, `"`) {
			if j := strings.IndexByte(v[1:], '"'); j >= 0 {
				v = v[1 : j+1]
			}
		} else if j := strings.IndexByte(v, ' '); j >= 0 {
			v = v[:j]
		}
		if t := parseLogTime(v, loc); !t.IsZero() {
			return t
		}
	}
	words := strings.SplitN(strings.TrimSpace(s), " ", 3)
	if len(words) >= 2 {
		if t := parseLogTime(words[0]+" "+words[1], loc); !t.IsZero() {
			return t
		}
	}
	if len(words) >= 1 {
		return parseLogTime(strings.Trim(words[0], "[]"), loc)
	}
	return time.Time{}
}

// containsWord reports whether word occurs in s with no letter or digit right before or after it.
func containsWord(s, word string) bool {
	for i := 0; ; {
		j := strings.Index(s[i:], word)
		if j < 0 {
			return false
		}
		j += i
		end := j + len(word)
		if (j == 0 || !isWordByte(s[j-1])) && (end == len(s) || !isWordByte(s[end])) {
			return true
		}
		i = j + 1
	}
}

func isWordByte(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// ScanLogs reads business log lines from r (named name) and calls fn with each line that carries
// traceID. Lines longer than opts.MaxLine are skipped; their number is returned.
func ScanLogs(r io.Reader, name, traceID string, opts ReadOptions, fn func(LogLine) error) (overlong int64, err error) {
	n := 0
	return ScanLines(r, opts.MaxLine, func(line []byte) error {
		n++
		ll, ok := MatchLogLine(line, traceID, opts.Location)
		if !ok {
			return nil
		}
		ll.File, ll.Line = name, n
		return fn(ll)
	})
}

// JoinLogs reads the business log files and returns their lines that carry traceID, ordered by time
// (stable; lines without a readable time last, in file order). Overlong lines are skipped and counted.
func JoinLogs(paths []string, traceID string, opts ReadOptions) (lines []LogLine, overlong int64, err error) {
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return lines, overlong, err
		}
		over, err := ScanLogs(f, p, traceID, opts, func(ll LogLine) error {
			lines = append(lines, ll)
			return nil
		})
		f.Close()
		overlong += over
		if err != nil {
			return lines, overlong, fmt.Errorf("%s: %w", p, err)
		}
	}
	slices.SortStableFunc(lines, func(a, b LogLine) int { return compareTimes(a.Time, b.Time) })
	return lines, overlong, nil
}

// compareTimes orders times, the zero time last.
func compareTimes(a, b time.Time) int {
	if a.IsZero() || b.IsZero() {
		return cmp.Compare(boolRank(a.IsZero()), boolRank(b.IsZero()))
	}
	return a.Compare(b)
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// RenderTimeline writes the spans of t (at their start) and the business log lines, merged in time
// order: a span before log lines of the same instant, log lines without a time at the end.
//
// A log line that carries the id of a span of t is placed at or after that span's start (the latest
// start, when several spans share the id): span starts are computed from whole milliseconds (end
// minus cost, as the digest writes them), so a line written just after its span began can read as up
// to a millisecond earlier, and clocks of different hosts differ. Such a line is moved down to its
// span's start and no further; it keeps its own time in the output. Lines whose span id is not in t
// stay at their own time. The order is stable: lines placed at the same instant keep the order of
// logs.
func RenderTimeline(w io.Writer, t *Tree, logs []LogLine, opts RenderOptions) error {
	type entry struct {
		at   time.Time
		span *Node
		log  *LogLine
	}
	var entries []entry
	starts := map[string]time.Time{} // latest start of the spans of each id
	if t != nil {
		t.Walk(func(n *Node) bool {
			entries = append(entries, entry{at: n.Begin, span: n})
			if s, ok := starts[n.SpanID]; !ok || n.Begin.After(s) {
				starts[n.SpanID] = n.Begin
			}
			return true
		})
	}
	for i := range logs {
		at := logs[i].Time
		if s, ok := starts[logs[i].SpanID]; ok && logs[i].SpanID != "" && !at.IsZero() && at.Before(s) {
			at = s
		}
		entries = append(entries, entry{at: at, log: &logs[i]})
	}
	slices.SortStableFunc(entries, func(a, b entry) int {
		if c := compareTimes(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(boolRank(a.span == nil), boolRank(b.span == nil))
	})
	srcW := 4
	for _, l := range logs {
		srcW = max(srcW, len(logSource(l)))
	}
	var b strings.Builder
	traceID := ""
	if t != nil {
		traceID = t.TraceID
	}
	fmt.Fprintf(&b, "timeline %s  spans=%d  log lines=%d\n", traceID, len(entries)-len(logs), len(logs))
	for _, e := range entries {
		if n := e.span; n != nil {
			row := fmt.Sprintf("%-23s  %-*s  [%s] %s %s %s %s %s", opts.time(e.at), srcW, "span", n.SpanID, n.App,
				n.Kind, n.ResultCode, FormatCost(n.Cost), strings.TrimSpace(n.Method+" "+n.URL))
			if !n.Success() {
				row += " " + opts.paint(ansiRed, "ERROR") + n.ErrorSuffix()
			}
			b.WriteString(row + "\n")
			continue
		}
		l := e.log
		msg := l.Message
		if l.Level != "" {
			msg = l.Level + " " + msg
		}
		if l.SpanID != "" {
			msg = "[" + l.SpanID + "] " + msg
		}
		fmt.Fprintf(&b, "%-23s  %-*s  %s\n", opts.time(l.Time), srcW, logSource(*l), msg)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func logSource(l LogLine) string {
	return filepath.Base(l.File) + ":" + strconv.Itoa(l.Line)
}
