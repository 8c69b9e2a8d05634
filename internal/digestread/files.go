package digestread

import (
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// DigestFile describes a digest log file by its path.
type DigestFile struct {
	Path    string
	LogType string // "spring-mvc" for spring-mvc-digest.log
	Shadow  bool   // in a shadow/ directory: load-test spans
	Backup  bool   // a rolled backup, not the file being written
	Gzip    bool   // name ends in .gz
}

// ParseDigestPath tells whether path names a digest log and what it holds. It accepts the current file
// <type>-digest.log and its rolled backups: <type>-digest.log.<suffix> (daily 2024-05-01, hourly
// 2024-05-01_13, or a size index), <type>-digest-<stamp>.log (lumberjack style), each possibly
// followed by .gz. Stat logs (<type>-stat.log) are not digest logs.
func ParseDigestPath(path string) (DigestFile, bool) {
	base := filepath.Base(path)
	df := DigestFile{Path: path}
	if b, ok := strings.CutSuffix(base, ".gz"); ok {
		base, df.Gzip = b, true
	}
	i := strings.LastIndex(base, "-digest")
	if i <= 0 {
		return df, false
	}
	df.LogType, base = base[:i], base[i+len("-digest"):]
	switch {
	case base == ".log":
		df.Backup = df.Gzip
	case strings.HasPrefix(base, ".log."):
		df.Backup = true
	case strings.HasPrefix(base, "-") && strings.HasSuffix(base, ".log"):
		df.Backup = true
	default:
		return df, false
	}
	dir := filepath.Dir(path)
	df.Shadow = filepath.Base(dir) == "shadow"
	return df, true
}

// FindFiles returns the digest files named by paths, in a stable order: a file is taken as it is
// (whatever its name); a directory is walked recursively for digest files, backups included only when
// backups is true. Paths that do not exist are skipped; use os.Stat first to report them.
func FindFiles(backups bool, paths ...string) []DigestFile {
	var out []DigestFile
	seen := map[string]bool{}
	add := func(df DigestFile) {
		if !seen[df.Path] {
			seen[df.Path] = true
			out = append(out, df)
		}
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		if !st.IsDir() {
			df, ok := ParseDigestPath(p)
			if !ok {
				df = DigestFile{Path: p, Gzip: strings.HasSuffix(p, ".gz")}
			}
			add(df)
			continue
		}
		var found []DigestFile
		_ = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if df, ok := ParseDigestPath(path); ok && (backups || !df.Backup) {
				found = append(found, df)
			}
			return nil
		})
		slices.SortFunc(found, func(a, b DigestFile) int { return strings.Compare(a.Path, b.Path) })
		for _, df := range found {
			add(df)
		}
	}
	return out
}

// Open opens a digest file for reading, decompressing it when its name ends in .gz. Close the result.
// Errors name the file.
func (df DigestFile) Open() (io.ReadCloser, error) {
	f, err := os.Open(df.Path)
	if err != nil || !df.Gzip {
		return f, err
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", df.Path, err)
	}
	return gzipFile{zr, f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g gzipFile) Close() error {
	err := g.Reader.Close()
	if ferr := g.f.Close(); err == nil {
		err = ferr
	}
	return err
}
