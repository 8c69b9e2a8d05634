package digestread

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// Stats counts what a read saw.
type Stats struct {
	Lines     int64 // non-blank lines of acceptable length
	Records   int64 // lines parsed as digest records (whether or not the filter kept them)
	Malformed int64 // lines that are not digest lines
	Overlong  int64 // lines longer than the maximum line length, skipped unread
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Lines += o.Lines
	s.Records += o.Records
	s.Malformed += o.Malformed
	s.Overlong += o.Overlong
}

// Skipped returns the number of lines skipped as malformed or overlong.
func (s Stats) Skipped() int64 { return s.Malformed + s.Overlong }

// Filter selects records. The zero Filter (and a nil *Filter) keeps every record; each set field
// narrows the selection.
type Filter struct {
	TraceID  string        // only this trace
	LogType  string        // only this log type (file name prefix, e.g. "spring-mvc")
	Slow     time.Duration // only spans that took at least this long (when > 0)
	Errors   bool          // only spans whose result code is not a success
	LoadTest bool          // only load-test spans
	Since    time.Time     // only spans that ended at or after this time (when not zero)
}

// Match reports whether r passes the filter.
func (f *Filter) Match(r *Record) bool {
	switch {
	case f == nil:
		return true
	case f.TraceID != "" && r.TraceID != f.TraceID,
		f.LogType != "" && r.LogType != f.LogType,
		f.Slow > 0 && r.Cost < f.Slow,
		f.Errors && r.Success(),
		f.LoadTest && !r.LoadTest,
		!f.Since.IsZero() && r.Time.Before(f.Since):
		return false
	}
	return true
}

// ReadOptions configures reading digest records. The zero value reads local times, accepts lines up to
// DefaultMaxLine bytes and keeps every record.
type ReadOptions struct {
	Location *time.Location // time zone of the digest time field; nil means time.Local
	MaxLine  int            // longest line accepted; 0 means DefaultMaxLine
	Filter   *Filter        // records to keep; nil keeps all
}

// ScanRecords reads digest lines from r and calls fn for every record that passes opts.Filter. src
// gives the log type and the shadow mark of the records. Malformed and overlong lines are skipped and
// counted. Memory stays bounded whatever the size of r. An error from fn stops the scan and is
// returned.
func ScanRecords(r io.Reader, src DigestFile, opts ReadOptions, fn func(*Record) error) (Stats, error) {
	var st Stats
	over, err := ScanLines(r, opts.MaxLine, func(line []byte) error {
		if rec := st.Read(src, line, opts); rec != nil {
			return fn(rec)
		}
		return nil
	})
	st.Overlong = over
	return st, err
}

// Read takes one line of src: a blank line is passed over, any other is counted in s.Lines and parsed
// (counted in Records, or in Malformed if it is not a digest line). It returns the record when it
// passes opts.Filter, else nil. ScanRecords reads every line with it; a follower hands lines to it.
func (s *Stats) Read(src DigestFile, line []byte, opts ReadOptions) *Record {
	if isBlank(line) {
		return nil
	}
	s.Lines++
	rec, err := src.ParseLine(line, opts.Location)
	if err != nil {
		s.Malformed++
		return nil
	}
	s.Records++
	if !opts.Filter.Match(rec) {
		return nil
	}
	return rec
}

// ParseLine parses a line read from the file: ParseLine, then the log type and shadow mark of df. A
// line written to a stream (digest.Config.Output: a container's stdout, captured with kubectl logs)
// names its own log type and shadow mark (layout.FieldLogType, layout.FieldLogShadow in JSON; the
// columns kind,type,T|F before the file's line in CSV), which win over the file's; a stream's line
// of another kind (stat, self) is not a digest line.
func (df DigestFile) ParseLine(line []byte, loc *time.Location) (*Record, error) {
	if kind, logType, shadow, rest, ok := csvStream(line); ok {
		if kind != layout.LogKindDigest {
			return nil, malformed("a %s line, not a digest line", kind)
		}
		rec, err := ParseLine(rest, loc)
		if err != nil {
			return nil, err
		}
		rec.Raw = strings.TrimSpace(string(line))
		rec.LogType, rec.LoadTest = logType, rec.LoadTest || shadow || df.Shadow
		return rec, nil
	}
	rec, err := ParseLine(line, loc)
	if err != nil {
		return nil, err
	}
	rec.LogType = df.LogType
	rec.LoadTest = rec.LoadTest || df.Shadow
	for _, f := range rec.Fields {
		switch f.Key {
		case layout.FieldLogKind:
			if f.Value != layout.LogKindDigest {
				return nil, malformed("a %s line, not a digest line", f.Value)
			}
		case layout.FieldLogType:
			rec.LogType = f.Value
		case layout.FieldLogShadow:
			rec.LoadTest = rec.LoadTest || f.Value == "true"
		}
	}
	return rec, nil
}

// ScanFile is ScanRecords over one digest file (decompressed when gzipped).
func ScanFile(df DigestFile, opts ReadOptions, fn func(*Record) error) (Stats, error) {
	rc, err := df.Open()
	if err != nil {
		return Stats{}, err
	}
	defer rc.Close()
	st, err := ScanRecords(rc, df, opts, fn)
	if err != nil {
		err = fmt.Errorf("%s: %w", df.Path, err)
	}
	return st, err
}

// CollectTrace reads every file and returns the records of one trace, in reading order, with the
// summed stats. opts.Filter is replaced by a filter on traceID. A file that cannot be read stops the
// collection with an error naming it.
func CollectTrace(files []DigestFile, traceID string, opts ReadOptions) ([]*Record, Stats, error) {
	opts.Filter = &Filter{TraceID: traceID}
	var out []*Record
	var total Stats
	for _, df := range files {
		st, err := ScanFile(df, opts, func(r *Record) error {
			out = append(out, r)
			return nil
		})
		total.Add(st)
		if err != nil {
			return out, total, err
		}
	}
	return out, total, nil
}

func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// csvStream splits a CSV line of a stream (digest.Config.Output with the CSV format): the columns
// kind (layout.LogKindDigest, LogKindStat, LogKindSelf), log type (escaped as every CSV value) and
// T or F (the load-test mark), then the line as its file holds it. ok is false for any other line: a
// digest file's CSV line starts with its time, a JSON line with '{'.
func csvStream(line []byte) (kind, logType string, shadow bool, rest []byte, ok bool) {
	for _, k := range [...]string{layout.LogKindDigest, layout.LogKindStat, layout.LogKindSelf} {
		if len(line) > len(k) && string(line[:len(k)]) == k && line[len(k)] == ',' {
			kind, rest = k, line[len(k)+1:]
			break
		}
	}
	if kind == "" {
		return "", "", false, nil, false
	}
	i := bytes.IndexByte(rest, ',')
	if i < 0 || len(rest) < i+3 || rest[i+2] != ',' || rest[i+1] != 'T' && rest[i+1] != 'F' {
		return "", "", false, nil, false
	}
	return kind, unescapeCSV(string(rest[:i])), rest[i+1] == 'T', rest[i+3:], true
}
