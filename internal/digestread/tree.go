package digestread

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// CompareSpanIDs orders span ids by hierarchy, as a depth-first walk of the tree visits them: component
// by component, numerically ("0.2" < "0.10"), a parent before its children ("0.1" < "0.1.1" < "0.2").
// Ids that are not dotted decimal numbers (W3C hex ids, for example) sort after those that are, by
// string. It returns -1, 0 or +1.
func CompareSpanIDs(a, b string) int {
	da, db := layout.IsRPCID(a), layout.IsRPCID(b)
	if da != db {
		if da {
			return -1
		}
		return 1
	}
	if !da {
		return strings.Compare(a, b)
	}
	for a != "" && b != "" {
		var ca, cb string
		ca, a, _ = strings.Cut(a, ".")
		cb, b, _ = strings.Cut(b, ".")
		// Equal-length decimal strings compare like numbers; otherwise the shorter (after leading
		// zeros) is smaller.
		ca, cb = strings.TrimLeft(ca, "0"), strings.TrimLeft(cb, "0")
		if c := cmp.Compare(len(ca), len(cb)); c != 0 {
			return c
		}
		if c := strings.Compare(ca, cb); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b)) // the one with components left is the descendant
}

// ParentSpanID returns the id of the parent of an rpcId-style span id: the part before the last ".",
// and "" for a root ("0") or an id without dots.
func ParentSpanID(id string) string {
	if i := strings.LastIndexByte(id, '.'); i >= 0 {
		return id[:i]
	}
	return ""
}

// Node is one span of a Tree.
type Node struct {
	*Record
	Depth    int     // 0 for a root
	Children []*Node // in tree order
	// Begin is the start the renderings use: Start(), or its parent's Begin when whole-millisecond
	// times put a child's start before its parent's, so a child is never drawn before its parent.
	Begin time.Time

	parent *Node
}

// Tree is the spans of one trace arranged by span id. A server span that keeps its client's id (the
// SOFARPC way) is placed under that client span; a span whose parent was not logged is placed under
// its nearest logged ancestor, or made a root. A span whose line names its parent (parent.span.id,
// written for ids that are not rpcId-style, such as W3C ids) is placed under that span, if it was
// logged, else made a root.
type Tree struct {
	TraceID string
	Roots   []*Node
	Start   time.Time // earliest span start
	End     time.Time // latest span end
	Spans   int       // number of nodes
	Errors  int       // number of spans whose result code is not a success
}

// BuildTree arranges records (of one trace; the trace id of the first is taken) into a Tree. Records
// with the same raw line are taken once. The records are not modified.
func BuildTree(records []*Record) *Tree {
	t := &Tree{}
	seen := map[string]bool{}
	var nodes []*Node
	for _, r := range records {
		if r == nil || seen[r.Raw] {
			continue
		}
		seen[r.Raw] = true
		nodes = append(nodes, &Node{Record: r})
	}
	if len(nodes) == 0 {
		return t
	}
	t.TraceID = nodes[0].TraceID
	slices.SortStableFunc(nodes, compareNodes)
	// byID holds, per span id, the node that children of that id attach to: the last in tree order
	// (a server span after the client span that shares its id).
	byID := map[string]*Node{}
	var named []*Node // nodes whose line names their parent, attached once every node is known
	for _, n := range nodes {
		if n.ParentID != "" {
			named = append(named, n)
			byID[n.SpanID] = n
			continue
		}
		var parent *Node
		if p := byID[n.SpanID]; p != nil && p.Kind == layout.KindClient && n.Kind != layout.KindClient {
			parent = p
		}
		for id := ParentSpanID(n.SpanID); parent == nil && id != ""; id = ParentSpanID(id) {
			parent = byID[id]
		}
		t.attach(n, parent)
		byID[n.SpanID] = n
	}
	if len(named) > 0 {
		for _, n := range named {
			p := byID[n.ParentID]
			for a := p; a != nil; a = a.parent {
				if a == n { // a cycle of hostile lines: n stays a root
					p = nil
					break
				}
			}
			t.attach(n, p)
		}
		// Children named their parent in any order: put every list in tree order, and set depths and
		// begins from the roots down.
		slices.SortStableFunc(t.Roots, compareNodes)
		var depth func([]*Node, int)
		depth = func(ns []*Node, d int) {
			for _, n := range ns {
				n.Depth = d
				n.Begin = n.Start()
				if p := n.parent; p != nil && n.Begin.Before(p.Begin) {
					n.Begin = p.Begin
				}
				slices.SortStableFunc(n.Children, compareNodes)
				depth(n.Children, d+1)
			}
		}
		depth(t.Roots, 0)
	}
	for _, n := range nodes {
		if t.Start.IsZero() || n.Start().Before(t.Start) {
			t.Start = n.Start()
		}
		if n.Time.After(t.End) {
			t.End = n.Time
		}
		if !n.Success() {
			t.Errors++
		}
	}
	t.Spans = len(nodes)
	return t
}

// attach makes n a child of parent, or a root when parent is nil, and sets its Depth and Begin (for
// a node attached before its parent was, BuildTree sets them again once every node is in place).
func (t *Tree) attach(n, parent *Node) {
	n.Begin = n.Start()
	if parent == nil {
		t.Roots = append(t.Roots, n)
		return
	}
	n.parent = parent
	n.Depth = parent.Depth + 1
	parent.Children = append(parent.Children, n)
	if n.Begin.Before(parent.Begin) {
		n.Begin = parent.Begin
	}
}

