package digest

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// output is Config.Output: every digest, stat and self line goes to it with one Write call of its
// own, prefixed with what the line is (see layout.FieldLogKind). The consumer goroutine writes the
// digest lines, the background goroutine (and Close) the stat and self lines; mu makes each Write
// whole even for a writer that is not safe for concurrent use.
type output struct {
	w     io.Writer
	csv   bool
	limit int
	loc   *time.Location

	mu   sync.Mutex
	line []byte // the line being written
	torn bool   // a failed Write took part of a line: the next line starts with a line end

	written, lost, lines, errs atomic.Uint64
}

func newOutput(w io.Writer, csv bool, limit int, loc *time.Location) *output {
	return &output{w: w, csv: csv, limit: limit, loc: loc}
}

// write writes one line with one Write call: the prefix of kind, log type and shadow mark (none for
// kind "": a self line has its own), then body, which is one line of the file format (JSON object or
// CSV columns) ending with '\n'. It returns nil when the writer took the whole line.
func (o *output) write(kind, logType string, shadow bool, body []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.line[:0]
	if o.torn {
		// End the fragment a failed Write left, so it cannot merge with this line.
		b = append(b, '\n')
	}
	if kind != "" {
		object := !o.csv && len(body) > 0 && body[0] == '{'
		// The prefix's keys are followed by a comma unless the object has no field of its own ({}).
		b = o.appendPrefix(b, kind, logType, shadow, object && len(body) > 1 && body[1] != '}')
		if object {
			body = body[1:] // the prefix opened the object
		}
	}
	b = append(b, body...)
	o.line = b
	return o.writeLocked(b)
}

// appendPrefix appends {"log.kind":"…","log.type":"…"[,"log.shadow":true] and, if object (the body
// goes on after its opening brace with fields of its own), a comma (JSON); or kind,type,T|F, (CSV).
func (o *output) appendPrefix(b []byte, kind, logType string, shadow, object bool) []byte {
	if o.csv {
		b = append(b, kind...)
		b = append(b, ',')
		b = appendCSVField(b, logType, o.limit)
		if shadow {
			return append(b, ","+layout.LoadTestValue+","...)
		}
		return append(b, ",F,"...)
	}
	b = append(b, `{"`+layout.FieldLogKind+`":"`...)
	b = append(b, kind...)
	b = append(b, '"')
	if logType != "" {
		b = append(b, `,"`+layout.FieldLogType+`":`...)
		b = appendJSONString(b, logType, o.limit)
	}
	if shadow {
		b = append(b, `,"`+layout.FieldLogShadow+`":true`...)
	}
	if object {
		b = append(b, ',')
	}
	return b
}

// writeLocked writes b with one Write call. On an error it counts the line as lost and remembers a
// fragment left behind.
func (o *output) writeLocked(b []byte) error {
	n, err := o.w.Write(b)
	if err == nil && n == len(b) {
		o.torn = false
		o.lines.Add(1)
		return nil
	}
	if err == nil {
		err = io.ErrShortWrite
	}
	if n > 0 {
		o.torn = true
	}
	o.errs.Add(1)
	return err
}

// writeDigest writes one digest line; its result is counted in written or lost.
func (o *output) writeDigest(logType string, shadow bool, line []byte) error {
	err := o.write(layout.LogKindDigest, logType, shadow, line)
	if err == nil {
		o.written.Add(1)
	} else {
		o.lost.Add(1)
	}
	return err
}

// writeEach writes every line of b ('\n'-terminated) as write does, one Write each. It returns how
// many were written, how many lost, and the first error.
func (o *output) writeEach(kind, logType string, shadow bool, b []byte) (written, lost int, first error) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b) - 1
		}
		if err := o.write(kind, logType, shadow, b[:i+1]); err == nil {
			written++
		} else {
			lost++
			first = cmp.Or(first, err)
		}
		b = b[i+1:]
	}
	return written, lost, first
}

// appendSelf appends the line of a self-log event as the output writes it, prefix included: a JSON
// object (layout.FieldSelfLevel, layout.FieldSelfMessage…) or, in CSV, the prefix columns then the
// tracer-self.log text line (line, which ends with '\n').
func (o *output) appendSelf(b []byte, now time.Time, level, traceID, msg string, line []byte) []byte {
	if o.csv {
		b = o.appendPrefix(b, layout.LogKindSelf, "", false, false)
		return append(b, line...)
	}
	b = o.appendPrefix(b, layout.LogKindSelf, "", false, true)
	b = append(b, `"`+layout.FieldTime+`":"`...)
	b = appendTime(b, now.In(o.loc))
	b = append(b, `","`+layout.FieldSelfLevel+`":"`...)
	b = append(b, strings.Trim(level, "[] ")...)
	b = append(b, `","`+layout.FieldTraceID+`":`...)
	b = appendJSONString(b, traceID, 128)
	b = append(b, `,"`+layout.FieldSelfMessage+`":`...)
	b = appendJSONString(b, msg, selfLogMaxMsg)
	return append(b, "}\n"...)
}

// writeOutput writes a digest line to Config.Output; a failure is self-logged with the total lost.
func (r *Reporter) writeOutput(logType string, shadow bool, line []byte) {
	if err := r.out.writeDigest(logType, shadow, line); err != nil {
		r.self.log(levelError, "output", "", fmt.Sprintf("write to Config.Output: %v; a %s digest line lost (%d in all)",
			err, logType, r.out.lost.Load()))
	}
}

// writeStatOutput writes the n stat lines of b to Config.Output, one Write each; with OutputOnly they
// count in Stats.StatLines.
func (r *Reporter) writeStatOutput(logType string, shadow bool, b []byte, n int) {
	w, lost, err := r.out.writeEach(layout.LogKindStat, logType, shadow, b)
	if r.cfg.OutputOnly {
		r.statLines.Add(uint64(w))
	}
	if err != nil {
		r.self.log(levelError, "output", "", fmt.Sprintf("write %s stat lines to Config.Output: %v; %d of %d lost",
			logType, err, lost, n))
	}
}
