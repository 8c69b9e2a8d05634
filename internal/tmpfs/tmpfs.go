// Package tmpfs gives tests a real small file system that can fill up: Mount mounts a tmpfs of a
// given size (Linux, as root or with CAP_SYS_ADMIN) and unmounts it when the test ends; Fill fills it
// with a file whose removal frees the space again.
//
//	dir := tmpfs.Mount(t, 16<<20)
//	filler := tmpfs.Fill(t, dir) // writes now fail with ENOSPC
//	os.Remove(filler)            // and work again
package tmpfs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// Fill writes the file dir/filler until the file system is full (a write fails with ENOSPC) and
// returns its path. Any other error fails the test.
func Fill(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling %s: %v", dir, err)
			}
			break
		}
	}
	// Fill the last partial page too: one byte at a time until even that fails.
	for {
		if _, err := f.Write(block[:1]); err != nil {
			break
		}
	}
	return path
}
