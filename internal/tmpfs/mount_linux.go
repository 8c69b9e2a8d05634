//go:build linux

package tmpfs

import (
	"os"
	"strconv"
	"syscall"
	"testing"
)

// Mount mounts a tmpfs of size bytes on a new directory and unmounts it (lazily, so files still open
// do not keep it) when the test ends. Where mounting is refused (not root), the test is skipped with
// the reason; with CI=true it fails instead, as CI runs as root.
func Mount(t testing.TB, size int64) string {
	t.Helper()
	dir := t.TempDir()
	opts := "size=" + strconv.FormatInt(size, 10) + ",mode=0755"
	if err := syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount -t tmpfs -o %s tmpfs %s: %v", opts, dir, err)
		}
		t.Skipf("mount -t tmpfs refused (%v): the test needs root or CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}
