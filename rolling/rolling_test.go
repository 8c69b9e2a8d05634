package rolling

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lineLen is the length of every line of the concurrency test, newline
// included: "g<goroutine>-<7-digit number>-" padded with 'x'.
const lineLen = 64

func numberedLine(buf []byte, g, i int) []byte {
	buf = fmt.Appendf(buf[:0], "g%d-%07d-", g, i)
	for len(buf) < lineLen-1 {
		buf = append(buf, 'x')
	}
	return append(buf, '\n')
}

// parseNumbered reads g and i from the start of a numberedLine; the caller
// compares the whole line with numberedLine(g, i).
func parseNumbered(line []byte) (g, i int, ok bool) {
	if len(line) < 11 || line[0] != 'g' || line[2] != '-' || line[10] != '-' {
		return 0, 0, false
	}
	g = int(line[1] - '0')
	for _, c := range line[3:10] {
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		i = i*10 + int(c-'0')
	}
	return g, i, g >= 0 && g <= 9
}

// TestNoLossConcurrent writes 4 x 100k numbered lines from 4 goroutines with
// MaxSizeMB 1 and checks that every line is present exactly once across the
// backups and the live file, none torn, each goroutine's lines in order
// when the files are read in Backups order, and no backup over the limit.
//
// TRACEMDC_STRESS=1 writes ten times as many lines.
func TestNoLossConcurrent(t *testing.T) {
	const goroutines = 4
	scale := 1
	if os.Getenv("TRACEMDC_STRESS") != "" {
		scale = 10
	}
	frozen := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name     string
		unit     int64 // bytes per "MB"
		frozen   bool  // every roll at the same instant
		compress bool
		perG     int // lines per goroutine
	}{
		// 25.6 MB of lines: ~25 rolls at a real megabyte.
		{name: "1MB_real_clock", unit: megabyte, perG: 100_000},
		// "1 MB" scaled to 16 KiB: ~1600 rolls, all within the same
		// millisecond of the clock (lumberjack would name them alike).
		{name: "16KiB_frozen_clock", unit: 16 << 10, frozen: true, perG: 100_000},
		// 4 x 10k lines, ~160 rolls, compressed in the background while
		// writing.
		{name: "16KiB_compress", unit: 16 << 10, frozen: true, compress: true, perG: 10_000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			perG := tc.perG * scale
			dir := t.TempDir()
			name := filepath.Join(dir, "digest.log")
			cfg := Config{Filename: name, MaxSizeMB: 1, Rolling: Daily, Location: time.UTC, Compress: tc.compress}
			if tc.frozen {
				cfg.Clock = func() time.Time { return frozen }
			}
			var onErr sync.Map
			cfg.OnError = func(err error) { onErr.Store(err.Error(), true) }
			f := mustNew(t, cfg, tc.unit)
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, goroutines)
			for g := 0; g < goroutines; g++ {
				wg.Add(1)
				go func(g int) {
					defer wg.Done()
					buf := make([]byte, 0, lineLen)
					for i := 0; i < perG; i++ {
						buf = numberedLine(buf, g, i)
						if n, err := f.Write(buf); err != nil || n != len(buf) {
							errs <- fmt.Errorf("g%d line %d: n=%d err=%v", g, i, n, err)
							return
						}
					}
				}(g)
			}
			wg.Wait()
			t.Logf("writes done after %v", time.Since(start))
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			onErr.Range(func(k, _ any) bool { t.Errorf("OnError: %v", k); return true })

			paths, err := Backups(name)
			if err != nil {
				t.Fatal(err)
			}
			// The live file plus the backups hold all lines, none over
			// the limit.
			minRolls := goroutines*perG*lineLen/int(tc.unit) - 1
			if len(paths) < minRolls {
				t.Fatalf("%d backups, want at least %d", len(paths), minRolls)
			}
			seen := make([][]bool, goroutines)
			last := make([]int, goroutines)
			for g := range seen {
				seen[g] = make([]bool, perG)
				last[g] = -1
			}
			want := make([]byte, 0, lineLen)
			total := 0
			for k, p := range append(paths, name) {
				if tc.compress && k < len(paths) && !strings.HasSuffix(p, compressExt) {
					t.Errorf("%s not compressed", p)
				}
				data := readFile(t, p)
				if k < len(paths) && (len(data) == 0 || int64(len(data)) > tc.unit) {
					t.Fatalf("backup %s has %d bytes, want 1..%d", p, len(data), tc.unit)
				}
				if len(data)%lineLen != 0 {
					t.Fatalf("%s: %d bytes is not whole lines", p, len(data))
				}
				for off := 0; off < len(data); off += lineLen {
					line := data[off : off+lineLen]
					g, i, ok := parseNumbered(line)
					if !ok || g >= goroutines || i >= perG {
						t.Fatalf("%s: torn or foreign line %q", p, line)
					}
					if want = numberedLine(want, g, i); !bytes.Equal(line, want) {
						t.Fatalf("%s: torn line %q", p, line)
					}
					if seen[g][i] {
						t.Fatalf("line g%d-%d twice", g, i)
					}
					if i <= last[g] {
						t.Fatalf("%s: g%d line %d after line %d: files out of order", p, g, i, last[g])
					}
					seen[g][i], last[g] = true, i
					total++
				}
			}
			t.Logf("verified after %v", time.Since(start))
			if total != goroutines*perG {
				t.Fatalf("%d lines found, want %d", total, goroutines*perG)
			}
		})
	}
}

