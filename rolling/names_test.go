package rolling

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseBackup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		ok    bool
		stamp string
		index int
		gz    bool
	}{
		{name: "app.log.2024-05-01", ok: true, stamp: "2024-05-01"},
		{name: "app.log.2024-05-01_13", ok: true, stamp: "2024-05-01_13"},
		{name: "app.log.2024-05-01.12", ok: true, stamp: "2024-05-01", index: 12},
		{name: "app.log.2024-05-01_00.3.gz", ok: true, stamp: "2024-05-01_00", index: 3, gz: true},
		{name: "app.log.2024-05-01.gz", ok: true, stamp: "2024-05-01", gz: true},
		{name: "app.log"},
		{name: "app.log."},
		{name: "app.log.2024-05-01.0"},
		{name: "app.log.2024-05-01.01"},
		{name: "app.log.2024-05-01.-1"},
		{name: "app.log.2024-05-01.1x"},
		{name: "app.log.2024-05-01."},
		{name: "app.log.2024-05-01_1"},
		{name: "app.log.2024-05-01_24"},
		{name: "app.log.2024-13-01"},
		{name: "app.log.2024-5-01"},
		{name: "app.log.2024-05-01.99999999999"},
		{name: "app.log.2024-05-01.gz.gz"},
		{name: "app.logx2024-05-01"},
		{name: "other.log.2024-05-01"},
	} {
		b, ok := parseBackup("app.log", tc.name)
		if ok != tc.ok || b.stamp != tc.stamp || b.index != tc.index || b.gz != tc.gz {
			t.Errorf("parseBackup(%q) = %+v, %v", tc.name, b, ok)
		}
	}
}

func FuzzParseBackup(f *testing.F) {
	for _, s := range []string{"app.log.2024-05-01", "app.log.2024-05-01_13.2.gz", "app.log.x", "app.log.2024-05-01.1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		b, ok := parseBackup("app.log", name)
		if !ok {
			return
		}
		// Whatever parses is exactly what backupName makes.
		got := backupName("app.log", b.stamp, b.index)
		if b.gz {
			got += compressExt
		}
		if got != name || b.key()+map[bool]string{true: compressExt}[b.gz] != name {
			t.Fatalf("parseBackup(%q) = %+v; backupName gives %q", name, b, got)
		}
	})
}

func TestBackupsOrder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	names := []string{ // in the order Backups must return them
		"app.log.2024-04-30", "app.log.2024-04-30.2", "app.log.2024-04-30.10.gz",
		"app.log.2024-05-01", "app.log.2024-05-01.gz", "app.log.2024-05-01.1",
	}
	for i := len(names) - 1; i >= 0; i-- {
		if err := os.WriteFile(filepath.Join(dir, names[i]), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "app.log.2024-01-01"), 0o755); err != nil {
		t.Fatal(err) // a directory is not a backup
	}
	got, err := Backups(filepath.Join(dir, "app.log"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	if !equalStrings(got, names) {
		t.Fatalf("Backups = %v, want %v", got, names)
	}
	if _, err := Backups(""); err == nil {
		t.Fatal("Backups(\"\") succeeded")
	}
	if _, err := Backups(filepath.Join(dir, "missing", "app.log")); err == nil {
		t.Fatal("Backups of a missing directory succeeded")
	}
}
