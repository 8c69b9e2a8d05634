package rolling

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	_ "time/tzdata" // America/New_York even where the system has no tzdata
)

// lumberjackMill is the goroutine lumberjack v2.2.1 starts once per Logger
// and never stops (see the package doc); each File owns one Logger.
const lumberjackMill = "gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction(lumberjackMill))
}

// fakeClock is a goroutine-safe settable clock.
type fakeClock struct {
	ns  atomic.Int64
	loc *time.Location
}

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{loc: t.Location()}
	c.Set(t)
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).In(c.loc) }
func (c *fakeClock) Set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

func newYork(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatalf("load America/New_York: %v", err)
	}
	return loc
}

// mustNew makes a File with the given MaxSizeMB unit and closes it at the
// end of the test.
func mustNew(t testing.TB, cfg Config, unit int64) *File {
	t.Helper()
	if unit == 0 {
		unit = megabyte
	}
	f, err := newFile(cfg, unit)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func mustWrite(t testing.TB, f *File, s string) {
	t.Helper()
	n, err := f.Write([]byte(s))
	if err != nil || n != len(s) {
		t.Fatalf("Write(%q) = %d, %v", s, n, err)
	}
}

// readFile returns a file's content, gunzipped if it ends in ".gz".
func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !strings.HasSuffix(path, compressExt) {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gunzip %s: %v", path, err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip %s: %v", path, err)
	}
	return out
}

// dirNames returns the sorted base names in dir.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// backupContents maps each backup's base name to its (gunzipped) content.
func backupContents(t testing.TB, live string) (names []string, contents map[string]string) {
	t.Helper()
	paths, err := Backups(live)
	if err != nil {
		t.Fatal(err)
	}
	contents = make(map[string]string)
	for _, p := range paths {
		n := filepath.Base(p)
		names = append(names, n)
		contents[n] = string(readFile(t, p))
	}
	return names, contents
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
