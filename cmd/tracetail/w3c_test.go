package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/trace"
)

// TestTreeW3CIDs: spans with W3C ids (16 hex, no hierarchy in the id), written by the digest
// reporter, keep their tree in tracetail -tree: the JSON lines carry parent.span.id and the tree is
// built from it, whatever order the ids and the start times (all in one millisecond) come in. Before,
// the lines had no parent and -tree drew a flat list.
func TestTreeW3CIDs(t *testing.T) {
	root := t.TempDir()
	r, err := digest.New(digest.Config{Root: root, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	tr := trace.New("shop", trace.WithReporter(r), trace.WithIDGenerator(trace.W3CIDGenerator()))
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := trace.WithStartTime(t0)
	ctx, server := tr.Start(context.Background(), "GET /checkout", at, trace.WithKind(trace.KindServer),
		trace.WithLogType(digest.LogTypeHTTPServer))
	server.SetTag("request.url", "http://shop/checkout")
	server.SetTag("method", "GET")
	server.SetResultCode("200")
	pctx, price := tr.Start(ctx, "price", at)
	_, stock := tr.Start(pctx, "GET stock", at, trace.WithKind(trace.KindClient), trace.WithLogType(digest.LogTypeHTTPClient))
	stock.SetTag("request.url", "http://inventory/stock")
	stock.SetTag("method", "GET")
	stock.SetResultCode("200")
	_, persist := tr.Start(ctx, "persist", at)
	// Finished children first, as they are; the parent's line comes last.
	stock.FinishAt(t0.Add(2 * time.Millisecond))
	price.FinishAt(t0.Add(3 * time.Millisecond))
	persist.FinishAt(t0.Add(4 * time.Millisecond))
	server.FinishAt(t0.Add(5 * time.Millisecond))
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-tz", "UTC", "-tree", server.TraceID(), filepath.Join(root, "tracelog")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	depth := map[string]int{}
	for _, line := range strings.Split(stdout.String(), "\n")[1:] {
		if id := strings.TrimLeft(line, " "); id != "" {
			depth[strings.Fields(id)[0]] = (len(line) - len(id)) / 2
		}
	}
	want := map[string]int{server.SpanID(): 0, price.SpanID(): 1, stock.SpanID(): 2, persist.SpanID(): 1}
	for id, d := range want {
		if got, ok := depth[id]; !ok || got != d {
			t.Errorf("span %s at depth %d (drawn: %v), want %d", id, got, ok, d)
		}
	}
	if len(depth) != len(want) || t.Failed() {
		t.Fatalf("tree:\n%s", stdout.String())
	}
}