// compareNodes orders by span id hierarchy, then client before server, then start time, then line.
func compareNodes(a, b *Node) int {
	if c := CompareSpanIDs(a.SpanID, b.SpanID); c != 0 {
		if !layout.IsRPCID(a.SpanID) && !layout.IsRPCID(b.SpanID) {
			// No hierarchy in the ids: order by time.
			if c := a.Start().Compare(b.Start()); c != 0 {
				return c
			}
		}
		return c
	}
	if c := cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)); c != 0 {
		return c
	}
	if c := a.Start().Compare(b.Start()); c != 0 {
		return c
	}
	return strings.Compare(a.Raw, b.Raw)
}

func kindRank(kind string) int {
	if kind == layout.KindClient {
		return 0
	}
	return 1
}

// Walk calls fn for every node in tree order (depth first, parents before children) until fn returns
// false.
func (t *Tree) Walk(fn func(*Node) bool) {
	var walk func([]*Node) bool
	walk = func(ns []*Node) bool {
		for _, n := range ns {
			if !fn(n) || !walk(n.Children) {
				return false
			}
		}
		return true
	}
	walk(t.Roots)
}

// Duration returns the time from the earliest span start to the latest span end.
func (t *Tree) Duration() time.Duration { return t.End.Sub(t.Start) }

// RenderOptions configures RenderTree and RenderTimeline. The zero value renders a 40-cell waterfall,
// no colour, times in the records' own zone.
type RenderOptions struct {
	Width    int            // cells of the waterfall bar; 0 means 40
	Color    bool           // ANSI colours (red errors, yellow load test)
	Location *time.Location // zone of the times shown; nil keeps each time's own
}

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

func (o RenderOptions) paint(color, s string) string {
	if !o.Color || s == "" {
		return s
	}
	return color + s + ansiReset
}

func (o RenderOptions) time(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if o.Location != nil {
		t = t.In(o.Location)
	}
	return t.Format(layout.TimeLayout)
}

// FormatCost formats a span cost the way digest logs write it: whole milliseconds and "ms".
func FormatCost(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
}

// RenderTree writes t as an indented list, one span a line: span id, application, log type, kind,
// result code, cost, a waterfall bar placing the span (start = end - cost) within the whole trace, and
// the method and URL or operation. Columns are padded to their widest value. Failed spans are drawn
// with 'x' and marked ERROR, followed by the error text of the line if it has one; load-test spans are
// marked LOADTEST.
func RenderTree(w io.Writer, t *Tree, opts RenderOptions) error {
	width := opts.Width
	if width <= 0 {
		width = 40
	}
	if t == nil || t.Spans == 0 {
		_, err := fmt.Fprintln(w, "no spans")
		return err
	}
	var idW, appW, typeW, kindW, codeW, costW int
	t.Walk(func(n *Node) bool {
		idW = max(idW, 2*n.Depth+utf8.RuneCountInString(n.SpanID))
		appW = max(appW, utf8.RuneCountInString(n.App))
		typeW = max(typeW, utf8.RuneCountInString(n.LogType))
		kindW = max(kindW, utf8.RuneCountInString(n.Kind))
		codeW = max(codeW, len(n.ResultCode))
		costW = max(costW, len(FormatCost(n.Cost)))
		return true
	})
	total := t.Duration()
	if total <= 0 {
		total = time.Millisecond
	}
	var b strings.Builder
	fmt.Fprintf(&b, "trace %s  spans=%d  errors=%d  start=%s  duration=%s\n",
		t.TraceID, t.Spans, t.Errors, opts.time(t.Start), FormatCost(t.Duration()))
	t.Walk(func(n *Node) bool {
		failed := !n.Success()
		id := strings.Repeat("  ", n.Depth) + n.SpanID
		fmt.Fprintf(&b, "%-*s  %-*s  %-*s  %-*s  %-*s  %*s  |%s|  %s",
			idW, id, appW, n.App, typeW, n.LogType, kindW, n.Kind, codeW, n.ResultCode, costW, FormatCost(n.Cost),
			bar(n.Begin.Sub(t.Start), n.Cost, total, width, failed), strings.TrimSpace(n.Method+" "+n.URL))
		if failed {
			b.WriteString("  " + opts.paint(ansiRed, "ERROR") + n.ErrorSuffix())
		}
		if n.LoadTest {
			b.WriteString("  " + opts.paint(ansiYellow, "LOADTEST"))
		}
		b.WriteByte('\n')
		return true
	})
	_, err := io.WriteString(w, b.String())
	return err
}

// bar draws a span starting at offset and lasting cost within total, on width cells.
func bar(offset, cost, total time.Duration, width int, failed bool) string {
	from := int(int64(offset) * int64(width) / int64(total))
	n := int((int64(cost)*int64(width) + int64(total) - 1) / int64(total))
	from = min(max(from, 0), width-1)
	n = min(max(n, 1), width-from)
	fill := "="
	if failed {
		fill = "x"
	}
	return strings.Repeat(" ", from) + strings.Repeat(fill, n) + strings.Repeat(" ", width-from-n)
}