// TestSameInstantRotations is lumberjack's same-millisecond overwrite:
// hundreds of rolls at one instant must make as many distinct backups.
func TestSameInstantRotations(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f := mustNew(t, Config{Filename: name, Location: time.UTC, Clock: func() time.Time { return at }}, 0)
	const n = 300
	for i := 0; i < n; i++ {
		mustWrite(t, f, fmt.Sprintf("line %d\n", i))
		if err := f.Rotate(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	names, contents := backupContents(t, name)
	if len(names) != n {
		t.Fatalf("%d backups, want %d", len(names), n)
	}
	for i, bn := range names {
		want := backupName("app.log", "2024-05-01", i)
		if bn != want {
			t.Fatalf("backup %d is %s, want %s", i, bn, want)
		}
		if got, w := contents[bn], fmt.Sprintf("line %d\n", i); got != w {
			t.Fatalf("%s = %q, want %q", bn, got, w)
		}
	}
	if b := readFile(t, name); len(b) != 0 {
		t.Fatalf("live file = %q, want empty", b)
	}
}

// TestBackupIndexContinues checks that a new File continues after the
// highest index already on disk, and never reuses a name whose .gz exists.
func TestBackupIndexContinues(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	if err := os.WriteFile(filepath.Join(dir, "app.log.2024-05-01"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "app.log.2024-05-01.3"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := compressFile(filepath.Join(dir, "app.log.2024-05-01.3")); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f := mustNew(t, Config{Filename: name, Rolling: Daily, Location: time.UTC, Clock: func() time.Time { return at }}, 0)
	mustWrite(t, f, "new\n")
	if err := f.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	names, contents := backupContents(t, name)
	want := []string{"app.log.2024-05-01", "app.log.2024-05-01.3.gz", "app.log.2024-05-01.4"}
	if !equalStrings(names, want) {
		t.Fatalf("backups %v, want %v", names, want)
	}
	if contents["app.log.2024-05-01.4"] != "new\n" {
		t.Fatalf("new backup = %q", contents["app.log.2024-05-01.4"])
	}
}

// TestWriteLargerThanMaxSize: lumberjack fails such a write; here it lands
// whole in a file of its own.
func TestWriteLargerThanMaxSize(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	const unit = 1024
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f := mustNew(t, Config{Filename: name, MaxSizeMB: 1, Location: time.UTC, Clock: func() time.Time { return at }}, unit)
	small := strings.Repeat("s", 99) + "\n"
	big := strings.Repeat("B", 5*unit-1) + "\n"
	mustWrite(t, f, small)
	mustWrite(t, f, big)
	mustWrite(t, f, small)
	mustWrite(t, f, big) // into a fresh file, no empty backup before it
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	names, contents := backupContents(t, name)
	want := []string{"app.log.2024-05-01", "app.log.2024-05-01.1", "app.log.2024-05-01.2"}
	if !equalStrings(names, want) {
		t.Fatalf("backups %v, want %v", names, want)
	}
	for i, w := range []string{small, big, small} {
		if contents[want[i]] != w {
			t.Errorf("%s has %d bytes, want %d", want[i], len(contents[want[i]]), len(w))
		}
	}
	if got := string(readFile(t, name)); got != big {
		t.Fatalf("live file has %d bytes, want %d", len(got), len(big))
	}
}

// rollStep sets the clock, writes a line and checks the backups and the
// live file afterwards.
type rollStep struct {
	at      time.Time
	write   string
	backups []string          // all backup names, oldest first
	content map[string]string // some backups' contents
	live    string
}

func runSteps(t *testing.T, period Period, loc *time.Location, steps []rollStep) {
	t.Helper()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	clock := newFakeClock(steps[0].at)
	f := mustNew(t, Config{Filename: name, Rolling: period, Location: loc, MaxAgeDays: -1, Clock: clock.Now}, 0)
	for i, s := range steps {
		clock.Set(s.at)
		mustWrite(t, f, s.write)
		names, contents := backupContents(t, name)
		if !equalStrings(names, s.backups) {
			t.Fatalf("step %d (%v): backups %v, want %v", i, s.at, names, s.backups)
		}
		for n, w := range s.content {
			if contents[n] != w {
				t.Fatalf("step %d: %s = %q, want %q", i, n, contents[n], w)
			}
		}
		if got := string(readFile(t, name)); got != s.live {
			t.Fatalf("step %d: live = %q, want %q", i, got, s.live)
		}
	}
}

func TestDailyRolling(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	runSteps(t, Daily, ny, []rollStep{
		{at: time.Date(2024, 5, 1, 23, 59, 59, 999e6, ny), write: "a\n", live: "a\n"},
		{at: time.Date(2024, 5, 2, 0, 0, 0, 0, ny), write: "b\n",
			backups: []string{"app.log.2024-05-01"}, content: map[string]string{"app.log.2024-05-01": "a\n"}, live: "b\n"},
		{at: time.Date(2024, 5, 2, 23, 0, 0, 0, ny), write: "c\n",
			backups: []string{"app.log.2024-05-01"}, live: "b\nc\n"},
		// Midnight UTC is not a boundary in New York.
		{at: time.Date(2024, 5, 3, 3, 0, 0, 0, time.UTC), write: "d\n",
			backups: []string{"app.log.2024-05-01"}, live: "b\nc\nd\n"},
		// Days without writes make no backups; the roll is named for the
		// day of the lines.
		{at: time.Date(2024, 5, 6, 10, 0, 0, 0, ny), write: "e\n",
			backups: []string{"app.log.2024-05-01", "app.log.2024-05-02"},
			content: map[string]string{"app.log.2024-05-02": "b\nc\nd\n"}, live: "e\n"},
	})
}

func TestHourlyRolling(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	runSteps(t, Hourly, ny, []rollStep{
		{at: time.Date(2024, 5, 1, 13, 59, 59, 0, ny), write: "a\n", live: "a\n"},
		{at: time.Date(2024, 5, 1, 14, 0, 0, 0, ny), write: "b\n",
			backups: []string{"app.log.2024-05-01_13"}, content: map[string]string{"app.log.2024-05-01_13": "a\n"}, live: "b\n"},
		{at: time.Date(2024, 5, 1, 14, 59, 0, 0, ny), write: "c\n",
			backups: []string{"app.log.2024-05-01_13"}, live: "b\nc\n"},
		{at: time.Date(2024, 5, 2, 0, 0, 1, 0, ny), write: "d\n",
			backups: []string{"app.log.2024-05-01_13", "app.log.2024-05-01_14"},
			content: map[string]string{"app.log.2024-05-01_14": "b\nc\n"}, live: "d\n"},
	})
}

func TestRollingAcrossDST(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	est := time.FixedZone("EST", -5*3600)
	edt := time.FixedZone("EDT", -4*3600)
	t.Run("daily_spring_forward", func(t *testing.T) {
		// 2024-03-10 has 23 hours in New York.
		runSteps(t, Daily, ny, []rollStep{
			{at: time.Date(2024, 3, 9, 23, 30, 0, 0, est), write: "a\n", live: "a\n"},
			{at: time.Date(2024, 3, 10, 0, 0, 30, 0, est), write: "b\n",
				backups: []string{"app.log.2024-03-09"}, live: "b\n"},
			{at: time.Date(2024, 3, 10, 23, 59, 59, 0, edt), write: "c\n",
				backups: []string{"app.log.2024-03-09"}, live: "b\nc\n"},
			{at: time.Date(2024, 3, 11, 0, 0, 0, 0, edt), write: "d\n",
				backups: []string{"app.log.2024-03-09", "app.log.2024-03-10"},
				content: map[string]string{"app.log.2024-03-10": "b\nc\n"}, live: "d\n"},
		})
	})
	t.Run("daily_fall_back", func(t *testing.T) {
		// 2024-11-03 has 25 hours in New York.
		runSteps(t, Daily, ny, []rollStep{
			{at: time.Date(2024, 11, 3, 0, 30, 0, 0, edt), write: "a\n", live: "a\n"},
			{at: time.Date(2024, 11, 3, 23, 59, 59, 0, est), write: "b\n", live: "a\nb\n"},
			{at: time.Date(2024, 11, 4, 0, 0, 0, 0, est), write: "c\n",
				backups: []string{"app.log.2024-11-03"}, content: map[string]string{"app.log.2024-11-03": "a\nb\n"}, live: "c\n"},
		})
	})
	t.Run("hourly_spring_forward", func(t *testing.T) {
		// 01:59:59 EST is followed by 03:00:00 EDT.
		runSteps(t, Hourly, ny, []rollStep{
			{at: time.Date(2024, 3, 10, 1, 59, 59, 0, est), write: "a\n", live: "a\n"},
			{at: time.Date(2024, 3, 10, 3, 0, 0, 0, edt), write: "b\n",
				backups: []string{"app.log.2024-03-10_01"}, content: map[string]string{"app.log.2024-03-10_01": "a\n"}, live: "b\n"},
			{at: time.Date(2024, 3, 10, 3, 59, 59, 0, edt), write: "c\n",
				backups: []string{"app.log.2024-03-10_01"}, live: "b\nc\n"},
			{at: time.Date(2024, 3, 10, 4, 0, 0, 0, edt), write: "d\n",
				backups: []string{"app.log.2024-03-10_01", "app.log.2024-03-10_03"},
				content: map[string]string{"app.log.2024-03-10_03": "b\nc\n"}, live: "d\n"},
		})
	})
	t.Run("hourly_fall_back", func(t *testing.T) {
		// The hour 01 happens twice: once in EDT, then in EST. The second
		// gets the next index instead of overwriting the first.
		runSteps(t, Hourly, ny, []rollStep{
			{at: time.Date(2024, 11, 3, 0, 59, 59, 0, edt), write: "a\n", live: "a\n"},
			{at: time.Date(2024, 11, 3, 1, 0, 0, 0, edt), write: "b\n",
				backups: []string{"app.log.2024-11-03_00"}, live: "b\n"},
			{at: time.Date(2024, 11, 3, 1, 59, 59, 0, edt), write: "c\n",
				backups: []string{"app.log.2024-11-03_00"}, live: "b\nc\n"},
			{at: time.Date(2024, 11, 3, 1, 0, 0, 0, est), write: "d\n",
				backups: []string{"app.log.2024-11-03_00", "app.log.2024-11-03_01"},
				content: map[string]string{"app.log.2024-11-03_01": "b\nc\n"}, live: "d\n"},
			{at: time.Date(2024, 11, 3, 1, 59, 59, 0, est), write: "e\n",
				backups: []string{"app.log.2024-11-03_00", "app.log.2024-11-03_01"}, live: "d\ne\n"},
			{at: time.Date(2024, 11, 3, 2, 0, 0, 0, est), write: "f\n",
				backups: []string{"app.log.2024-11-03_00", "app.log.2024-11-03_01", "app.log.2024-11-03_01.1"},
				content: map[string]string{"app.log.2024-11-03_01.1": "d\ne\n"}, live: "f\n"},
		})
	})
}

func TestRollIfDue(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	clock := newFakeClock(time.Date(2024, 5, 1, 23, 0, 0, 0, time.UTC))
	f := mustNew(t, Config{Filename: name, Rolling: Daily, Location: time.UTC, Clock: clock.Now}, 0)
	mustWrite(t, f, "a\n")
	if rolled, err := f.RollIfDue(); rolled || err != nil {
		t.Fatalf("before midnight: RollIfDue = %v, %v", rolled, err)
	}
	clock.Set(time.Date(2024, 5, 2, 0, 0, 1, 0, time.UTC))
	if rolled, err := f.RollIfDue(); !rolled || err != nil {
		t.Fatalf("after midnight: RollIfDue = %v, %v", rolled, err)
	}
	if rolled, err := f.RollIfDue(); rolled || err != nil {
		t.Fatalf("again: RollIfDue = %v, %v", rolled, err)
	}
	// An empty live file at the next boundary is not rolled.
	clock.Set(time.Date(2024, 5, 3, 0, 0, 1, 0, time.UTC))
	if rolled, err := f.RollIfDue(); rolled || err != nil {
		t.Fatalf("empty file: RollIfDue = %v, %v", rolled, err)
	}
	mustWrite(t, f, "b\n")
	names, contents := backupContents(t, name)
	if !equalStrings(names, []string{"app.log.2024-05-01"}) || contents["app.log.2024-05-01"] != "a\n" {
		t.Fatalf("backups %v %q", names, contents)
	}
	if got := string(readFile(t, name)); got != "b\n" {
		t.Fatalf("live = %q", got)
	}
}

// TestStartupRollsStaleFile: a live file last written in an earlier period
// becomes that period's backup when the File is made.
func TestStartupRollsStaleFile(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	if err := os.WriteFile(name, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Date(2024, 4, 30, 23, 30, 0, 0, ny)
	if err := os.Chtimes(name, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	clock := newFakeClock(time.Date(2024, 5, 1, 0, 30, 0, 0, ny))
	f := mustNew(t, Config{Filename: name, Rolling: Daily, Location: ny, Clock: clock.Now}, 0)
	mustWrite(t, f, "new\n")
	names, contents := backupContents(t, name)
	if !equalStrings(names, []string{"app.log.2024-04-30"}) || contents["app.log.2024-04-30"] != "old\n" {
		t.Fatalf("backups %v %q", names, contents)
	}
	if got := string(readFile(t, name)); got != "new\n" {
		t.Fatalf("live = %q", got)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	// Same day: the File appends.
	f2 := mustNew(t, Config{Filename: name, Rolling: Daily, Location: ny, Clock: clock.Now}, 0)
	if err := os.Chtimes(name, clock.Now(), clock.Now()); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f2, "more\n")
	if got := string(readFile(t, name)); got != "new\nmore\n" {
		t.Fatalf("live = %q", got)
	}
}

// TestDeletedFileRecreated: lumberjack keeps writing to an unlinked inode;
// here the live file is re-created at the first write after CheckInterval.
func TestDeletedFileRecreated(t *testing.T) {
	t.Parallel()
	t.Run("deleted", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "app.log")
		clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
		f := mustNew(t, Config{Filename: name, Rolling: Daily, Location: time.UTC, FileMode: 0o640, Clock: clock.Now}, 0)
		mustWrite(t, f, "a\n")
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
		clock.Add(CheckInterval)
		mustWrite(t, f, "b\n")
		if got := string(readFile(t, name)); got != "b\n" {
			t.Fatalf("re-created file = %q, want %q", got, "b\n")
		}
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if want := umasked(t, dir, 0o640); fi.Mode().Perm() != want {
			t.Fatalf("re-created mode %v, want %v", fi.Mode().Perm(), want)
		}
	})
	t.Run("within_interval", func(t *testing.T) {
		// Documented window: writes before the next check go to the
		// deleted file; the write after the check re-creates it.
		dir := t.TempDir()
		name := filepath.Join(dir, "app.log")
		clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
		f := mustNew(t, Config{Filename: name, Location: time.UTC, Clock: clock.Now}, 0)
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
		clock.Add(CheckInterval - 1)
		mustWrite(t, f, "lost\n")
		if _, err := os.Stat(name); !os.IsNotExist(err) {
			t.Fatalf("file re-created before the check interval: %v", err)
		}
		clock.Add(1)
		mustWrite(t, f, "c\n")
		if got := string(readFile(t, name)); got != "c\n" {
			t.Fatalf("re-created file = %q", got)
		}
	})
	t.Run("moved_and_replaced", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "app.log")
		clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
		f := mustNew(t, Config{Filename: name, Location: time.UTC, Clock: clock.Now}, 0)
		mustWrite(t, f, "a\n")
		moved := filepath.Join(dir, "moved.log")
		if err := os.Rename(name, moved); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		clock.Add(CheckInterval)
		mustWrite(t, f, "b\n")
		if got := string(readFile(t, name)); got != "x\nb\n" {
			t.Fatalf("new file = %q", got)
		}
		if got := string(readFile(t, moved)); got != "a\n" {
			t.Fatalf("moved file = %q", got)
		}
	})
	t.Run("RollIfDue_checks_at_once", func(t *testing.T) {
		dir := t.TempDir()
		name := filepath.Join(dir, "app.log")
		clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
		f := mustNew(t, Config{Filename: name, Location: time.UTC, Clock: clock.Now}, 0)
		mustWrite(t, f, "a\n")
		if err := os.Remove(name); err != nil {
			t.Fatal(err)
		}
		if _, err := f.RollIfDue(); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, "b\n")
		if got := string(readFile(t, name)); got != "b\n" {
			t.Fatalf("re-created file = %q", got)
		}
	})
	t.Run("directory_removed", func(t *testing.T) {
		// The whole directory goes; a time roll then fails (reported to
		// OnError), the directory and file are re-created and the line
		// is kept.
		root := t.TempDir()
		dir := filepath.Join(root, "logs")
		name := filepath.Join(dir, "app.log")
		clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
		var mu sync.Mutex
		var reported []error
		f := mustNew(t, Config{Filename: name, Rolling: Daily, Location: time.UTC, Clock: clock.Now,
			OnError: func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }}, 0)
		mustWrite(t, f, "a\n")
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		clock.Add(24 * time.Hour)
		mustWrite(t, f, "b\n")
		if got := string(readFile(t, name)); got != "b\n" {
			t.Fatalf("re-created file = %q", got)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(reported) == 0 || !strings.Contains(reported[0].Error(), "roll") {
			t.Fatalf("OnError got %v, want the failed roll", reported)
		}
	})
}

// umasked returns the permission a file created with mode in dir gets.
func umasked(t *testing.T, dir string, mode os.FileMode) os.FileMode {
	t.Helper()
	ref := filepath.Join(dir, fmt.Sprintf("umask-ref-%o", mode))
	fd, err := os.OpenFile(ref, os.O_CREATE|os.O_WRONLY|os.O_EXCL, mode)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := fd.Stat()
	_ = fd.Close()
	_ = os.Remove(ref)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFileMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []os.FileMode{0, 0o600, 0o664} {
		dir := t.TempDir()
		name := filepath.Join(dir, "sub", "app.log")
		f := mustNew(t, Config{Filename: name, FileMode: mode}, 0)
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		want := mode
		if want == 0 {
			want = DefaultFileMode
		}
		if got, w := fi.Mode().Perm(), umasked(t, dir, want); got != w {
			t.Errorf("FileMode %v: live file mode %v, want %v", mode, got, w)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnwritableDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, filename, msg string
		is                  error
	}{
		// Tests may run as root, for whom chmod does not make a directory
		// unwritable; these paths are unwritable for root too.
		{"under_regular_file", filepath.Join(regular, "logs", "app.log"), "cannot create directory", syscall.ENOTDIR},
		{"missing_dir_in_proc", "/proc/tracemdc-rolling-test/app.log", "cannot create directory", nil},
		{"file_in_proc", "/proc/tracemdc-rolling-test.log", "cannot open log file", nil},
		{"filename_is_directory", dir, "cannot open log file", syscall.EISDIR},
	}
	for _, tc := range cases {
		f, err := New(Config{Filename: tc.filename})
		if err == nil {
			_ = f.Close()
			t.Errorf("%s: New succeeded", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), tc.filename) {
			t.Errorf("%s: error %q lacks %q or the path", tc.name, err, tc.msg)
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: error %v is not %v", tc.name, err, tc.is)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "app.log")
	for _, cfg := range []Config{
		{},
		{Filename: name, MaxSizeMB: -1},
		{Filename: name, MaxSizeMB: 1 << 62},
		{Filename: name, Rolling: Period(7)},
		{Filename: name, MaxBackups: -1},
		{Filename: name, FileMode: os.ModeDir | 0o755},
	} {
		if f, err := New(cfg); err == nil || !strings.HasPrefix(err.Error(), "rolling: ") {
			if f != nil {
				_ = f.Close()
			}
			t.Errorf("New(%+v) error = %v, want a rolling error", cfg, err)
		}
	}
	if _, err := os.Stat(name); !os.IsNotExist(err) {
		t.Errorf("a rejected Config created the file: %v", err)
	}
}

func TestClosed(t *testing.T) {
	t.Parallel()
	f := mustNew(t, Config{Filename: filepath.Join(t.TempDir(), "app.log")}, 0)
	mustWrite(t, f, "a\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	if n, err := f.Write([]byte("b\n")); n != 0 || !errors.Is(err, ErrClosed) || !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Write after Close = %d, %v", n, err)
	}
	if err := f.Rotate(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Rotate after Close = %v", err)
	}
	if _, err := f.RollIfDue(); !errors.Is(err, ErrClosed) {
		t.Fatalf("RollIfDue after Close = %v", err)
	}
	if got := string(readFile(t, f.Name())); got != "a\n" {
		t.Fatalf("file = %q", got)
	}
}

func TestRotateEmptyReopens(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "app.log")
	f := mustNew(t, Config{Filename: name}, 0)
	if err := f.Rotate(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(name); err != nil {
		t.Fatal(err)
	}
	if err := f.Rotate(); err != nil { // reopen after an outside rotation
		t.Fatal(err)
	}
	mustWrite(t, f, "a\n")
	if got := string(readFile(t, name)); got != "a\n" {
		t.Fatalf("file = %q", got)
	}
	if bs, err := Backups(name); err != nil || len(bs) != 0 {
		t.Fatalf("Backups = %v, %v; want none (no empty backups)", bs, err)
	}
}

func TestCompress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	f := mustNew(t, Config{Filename: name, Rolling: Daily, Location: time.UTC, Compress: true, FileMode: 0o600, Clock: clock.Now}, 0)
	for d := 0; d < 3; d++ {
		mustWrite(t, f, fmt.Sprintf("day %d\n", d))
		clock.Add(24 * time.Hour)
	}
	mustWrite(t, f, "live\n")
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"app.log", "app.log.2024-05-01.gz", "app.log.2024-05-02.gz", "app.log.2024-05-03.gz"}
	if got := dirNames(t, dir); !equalStrings(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
	for d := 0; d < 3; d++ {
		p := filepath.Join(dir, want[d+1])
		if got, w := string(readFile(t, p)), fmt.Sprintf("day %d\n", d); got != w {
			t.Errorf("%s = %q, want %q", p, got, w)
		}
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != umasked(t, dir, 0o600) {
			t.Errorf("%s mode: %v %v", p, fi.Mode(), err)
		}
	}
	if got := string(readFile(t, name)); got != "live\n" {
		t.Fatalf("live = %q", got)
	}
}

// lumberjackGoroutines counts goroutines running lumberjack's millRun.
func lumberjackGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return strings.Count(string(buf), lumberjackMill+"(")
}

// TestLumberjackGoroutineBounded: one File, many rolls and reopens, one
// lumberjack goroutine, which Close does not stop (lumberjack v2.2.1 has no
// way to stop it). Not parallel: it counts goroutines of the whole process.
func TestLumberjackGoroutineBounded(t *testing.T) {
	before := lumberjackGoroutines()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	f := mustNew(t, Config{Filename: name, Rolling: Hourly, Location: time.UTC, Clock: clock.Now}, 0)
	for i := 0; i < 50; i++ {
		mustWrite(t, f, "a\n")
		if err := f.Rotate(); err != nil {
			t.Fatal(err)
		}
		mustWrite(t, f, "b\n")
		clock.Add(time.Hour) // time roll on the next write
		if i%10 == 0 {
			if err := os.Remove(name); err != nil {
				t.Fatal(err)
			}
			clock.Add(CheckInterval)
		}
	}
	mustWrite(t, f, "c\n")
	if got := lumberjackGoroutines() - before; got != 1 {
		t.Fatalf("%d lumberjack goroutines for one File, want 1", got)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	// Pins the behaviour the package doc describes: if a lumberjack
	// upgrade stops its goroutine in Close, update the doc and this test.
	if got := lumberjackGoroutines() - before; got != 1 {
		t.Fatalf("%d lumberjack goroutines after Close, want the 1 lumberjack v2.2.1 never stops", got)
	}
}

// TestFileInUse: a second File on an open File's name (however it is spelled) is refused with
// ErrFileInUse; Close, or a New that failed, gives the name back.
func TestFileInUse(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "a.log")
	f, err := New(Config{Filename: name})
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []string{name, filepath.Join(dir, ".", "x", "..", "a.log")} {
		if g, err := New(Config{Filename: other}); !errors.Is(err, ErrFileInUse) {
			if g != nil {
				_ = g.Close()
			}
			t.Fatalf("New(%q) while open: %v", other, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{Filename: name})
	if err != nil {
		t.Fatalf("New after Close: %v", err)
	}
	_ = g.Close()

	// A New that fails (the parent is a regular file) keeps no claim.
	bad := filepath.Join(name, "b.log")
	for i := 0; i < 2; i++ {
		if _, err := New(Config{Filename: bad}); err == nil || errors.Is(err, ErrFileInUse) {
			t.Fatalf("New(%q) #%d: %v", bad, i, err)
		}
	}
}
