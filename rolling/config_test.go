package rolling

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigOutOfRange: every Config value out of range is an error of New naming the field (the
// rule digest.Config follows too), and New opens nothing.
func TestConfigOutOfRange(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "app.log")
	for field, cfg := range map[string]Config{
		"Config.Filename":   {},
		"Config.MaxSizeMB":  {Filename: name, MaxSizeMB: -1},
		"Config.Rolling":    {Filename: name, Rolling: Period(9)},
		"Config.MaxBackups": {Filename: name, MaxBackups: -1},
		"Config.FileMode":   {Filename: name, FileMode: os.ModeDir | 0o644},
	} {
		f, err := New(cfg)
		if err == nil {
			f.Close()
			t.Errorf("%s: New accepted %+v", field, cfg)
			continue
		}
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("New left %v", entries)
	}
	// The negative that means something: keep backups forever.
	f, err := New(Config{Filename: name, MaxAgeDays: -1})
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
}
