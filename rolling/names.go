package rolling

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

const (
	dayLayout     = "2006-01-02"
	hourLayout    = "2006-01-02_15"
	compressExt   = ".gz"
	maxNameIndex  = 1 << 30
	periodDayLen  = len(dayLayout)
	periodHourLen = len(hourLayout)
)

// backup is one rolled file found next to the live file.
type backup struct {
	name  string // base name, as in the directory
	stamp string // "2006-01-02" or "2006-01-02_15"
	index int    // 0 for the plain name, k for ".k"
	gz    bool   // name ends in ".gz"
}

// key is the backup's name without ".gz": X and X.gz are the same backup.
func (b backup) key() string { return strings.TrimSuffix(b.name, compressExt) }

// before reports whether b is older than c.
func (b backup) before(c backup) bool {
	if b.stamp != c.stamp {
		return b.stamp < c.stamp
	}
	if b.index != c.index {
		return b.index < c.index
	}
	return !b.gz && c.gz
}

// time returns the start of the period named by the stamp, in loc.
func (b backup) time(loc *time.Location) (time.Time, error) {
	layout := dayLayout
	if len(b.stamp) == periodHourLen {
		layout = hourLayout
	}
	return time.ParseInLocation(layout, b.stamp, loc)
}

// backupName is the base name of the backup of the live file base for stamp
// and index.
func backupName(base, stamp string, index int) string {
	if index == 0 {
		return base + "." + stamp
	}
	return base + "." + stamp + "." + strconv.Itoa(index)
}

// parseBackup reports whether name is a backup of the live file base and
// what it says. It accepts exactly the names backupName makes, with or
// without ".gz".
func parseBackup(base, name string) (backup, bool) {
	rest, ok := strings.CutPrefix(name, base+".")
	if !ok {
		return backup{}, false
	}
	b := backup{name: name}
	rest, b.gz = strings.CutSuffix(rest, compressExt)
	switch {
	case len(rest) >= periodHourLen && rest[periodDayLen] == '_':
		b.stamp, rest = rest[:periodHourLen], rest[periodHourLen:]
		if !validStamp(hourLayout, b.stamp) {
			return backup{}, false
		}
	case len(rest) >= periodDayLen:
		b.stamp, rest = rest[:periodDayLen], rest[periodDayLen:]
		if !validStamp(dayLayout, b.stamp) {
			return backup{}, false
		}
	default:
		return backup{}, false
	}
	if rest == "" {
		return b, true
	}
	digits, ok := strings.CutPrefix(rest, ".")
	if !ok || digits == "" || digits[0] == '0' || len(digits) > 10 {
		return backup{}, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return backup{}, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n > maxNameIndex {
		return backup{}, false
	}
	b.index = n
	return b, true
}

// validStamp reports whether s is exactly what layout formats.
func validStamp(layout, s string) bool {
	t, err := time.Parse(layout, s)
	return err == nil && t.Format(layout) == s
}

// scanBackups returns the backups of the live file base in dir, oldest first.
func scanBackups(dir, base string) ([]backup, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []backup
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if b, ok := parseBackup(base, e.Name()); ok {
			out = append(out, b)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].before(out[j]) })
	return out, nil
}

// Backups returns the paths of the rolled files of the live file filename,
// oldest first: ordered by period stamp, then by index (the plain name
// first), a compressed file right after an uncompressed one of the same name
// (which only exists while compression runs). Reading the returned files in
// order and then the live file gives the lines in the order they were
// written. Files removed by retention are, of course, not listed.
func Backups(filename string) ([]string, error) {
	if filename == "" {
		return nil, fmt.Errorf("rolling: empty filename")
	}
	dir, base := filepath.Split(filepath.Clean(filename))
	if dir == "" {
		dir = "."
	}
	bs, err := scanBackups(dir, base)
	if err != nil {
		return nil, fmt.Errorf("rolling: list backups of %q: %w", filename, err)
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = filepath.Join(dir, b.name)
	}
	return out, nil
}
