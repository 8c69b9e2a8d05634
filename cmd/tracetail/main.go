// Command tracetail reads tracemdc (and SOFATracer) digest logs: it filters and follows them, shows
// one trace as a tree with a waterfall, and joins the business log lines that carry its trace id.
//
// Usage:
//
//	tracetail [flags] [paths...]
//
// Paths are digest files or directories (walked for <type>-digest.log files and, unless -n is given,
// their rolled backups: .log.2024-04-30, .gz); flags may come after them. The default is the
// digest directory of the log root ($TRACEMDC_LOG_PATH, else $SOFA_TRACER_LOGGING_PATH, else
// $HOME/logs, then tracelog/). Each span is printed as one line: end time, application (local.app),
// log type, trace id, span id, result code, cost, and the method and URL or the operation; columns
// are as wide as their widest value (with -f: at least a usual width, widened by a longer value).
// Without -f the records of all the files are merged in time order (each file is in time order as the
// writer appends it; rolled backups before live files); with -f lines are printed as they come.
// Examples:
//
//	tracetail -errors -slow 200ms            # failed spans that took 200 ms or more
//	tracetail -f -type spring-mvc            # follow, like tail -F
//	tracetail -tree 0ad1348f1403169275002100356696 -logs app.log,worker.log
//	tracetail -tree 0ad1348f1403169275002100356696 -logs 'logs/*.log'   # quoted: tracetail expands it
//
// The listing starts with a header row; a failed span ends with ERROR and its error text. A listing
// with no span (a filter that matches nothing) says so on stderr and exits 1, as grep does. The -tree
// mode is package tracetree's Write. Malformed and overlong lines are skipped; their counts are
// printed on stderr at exit.
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/tracetree"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code (0 fine, 1 failure, 2 usage).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

type config struct {
	follow  bool
	last    int
	filter  digestread.Filter
	json    bool
	color   bool
	tree    string
	logs    listFlag
	loc     *time.Location
	maxLine int
	poll    time.Duration
	width   int
	paths   []string
}

// errReported is an error already printed to the user.
type errReported struct{ error }

func (e errReported) Unwrap() error { return e.error }

