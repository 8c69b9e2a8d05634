package rolling

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// TestRetention removes exactly the backups stamped before day D-MaxAgeDays
// of Location, at both ends of day D, in zones on both sides of UTC. A stamp
// parsed as UTC instead of Location (lumberjack's LocalTime bug) would keep
// or remove the wrong files here.
func TestRetention(t *testing.T) {
	t.Parallel()
	ny := newYork(t)
	zones := []*time.Location{time.UTC, ny, time.FixedZone("UTC+14", 14*3600), time.FixedZone("UTC-10", -10*3600)}
	// Day D is 2024-05-08; MaxAgeDays 7 keeps stamps from 2024-05-01 on.
	removed := []string{
		"app.log.2024-04-30", "app.log.2024-04-30.2", "app.log.2024-04-30_23",
		"app.log.2024-04-30_23.1.gz", "app.log.2024-04-29.gz", "app.log.2023-12-31",
	}
	kept := []string{
		"app.log.2024-05-01", "app.log.2024-05-01_00", "app.log.2024-05-01.1.gz",
		"app.log.2024-05-07_23", "app.log.2024-05-08",
	}
	foreign := []string{ // not backups of app.log: never touched
		"other.log.2024-01-01", "app.log.2024-01-01.bak", "app.log.20240101",
		"app.log.2024-01-01.01", "app.log.2024-01-01_24", "app.log.2024-02-30", "xapp.log.2024-01-01",
	}
	for _, loc := range zones {
		for _, at := range []time.Time{
			time.Date(2024, 5, 8, 0, 0, 30, 0, loc),
			time.Date(2024, 5, 8, 23, 59, 30, 0, loc),
		} {
			t.Run(loc.String()+"/"+at.Format("15:04"), func(t *testing.T) {
				dir := t.TempDir()
				name := filepath.Join(dir, "app.log")
				for _, n := range append(append(append([]string{}, removed...), kept...), foreign...) {
					if err := os.WriteFile(filepath.Join(dir, n), []byte("x\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				f := mustNew(t, Config{Filename: name, Rolling: Daily, Location: loc, Clock: func() time.Time { return at }}, 0)
				if err := f.Close(); err != nil { // waits for the cleanup run
					t.Fatal(err)
				}
				want := append(append([]string{"app.log"}, kept...), foreign...)
				sort.Strings(want)
				if got := dirNames(t, dir); !equalStrings(got, want) {
					t.Fatalf("files\n%v\nwant\n%v", got, want)
				}
			})
		}
	}
}

func TestRetentionForeverAndDefault(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 5, 8, 12, 0, 0, 0, time.UTC)
	files := []string{"app.log.2020-01-01", "app.log.2024-04-30", "app.log.2024-05-01"}
	for _, tc := range []struct {
		maxAge int
		want   []string
	}{
		{maxAge: -1, want: files},
		{maxAge: 0, want: files[2:]}, // default 7
		{maxAge: 1, want: nil},
	} {
		dir := t.TempDir()
		name := filepath.Join(dir, "app.log")
		for _, n := range files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte("x\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f := mustNew(t, Config{Filename: name, MaxAgeDays: tc.maxAge, Location: time.UTC, Clock: func() time.Time { return at }}, 0)
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		if got, want := dirNames(t, dir), append([]string{"app.log"}, tc.want...); !equalStrings(got, want) {
			t.Errorf("MaxAgeDays %d: files %v, want %v", tc.maxAge, got, want)
		}
	}
}

// TestRetentionAfterRoll: retention also runs after rolls, with the clock of
// the roll.
func TestRetentionAfterRoll(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	clock := newFakeClock(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	f := mustNew(t, Config{Filename: name, Rolling: Daily, MaxAgeDays: 1, Location: time.UTC, Clock: clock.Now}, 0)
	for d := 0; d < 4; d++ { // days 05-01 .. 05-04
		mustWrite(t, f, "x\n")
		clock.Add(24 * time.Hour)
	}
	clock.Add(-24 * time.Hour) // the last write was on 05-04
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"app.log", "app.log.2024-05-03"}
	if got := dirNames(t, dir); !equalStrings(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
}

func TestMaxBackups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	// X and X.gz together (an interrupted compression) count once.
	for _, n := range []string{"app.log.2024-05-06", "app.log.2024-05-07", "app.log.2024-05-07.1",
		"app.log.2024-05-07.2", "app.log.2024-05-07.2.gz", "app.log.2024-05-08"} {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2024, 5, 8, 12, 0, 0, 0, time.UTC)
	f := mustNew(t, Config{Filename: name, MaxBackups: 3, Location: time.UTC, Clock: func() time.Time { return at }}, 0)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	want := []string{"app.log", "app.log.2024-05-07.1", "app.log.2024-05-07.2", "app.log.2024-05-07.2.gz", "app.log.2024-05-08"}
	if got := dirNames(t, dir); !equalStrings(got, want) {
		t.Fatalf("files %v, want %v", got, want)
	}
}
