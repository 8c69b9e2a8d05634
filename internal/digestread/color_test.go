package digestread

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestColorFor(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		mode string
		out  io.Writer
		want bool
	}{
		{"always", &bytes.Buffer{}, true},
		{"never", w, false},
		{"auto", w, false}, // a pipe is not a terminal
		{"auto", &bytes.Buffer{}, false},
	} {
		got, err := ColorFor(tc.mode, tc.out)
		if err != nil || got != tc.want {
			t.Errorf("ColorFor(%q) = %v, %v; want %v", tc.mode, got, err, tc.want)
		}
	}
	if _, err := ColorFor("sometimes", w); err == nil {
		t.Error("an unknown mode was accepted")
	}
}
