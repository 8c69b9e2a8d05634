package export

import (
	"fmt"
	"strconv"
	"strings"
)

// Error is what the exporter reports to its error reporters (WithErrorReporter) and what Shutdown
// returns: spans that were not exported, how many, and why.
type Error struct {
	// Op is what failed: "deliver" (the backend did not take a batch, or took part of it), "drop"
	// (spans never sent: the queue was full, or Report came after Close), "encode" (a batch that
	// could not be encoded), "close" (Close gave up at its deadline) or "totals" (Close's account:
	// Spans not exported of Total reported, Msg the counts).
	Op       string
	Endpoint string // the URL posted to, its user info (credentials) shown as xxxxx
	Spans    int    // spans this error is about
	Total    uint64 // for "drop": spans dropped since the start
	Status   int    // the HTTP status of the last answer; 0 when there was none
	Attempts int    // requests made for the batch
	Msg      string // the reason: the backend's message, or what happened
	Err      error  // the underlying error (a transport error), if any
}

// Error returns one line: "export: 12 spans failed: POST <url>: 400 Bad Request: <msg>", or for the
// totals "export: 12 of 500 spans not exported: POST <url>: 488 exported, 0 dropped, 12 failed".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("export: ")
	if e.Op == "totals" {
		fmt.Fprintf(&b, "%d of %d spans not exported: POST %s: %s", e.Spans, e.Total, e.Endpoint, e.Msg)
		return b.String()
	}
	b.WriteString(strconv.Itoa(e.Spans))
	if e.Spans == 1 {
		b.WriteString(" span ")
	} else {
		b.WriteString(" spans ")
	}
	switch e.Op {
	case "drop":
		b.WriteString("dropped")
	case "close":
		b.WriteString("not exported at close")
	default:
		b.WriteString("failed")
	}
	if e.Endpoint != "" {
		b.WriteString(": POST ")
		b.WriteString(e.Endpoint)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": %d %s", e.Status, statusText(e.Status))
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (%d attempts)", e.Attempts)
	}
	if e.Op == "drop" && e.Total > 0 {
		fmt.Fprintf(&b, " (%d dropped in all)", e.Total)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }
