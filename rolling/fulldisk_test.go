package rolling

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tracemdc/tracemdc/internal/tmpfs"
)

// TestWriteFullDiskWholeLines: on a real full file system (a 1 MiB tmpfs, filled, then 10,000 bytes
// freed), a Write of 300 lines of 100 bytes fails part way with ENOSPC; the File takes back the torn
// line, so the file ends at a line end and n counts exactly the whole lines it holds. Once space is
// freed, writing p[n:] completes the file with every line whole. Before, the file ended in the middle
// of a line and n counted its bytes.
func TestWriteFullDiskWholeLines(t *testing.T) {
	dir := tmpfs.Mount(t, 1<<20)
	name := filepath.Join(dir, "app.log")
	f, err := New(Config{Filename: name})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	filler := tmpfs.Fill(t, dir)
	fi, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, fi.Size()-10_000); err != nil {
		t.Fatal(err)
	}
	var p []byte
	for i := 0; i < 300; i++ {
		p = fmt.Appendf(p, "%099d\n", i)
	}
	n, err := f.Write(p)
	if !errors.Is(err, syscall.ENOSPC) || n == 0 || n >= len(p) || n%100 != 0 {
		t.Fatalf("Write on a full disk: n=%d of %d, err %v; want a failure after whole lines", n, len(p), err)
	}
	got, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, p[:n]) {
		t.Fatalf("file holds %d bytes (ends %q), want the %d bytes of whole lines", len(got), got[max(0, len(got)-20):], n)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if m, err := f.Write(p[n:]); err != nil || m != len(p)-n {
		t.Fatalf("Write after freeing space: %d, %v", m, err)
	}
	if got, _ := os.ReadFile(name); !bytes.Equal(got, p) {
		t.Fatalf("file after recovery: %d bytes, want %d", len(got), len(p))
	}
	// A line too long for the space left is taken back whole: n is 0.
	filler = tmpfs.Fill(t, dir)
	if fi, err = os.Stat(filler); err != nil || os.Truncate(filler, fi.Size()-10_000) != nil {
		t.Fatal(err)
	}
	if n, err := f.Write(append(bytes.Repeat([]byte("x"), 20_000), '\n')); n != 0 || err == nil {
		t.Fatalf("a 20,000-byte line on a full disk: n=%d, err %v", n, err)
	}
	_ = os.Remove(filler)
	if got, _ := os.ReadFile(name); !bytes.Equal(got, p) {
		t.Fatalf("file after a taken-back line: %d bytes, want %d", len(got), len(p))
	}
}
