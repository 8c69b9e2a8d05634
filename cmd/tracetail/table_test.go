package main

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/internal/digestread"
)

func tableRecord(app, spanID, code string, cost time.Duration) *digestread.Record {
	return &digestread.Record{
		Time: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), App: app, TraceID: traceOK, SpanID: spanID,
		ResultCode: code, Cost: cost, LogType: "http-server", Method: "GET", URL: "/x", Raw: app + spanID,
	}
}

// columnStarts returns where each space-separated value of want starts in line, in order.
func columnStarts(t *testing.T, line string, want ...string) []int {
	t.Helper()
	var at []int
	from := 0
	for _, v := range want {
		i := strings.Index(line[from:], v)
		if i < 0 {
			t.Fatalf("%q not in %q after byte %d", v, line, from)
		}
		at = append(at, from+i)
		from += i + len(v)
	}
	return at
}

// printTable prints recs and returns the rows, after checking that the header row comes first.
func printTable(t *testing.T, tab *table, recs ...*digestread.Record) (header string, rows []string) {
	t.Helper()
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	for _, r := range recs {
		tab.add(w, r)
	}
	tab.flush(w)
	w.Flush()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if !strings.HasPrefix(lines[0], titleTime+" ") {
		t.Fatalf("no header row: %q", lines[0])
	}
	return lines[0], lines[1:]
}

// TestTableBatchAligned: without -f, the columns of a batch are as wide as its widest values, so a
// long span id (0.1.1.1.1.1.1) or application name keeps every column after it aligned.
func TestTableBatchAligned(t *testing.T) {
	c := &config{loc: time.UTC}
	recs := []*digestread.Record{
		tableRecord("frontend", "0", "200", 21*time.Millisecond),
		tableRecord("inventory-eu-west-1", "0.1.1.1.1.1.1", "500", 1500*time.Millisecond),
		tableRecord("orders", "0.1.1", "00", 9*time.Millisecond),
	}
	header, lines := printTable(t, c.newTable(nil), recs...)
	if len(lines) != len(recs) {
		t.Fatalf("%d lines, want %d", len(lines), len(recs))
	}
	var first []int
	for i, r := range recs {
		at := columnStarts(t, lines[i], r.App, "http-server", r.TraceID, r.SpanID, r.ResultCode, "/x")
		if i == 0 {
			first = at
			continue
		}
		for j := range at {
			if at[j] != first[j] {
				t.Errorf("column %d of line %d starts at %d, line 0 at %d:\n%s", j, i, at[j], first[j], strings.Join(lines, "\n"))
			}
		}
	}
	// Two spaces between columns, no more: the widest value (or title: CODE) sets the width.
	if !strings.Contains(lines[1], "  inventory-eu-west-1  http-server  ") || !strings.Contains(lines[1], " 0.1.1.1.1.1.1  500   1500ms  GET /x") {
		t.Errorf("widest line not tight: %q", lines[1])
	}
	// The header's titles start where their columns do (COST is right-aligned: it ends where they end).
	titles := columnStarts(t, header, titleApp, titleType, titleTrace, titleSpan, titleCode, titleReq)
	row := columnStarts(t, lines[1], recs[1].App, "http-server", recs[1].TraceID, recs[1].SpanID, recs[1].ResultCode, "GET /x")
	for j := range titles {
		if titles[j] != row[j] {
			t.Errorf("title %d starts at %d, its column at %d:\n%s\n%s", j, titles[j], row[j], header, lines[1])
		}
	}
	if end := strings.Index(header, titleCost) + len(titleCost); end != strings.Index(lines[1], "1500ms")+len("1500ms") {
		t.Errorf("COST does not end where the costs end:\n%s\n%s", header, lines[1])
	}
}

// TestTableFollowWidens: with -f each record is printed at once; values up to the minimum widths
// stay aligned, and a longer one widens its column for that line and the ones after it.
func TestTableFollowWidens(t *testing.T) {
	c := &config{loc: time.UTC, follow: true}
	tab := c.newTable(nil)
	long := "0.1.1.1.1.1.1.1.1.1.1" // 21 characters, wider than the minimum
	_, lines := printTable(t, tab,
		tableRecord("frontend", "0", "200", time.Millisecond),
		tableRecord("orders", "0.1.1.1.1.1", "200", time.Millisecond),
		tableRecord("inventory", long, "200", time.Millisecond),
		tableRecord("orders", "0.1", "200", time.Millisecond),
	)
	code := func(line, span string) int { return columnStarts(t, line, traceOK, span, "200")[2] }
	if a, b := code(lines[0], "0"), code(lines[1], "0.1.1.1.1.1"); a != b {
		t.Errorf("span ids within the minimum width misalign (%d, %d):\n%s", a, b, strings.Join(lines, "\n"))
	}
	if a, b := code(lines[2], long), code(lines[3], "0.1"); a != b || a <= code(lines[0], "0") {
		t.Errorf("a long span id did not widen the column for later lines (%d, %d):\n%s", a, b, strings.Join(lines, "\n"))
	}
	if !strings.Contains(lines[2], long+"  200") {
		t.Errorf("long span id not followed by two spaces: %q", lines[2])
	}
}

// TestTableBatchBounded: a batch is printed once it holds batchBytes of raw lines, whatever the
// number of records, so memory stays bounded with long lines.
func TestTableBatchBounded(t *testing.T) {
	c := &config{loc: time.UTC}
	tab := c.newTable(nil)
	var b bytes.Buffer
	w := bufio.NewWriter(&b)
	r := tableRecord("app", "0", "200", time.Millisecond)
	r.Raw = strings.Repeat("x", batchBytes/4)
	for i := 1; i <= 4; i++ {
		tab.add(w, r)
		if i < 4 && len(tab.batch) != i {
			t.Fatalf("after %d records of %d bytes the batch holds %d", i, len(r.Raw), len(tab.batch))
		}
	}
	if len(tab.batch) != 0 || tab.bytes != 0 {
		t.Errorf("batch of %d bytes not printed: %d records, %d bytes held", batchBytes, len(tab.batch), tab.bytes)
	}
	w.Flush()
	if n := strings.Count(b.String(), "\n"); n != 5 {
		t.Errorf("%d lines printed, want a header and 4 rows", n)
	}
}