func parseFlags(args []string, stdout, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("tracetail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: tracetail [flags] [digest files or directories...] [flags]

Without -f, the spans of all files are merged in time order (of their end), one record per file held
at a time; a file's own lines keep their order. A directory is read with its rolled backups
(name.log.2024-04-30, .gz), unless -n is given. With -f, lines are printed as they are written.
Flags may follow the paths; after --, every argument is a path. A listing that shows no span (nothing
matches the filters) says so on stderr and exits 1, as grep does.

examples:
  tracetail -errors -slow 200ms logs/tracelog
  tracetail -f -type http-server
  tracetail -tree ID -logs 'logs/*.log' logs/tracelog     (quote the glob: tracetail expands it)
  tracetail -tree ID -logs app.log,worker.log

flags:
`)
		fs.PrintDefaults()
	}
	fs.BoolVar(&c.follow, "f", false, "follow the files like tail -F (rotation, truncation, re-creation)")
	fs.IntVar(&c.last, "n", -1, "start with the last `N` lines of each file (-1: all, or 10 with -f)")
	fs.StringVar(&c.filter.TraceID, "trace", "", "only spans of this trace `id`")
	fs.StringVar(&c.filter.LogType, "type", "", "only this log `type` (file name prefix, e.g. spring-mvc)")
	fs.DurationVar(&c.filter.Slow, "slow", 0, "only spans that took at least this `duration`")
	fs.BoolVar(&c.filter.Errors, "errors", false, "only spans whose result code is not a success")
	fs.BoolVar(&c.filter.LoadTest, "load-test", false, "only load-test spans (mark=T, or shadow/ files)")
	since := fs.String("since", "", "only spans that ended at or after `time` (2006-01-02 15:04:05[.000], RFC 3339, a date, or a duration ago like 15m)")
	fs.BoolVar(&c.json, "json", false, "print the original lines instead of columns")
	color := fs.String("color", "auto", "colour: `auto` (only on a terminal), always or never")
	fs.StringVar(&c.tree, "tree", "", "show the trace `id` as a tree, from all digest files and backups")
	fs.Var(&c.logs, "logs", "business log `files` to join with -tree: repeat the flag, separate by commas, or give a quoted glob ('logs/*.log')")
	tz := fs.String("tz", "Local", "time `zone` of the digest times (Local, UTC, or an IANA name)")
	fs.IntVar(&c.maxLine, "max-line", digestread.DefaultMaxLine, "longest line in `bytes`; longer lines are skipped")
	fs.DurationVar(&c.poll, "poll", 250*time.Millisecond, "with -f, time between two looks at the files")
	fs.IntVar(&c.width, "width", 40, "cells of the -tree waterfall bar")
	// Flags may come after paths (tracetail logs -errors): parse, take the first non-flag as a path,
	// parse the rest again. After "--" every argument is a path.
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, errReported{err} // the flag package printed it, with the usage
		}
		left := fs.Args()
		if n := len(rest) - len(left); n > 0 && rest[n-1] == "--" {
			c.paths = append(c.paths, left...)
			break
		}
		if len(left) == 0 {
			break
		}
		c.paths = append(c.paths, left[0])
		rest = left[1:]
	}
	var err error
	if c.loc, err = time.LoadLocation(*tz); err != nil {
		return nil, fmt.Errorf("-tz: %w", err)
	}
	if *since != "" {
		if c.filter.Since, err = parseSince(*since, time.Now(), c.loc); err != nil {
			return nil, err
		}
	}
	nSet := false
	fs.Visit(func(f *flag.Flag) { nSet = nSet || f.Name == "n" })
	if c.follow && !nSet {
		c.last = 10
	}
	if c.color, err = digestread.ColorFor(*color, stdout); err != nil {
		return nil, err
	}
	switch {
	case len(c.logs) > 0 && c.tree == "":
		return nil, errors.New("-logs needs -tree ID")
	case c.tree != "" && c.follow:
		return nil, errors.New("-tree and -f do not go together")
	case c.maxLine <= 0 || c.width <= 0 || c.poll <= 0:
		return nil, errors.New("-max-line, -width and -poll must be positive")
	}
	if c.logs, err = expandLogs(c.logs); err != nil {
		return nil, err
	}
	if c.tree != "" {
		for _, p := range c.paths {
			if businessLog(p) {
				return nil, fmt.Errorf("%s is not a digest log (<type>-digest.log, or a file under tracelog/); "+
					"business logs go to -logs: quote a glob (-logs 'dir/*.log') or separate by commas (-logs a.log,b.log)", p)
			}
		}
	}
	if len(c.paths) == 0 {
		c.paths = []string{layout.DigestDir(layout.DefaultRoot())}
	}
	return c, nil
}

// expandLogs expands the glob patterns among the -logs values (filepath.Glob syntax), so that a
// quoted -logs 'logs/*.log' works; a pattern that matches nothing is an error, unless a file has that
// very name. Other values are kept as they are. Each file is kept once, at its first place.
func expandLogs(values []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, v := range values {
		if !strings.ContainsAny(v, "*?[") {
			add(v)
			continue
		}
		matches, err := filepath.Glob(v)
		if err != nil {
			return nil, fmt.Errorf("-logs %q: %w", v, err)
		}
		if len(matches) == 0 {
			if _, err := os.Stat(v); err != nil {
				return nil, fmt.Errorf("-logs %q: no file matches", v)
			}
			matches = []string{v}
		}
		for _, m := range matches {
			add(m)
		}
	}
	return out, nil
}

// businessLog reports whether path looks like a business log given by mistake as a digest path: a
// regular file whose name is not a digest log name and that is not under a tracelog directory. (An
// unquoted -logs logs/*.log leaves all files but the first as digest paths.)
func businessLog(path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	if _, ok := digestread.ParseDigestPath(path); ok {
		return false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if filepath.Base(dir) == "tracelog" {
			return false
		}
		if parent := filepath.Dir(dir); parent == dir {
			return true
		}
	}
}

func parseSince(s string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return now.Add(-d), nil
	}
	for _, l := range []string{layout.TimeLayout, "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-since: cannot read %q as a time or a duration", s)
}

func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c, err := parseFlags(args, stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		if !errors.As(err, new(errReported)) {
			fmt.Fprintln(stderr, "tracetail:", err)
		}
		return 2
	}
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	switch {
	case c.tree != "":
		err = showTree(c, out, stderr)
	case c.follow:
		err = follow(ctx, c, out, stderr)
	default:
		err = scan(c, out, stderr)
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, "tracetail:", err)
		return 1
	}
	return 0
}

// skips reports skipped lines per file on stderr.
func reportSkips(stderr io.Writer, name string, st digestread.Stats, maxLine int) {
	if st.Malformed > 0 {
		fmt.Fprintf(stderr, "tracetail: %s: skipped %d malformed line(s)\n", name, st.Malformed)
	}
	if st.Overlong > 0 {
		fmt.Fprintf(stderr, "tracetail: %s: skipped %d line(s) longer than %d bytes\n", name, st.Overlong, maxLine)
	}
}

func (c *config) readOptions() digestread.ReadOptions {
	return digestread.ReadOptions{Location: c.loc, MaxLine: c.maxLine, Filter: &c.filter}
}

// Batches of the listing: without -f, records are printed in batches of at most batchRecords records
// or batchBytes bytes of raw lines, so column widths can be taken from the records printed while
// memory stays bounded.
const (
	batchRecords = 1024
	batchBytes   = 4 << 20
)

// widths are the widths, in runes, of the variable columns of the listing.
type widths struct{ app, typ, trace, span, code, cost int }

// Column titles of the listing's header row.
const (
	titleTime, titleApp, titleType, titleTrace = "END TIME", "APP", "TYPE", "TRACE ID"
	titleSpan, titleCode, titleCost, titleReq  = "SPAN ID", "CODE", "COST", "REQUEST"
)

// atLeastTitles widens w to the titles of the columns.
func (w *widths) atLeastTitles() {
	w.app = max(w.app, len(titleApp))
	w.typ = max(w.typ, len(titleType))
	w.trace = max(w.trace, len(titleTrace))
	w.span = max(w.span, len(titleSpan))
	w.code = max(w.code, len(titleCode))
	w.cost = max(w.cost, len(titleCost))
}

func (w *widths) grow(r *digestread.Record) {
	w.app = max(w.app, utf8.RuneCountInString(r.App))
	w.typ = max(w.typ, utf8.RuneCountInString(r.LogType))
	w.trace = max(w.trace, utf8.RuneCountInString(r.TraceID))
	w.span = max(w.span, utf8.RuneCountInString(r.SpanID))
	w.code = max(w.code, utf8.RuneCountInString(r.ResultCode))
	w.cost = max(w.cost, len(digestread.FormatCost(r.Cost)))
}

// table prints records as aligned columns. A column is as wide as its widest value so far (and at
// least its minimum): widths are taken over each batch before it is printed, and they only grow, so a
// batch is aligned within itself and with the batches before it unless it holds a wider value. With
// -f every record is its own batch; wider minimums keep the common values aligned there, and a longer
// value widens its column from that line on.
type table struct {
	loc     *time.Location
	color   bool
	size    int // records per batch
	w       widths
	batch   []*digestread.Record
	bytes   int
	printed int // rows printed, header excluded
}

// newTable returns the table of the listing; files give the width of the log type column.
func (c *config) newTable(files []digestread.DigestFile) *table {
	t := &table{loc: c.loc, color: c.color, size: batchRecords}
	t.w = widths{app: 1, typ: 1, trace: 1, span: 1, code: 1, cost: 3}
	if c.follow {
		t.size = 1
		t.w = widths{app: 12, typ: 10, trace: 32, span: 12, code: 3, cost: 6}
	}
	for _, df := range files {
		t.w.typ = max(t.w.typ, utf8.RuneCountInString(df.LogType))
	}
	t.w.atLeastTitles()
	return t
}

// add queues r, printing the batch when it is full.
func (t *table) add(w *bufio.Writer, r *digestread.Record) {
	t.batch = append(t.batch, r)
	t.bytes += len(r.Raw)
	if len(t.batch) >= t.size || t.bytes >= batchBytes {
		t.flush(w)
	}
}

// flush prints the queued records.
func (t *table) flush(w *bufio.Writer) {
	for _, r := range t.batch {
		t.w.grow(r)
	}
	if t.printed == 0 && len(t.batch) > 0 {
		fmt.Fprintf(w, "%-23s  %-*s  %-*s  %-*s  %-*s  %-*s  %*s  %s\n", titleTime, t.w.app, titleApp, t.w.typ, titleType,
			t.w.trace, titleTrace, t.w.span, titleSpan, t.w.code, titleCode, t.w.cost, titleCost, titleReq)
	}
	for _, r := range t.batch {
		t.print(w, r)
		t.printed++
	}
	clear(t.batch)
	t.batch, t.bytes = t.batch[:0], 0
}

// print writes one record as columns: end time, application (local.app), log type, trace id, span
// id, result code, cost, method and URL or operation, then ERROR and the error text for a failed span
// and LOADTEST for a load-test span.
func (t *table) print(w *bufio.Writer, r *digestread.Record) {
	failed := !r.Success()
	code := fmt.Sprintf("%-*s", t.w.code, r.ResultCode)
	if t.color && failed {
		code = "\x1b[31m" + code + "\x1b[0m"
	}
	fmt.Fprintf(w, "%-23s  %-*s  %-*s  %-*s  %-*s  %s  %*s  %s", r.Time.In(t.loc).Format(layout.TimeLayout),
		t.w.app, r.App, t.w.typ, r.LogType, t.w.trace, r.TraceID, t.w.span, r.SpanID, code,
		t.w.cost, digestread.FormatCost(r.Cost), strings.TrimSpace(r.Method+" "+r.URL))
	if failed {
		mark := "ERROR"
		if t.color {
			mark = "\x1b[31m" + mark + "\x1b[0m"
		}
		w.WriteString("  " + mark + r.ErrorSuffix())
	}
	if r.LoadTest {
		mark := "LOADTEST"
		if t.color {
			mark = "\x1b[33m" + mark + "\x1b[0m"
		}
		w.WriteString("  " + mark)
	}
	w.WriteByte('\n')
}

// printRecord writes one record: the original line with -json, else a row of t.
func (c *config) printRecord(w *bufio.Writer, t *table, r *digestread.Record) {
	if c.json {
		w.WriteString(r.Raw)
		w.WriteByte('\n')
		t.printed++
		return
	}
	t.add(w, r)
}

// missing reports the paths that do not exist.
func missing(paths []string, stderr io.Writer) int {
	n := 0
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			fmt.Fprintln(stderr, "tracetail:", err)
			n++
		}
	}
	return n
}

// errStopped ends the scan of a file whose records are no longer wanted.
var errStopped = errors.New("stopped")

// scan prints the records of every file, merged in time order: each file is read as a stream, in
// time order as the digest writer appends it, and MergeByTime holds one record per file. Rolled
// backups come before live files, so of two records of the same time the older file's is first. A
// file that cannot be read stops the listing.
func scan(c *config, out *bufio.Writer, stderr io.Writer) error {
	bad := missing(c.paths, stderr)
	files := digestread.FindFiles(c.last < 0, c.paths...) // backups too, unless only the last lines are wanted
	if len(files) == 0 {
		return fmt.Errorf("no digest files in %s", strings.Join(c.paths, ", "))
	}
	slices.SortStableFunc(files, func(a, b digestread.DigestFile) int {
		return cmp.Compare(backupRank(a), backupRank(b))
	})
	tab := c.newTable(files)
	defer tab.flush(out)
	opts := c.readOptions()
	stats := make([]digestread.Stats, len(files))
	var failed error
	streams := make([]iter.Seq[*digestread.Record], len(files))
	for i, df := range files {
		streams[i] = func(yield func(*digestread.Record) bool) {
			st, err := scanFile(df, c.last, opts, func(r *digestread.Record) error {
				if !yield(r) {
					return errStopped
				}
				return nil
			})
			stats[i] = st
			if err != nil && !errors.Is(err, errStopped) && failed == nil {
				failed = err
			}
		}
	}
	for r := range digestread.MergeByTime(streams...) {
		if failed != nil {
			break
		}
		c.printRecord(out, tab, r)
	}
	for i, df := range files {
		reportSkips(stderr, df.Path, stats[i], c.maxLine)
	}
	if failed != nil {
		return failed
	}
	if bad > 0 {
		return fmt.Errorf("%d path(s) not found", bad)
	}
	if tab.flush(out); tab.printed == 0 {
		var read int64
		for _, st := range stats {
			read += st.Records
		}
		what := "no span"
		if c.filter != (digestread.Filter{}) {
			what = "no span matches the filters"
		}
		return fmt.Errorf("%s: %d span(s) read from %d digest file(s)", what, read, len(files))
	}
	return nil
}

func backupRank(df digestread.DigestFile) int {
	if df.Backup {
		return 0
	}
	return 1
}

// scanFile reads one file, or only its last `last` lines when last >= 0.
func scanFile(df digestread.DigestFile, last int, opts digestread.ReadOptions, fn func(*digestread.Record) error) (digestread.Stats, error) {
	if last < 0 {
		return digestread.ScanFile(df, opts, fn)
	}
	if df.Gzip {
		return lastOfStream(df, last, opts, fn)
	}
	f, err := os.Open(df.Path)
	if err != nil {
		return digestread.Stats{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return digestread.Stats{}, err
	}
	off, err := digestread.TailOffset(f, st.Size(), last)
	if err != nil {
		return digestread.Stats{}, fmt.Errorf("%s: %w", df.Path, err)
	}
	return digestread.ScanRecords(io.NewSectionReader(f, off, st.Size()-off), df, opts, fn)
}

// lastOfStream keeps the last `last` lines of a file that cannot be read backwards (gzip).
func lastOfStream(df digestread.DigestFile, last int, opts digestread.ReadOptions, fn func(*digestread.Record) error) (digestread.Stats, error) {
	rc, err := df.Open()
	if err != nil {
		return digestread.Stats{}, err
	}
	defer rc.Close()
	ring := make([][]byte, 0, last)
	next := 0
	over, err := digestread.ScanLines(rc, opts.MaxLine, func(line []byte) error {
		if last == 0 {
			return nil
		}
		if len(ring) < last {
			ring = append(ring, slices.Clone(line))
			return nil
		}
		ring[next] = append(ring[next][:0], line...)
		next = (next + 1) % last
		return nil
	})
	if err != nil {
		return digestread.Stats{Overlong: over}, fmt.Errorf("%s: %w", df.Path, err)
	}
	var buf []byte
	for i := range ring {
		buf = append(buf, ring[(next+i)%len(ring)]...)
		buf = append(buf, '\n')
	}
	st, err := digestread.ScanRecords(strings.NewReader(string(buf)), df, opts, fn)
	st.Overlong += over
	return st, err
}

func follow(ctx context.Context, c *config, out *bufio.Writer, stderr io.Writer) error {
	tab := c.newTable(digestread.FindFiles(false, c.paths...))
	fl := digestread.NewFollower(digestread.FollowOptions{Poll: c.poll, MaxLine: c.maxLine, Last: c.last}, c.paths...)
	stats := map[string]*digestread.Stats{}
	var order []string
	err := fl.Run(ctx, func(path string, line []byte) error {
		st := stats[path]
		if st == nil {
			st = &digestread.Stats{}
			stats[path] = st
			order = append(order, path)
		}
		df, ok := digestread.ParseDigestPath(path)
		if !ok {
			df = digestread.DigestFile{Path: path}
		}
		r := st.Read(df, line, c.readOptions())
		if r == nil {
			return nil
		}
		c.printRecord(out, tab, r)
		return out.Flush()
	})
	for _, p := range order {
		reportSkips(stderr, p, *stats[p], c.maxLine)
	}
	if n := fl.Overlong(); n > 0 {
		fmt.Fprintf(stderr, "tracetail: skipped %d line(s) longer than %d bytes\n", n, c.maxLine)
	}
	return err
}

// showTree prints the -tree output with package tracetree, the command's -tree mode as a function.
func showTree(c *config, out *bufio.Writer, stderr io.Writer) error {
	bad := missing(c.paths, stderr)
	err := tracetree.Write(out, c.tree, c.paths, tracetree.Options{
		Logs: c.logs, Width: c.width, Color: c.color, Location: c.loc, MaxLine: c.maxLine, JSON: c.json, Warn: stderr,
	})
	if errors.Is(err, tracetree.ErrNoSpans) && bad > 0 {
		return fmt.Errorf("%d path(s) not found", bad)
	}
	return err
}
