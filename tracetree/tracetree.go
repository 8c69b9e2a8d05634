// Package tracetree is the -tree mode of the tracetail command (cmd/tracetail) as a library: it shows
// one trace read back from digest logs (those of package digest, and SOFATracer's) exactly as
// `tracetail -tree` prints it: its spans as a tree with a waterfall bar and, given business log files,
// every line that carries its trace id merged with the spans in time order. A program can show a trace
// it has just written, as the quickstart demo does, with the command's own code. The reader behind it
// stays internal: the command line's output is the contract.
//
//	err := tracetree.Write(os.Stdout, traceID, []string{"logs/tracelog"},
//		tracetree.Options{Logs: []string{"logs/app.log"}})
package tracetree

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
)

// ErrNoSpans is returned (wrapped) by Write when no digest file holds a span of the trace.
var ErrNoSpans = errors.New("no span of trace")

// Options configures Write; each field is the tracetail flag named in its comment. The zero
// value prints a 40-cell bar without colours, times in time.Local.
type Options struct {
	// Logs are business log files to join (-logs): their lines that carry the trace id, under the field
	// name of any mdc naming preset or as a word of a text line, are printed after the tree, merged
	// with the spans in time order.
	Logs []string
	// Width is the cells of the waterfall bar (-width); 0 means 40.
	Width int
	// Color paints failed spans red and load-test spans yellow (-color always); see ColorFor.
	Color bool
	// Location is the time zone of the digest times (-tz); nil means time.Local.
	Location *time.Location
	// MaxLine is the longest line read, in bytes (-max-line); longer lines are skipped. 0 means 1 MiB.
	MaxLine int
	// JSON prints the spans' original lines in tree order instead of the tree (-json).
	JSON bool
	// Warn, when not nil, is told of skipped lines (malformed, or longer than MaxLine), one line each
	// as tracetail writes them on stderr.
	Warn io.Writer
}

// Write writes to w the trace traceID found in paths: digest files, or directories walked for
// digest files with their rolled backups (none: the default digest directory, <root>/tracelog of
// layout.DefaultRoot). It returns an error wrapping ErrNoSpans when no file holds a span of the
// trace, and the first error of reading a file or writing w.
func Write(w io.Writer, traceID string, paths []string, opts Options) error {
	if len(paths) == 0 {
		paths = []string{layout.DigestDir(layout.DefaultRoot())}
	}
	maxLine := opts.MaxLine
	if maxLine <= 0 {
		maxLine = digestread.DefaultMaxLine
	}
	warn := opts.Warn
	if warn == nil {
		warn = io.Discard
	}
	files := digestread.FindFiles(true, paths...)
	ropts := digestread.ReadOptions{Location: opts.Location, MaxLine: maxLine}
	recs, st, err := digestread.CollectTrace(files, traceID, ropts)
	if st.Malformed > 0 {
		fmt.Fprintf(warn, "tracetail: %d file(s): skipped %d malformed line(s)\n", len(files), st.Malformed)
	}
	if st.Overlong > 0 {
		fmt.Fprintf(warn, "tracetail: %d file(s): skipped %d line(s) longer than %d bytes\n", len(files), st.Overlong, maxLine)
	}
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return fmt.Errorf("%w %s in %d digest file(s) under %s", ErrNoSpans, traceID, len(files), strings.Join(paths, ", "))
	}
	tree := digestread.BuildTree(recs)
	render := digestread.RenderOptions{Width: opts.Width, Color: opts.Color, Location: opts.Location}
	if opts.JSON {
		var b strings.Builder
		tree.Walk(func(n *digestread.Node) bool {
			b.WriteString(n.Raw + "\n")
			return true
		})
		if _, err := io.WriteString(w, b.String()); err != nil {
			return err
		}
	} else if err := digestread.RenderTree(w, tree, render); err != nil {
		return err
	}
	if len(opts.Logs) == 0 {
		return nil
	}
	lines, over, err := digestread.JoinLogs(opts.Logs, traceID, ropts)
	if over > 0 {
		fmt.Fprintf(warn, "tracetail: business logs: skipped %d line(s) longer than %d bytes\n", over, maxLine)
	}
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return err
	}
	return digestread.RenderTimeline(w, tree, lines, render)
}

// ColorFor decides whether output written to w gets colours, for the value of a -color flag:
// "always", "never", or "auto" (only when w is a terminal, NO_COLOR is unset and TERM is not "dumb").
// Any other value is an error.
func ColorFor(mode string, w io.Writer) (bool, error) { return digestread.ColorFor(mode, w) }
