package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/internal/conformance"
)

func TestRun(t *testing.T) {
	var buf bytes.Buffer
	if err := run(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 6 lines, got %d:\n%s", len(lines), buf.String())
	}
	vias := map[string]int{}
	for i, line := range lines {
		m, err := conformance.Parse([]byte(line))
		if err != nil {
			t.Fatalf("line %d: %v: %s", i, err, line)
		}
		if m["traceId"] != "0ad1348f1403169275002100356696" || m["spanId"] != "0.1" {
			t.Errorf("line %d lacks the ids: %s", i, line)
		}
		if wantUser := i >= 3; (m["user"] == "alice") != wantUser {
			t.Errorf("line %d: user=%v, want it set: %v", i, m["user"], wantUser)
		}
		vias[m["via"].(string)]++
	}
	if vias["slog"] != 2 || vias["zap"] != 2 || vias["logrus"] != 2 {
		t.Errorf("lines per logger: %v", vias)
	}
}
