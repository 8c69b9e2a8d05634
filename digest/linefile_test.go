package digest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// scriptedFile writes to buf; each Write takes the next step: n < 0 writes all of p, else n bytes
// and an error. Past the script every Write works.
type scriptedFile struct {
	buf   bytes.Buffer
	steps []int
}

func (f *scriptedFile) Write(p []byte) (int, error) {
	if len(f.steps) == 0 {
		return f.buf.Write(p)
	}
	n := f.steps[0]
	f.steps = f.steps[1:]
	if n < 0 {
		return f.buf.Write(p)
	}
	f.buf.Write(p[:n])
	return n, errors.New("disk full (scripted)")
}

func (f *scriptedFile) Close() error { return nil }

// TestLineFileTorn: a destination that keeps the head of a line a failed Write cut (one that cannot
// take it back, unlike rolling.File) still gets every line whole: the cut line's rest is written
// first and never given up, even when the kept lines pass max and are dropped; lines written +
// lines dropped = lines given, exactly.
func TestLineFileTorn(t *testing.T) {
	sf := &scriptedFile{steps: []int{25, 0, 0, 0}} // cut the third line (10-byte lines), then fail 3 times
	f := lineFile{name: "x.log", w: sf, max: 50}
	var given, written, dropped uint64
	add := func(k int) {
		for i := 0; i < k; i++ {
			f.buf = fmt.Appendf(f.buf, "line %04d\n", given)
			f.lines++
			given++
		}
	}
	for round := 0; round < 6; round++ {
		add(4)
		res := f.flush()
		written += res.written
		dropped += res.dropped
		if (res.err != nil) != (round < 4) {
			t.Fatalf("round %d: err %v", round, res.err)
		}
		if round == 4 && res.recovered != 4 {
			t.Fatalf("recovered after %d failures, want 4", res.recovered)
		}
	}
	if written+dropped != given || dropped == 0 || f.lost != dropped || f.lines != 0 {
		t.Fatalf("given %d, written %d, dropped %d (lost %d, left %d)", given, written, dropped, f.lost, f.lines)
	}
	lines := strings.Split(strings.TrimSuffix(sf.buf.String(), "\n"), "\n")
	if uint64(len(lines)) != written {
		t.Fatalf("%d lines in the file, %d counted written:\n%s", len(lines), written, sf.buf.String())
	}
	for i, l := range lines {
		if len(l) != 9 || !strings.HasPrefix(l, "line ") {
			t.Fatalf("line %d torn or glued: %q", i, l)
		}
	}
	if lines[2] != "line 0002" { // the cut line, completed first
		t.Fatalf("lines %q", lines)
	}
	if _, err := f.close(); err != nil {
		t.Fatal(err)
	}
}
