package digestread

import (
	"context"
	"errors"
	"io"
	"os"
	"sync/atomic"
	"time"
)

// TailOffset returns the offset in r (of the given size) at which the last n lines start. It reads
// backwards from the end in 64 KiB chunks, so its cost depends on n and the line lengths, not on the
// size of the file. A last line without "\n" counts as a line. n <= 0 returns size.
func TailOffset(r io.ReaderAt, size int64, n int) (int64, error) {
	if n <= 0 || size <= 0 {
		return max(size, 0), nil
	}
	buf := make([]byte, chunkSize)
	end := size
	// A trailing "\n" ends the last line; it does not start one.
	var last [1]byte
	if _, err := r.ReadAt(last[:], size-1); err != nil {
		return 0, err
	}
	if last[0] == '\n' {
		end--
	}
	found := 0
	for end > 0 {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := r.ReadAt(chunk, start); err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := len(chunk) - 1; i >= 0; i-- {
			if chunk[i] == '\n' {
				found++
				if found == n {
					return start + int64(i) + 1, nil
				}
			}
		}
		end = start
	}
	return 0, nil
}

// FollowOptions configures a Follower. The zero value polls every 250 ms, accepts lines up to
// DefaultMaxLine bytes and starts with the whole of every file.
type FollowOptions struct {
	// Poll is the time between two looks at the files; 0 means 250 ms.
	Poll time.Duration
	// MaxLine is the longest line accepted; longer lines are skipped and counted. 0 means
	// DefaultMaxLine.
	MaxLine int
	// Last, when >= 0, starts each file that exists when following starts at its last Last lines
	// (0: at its end). When < 0 those files are read from their beginning. Files that appear later
	// (rotation, re-creation, new files in a followed directory) are always read from the beginning.
	Last int
	// Expand, when not nil, is called at every poll for every followed directory and returns the
	// files to follow in it. nil means the current (non-backup) digest files under the directory.
	Expand func(dir string) []string
}

// Follower follows files like `tail -F`: it reads what is appended, notices rotation (the path now
// names another file: renamed away and created again, or deleted and re-created) and truncation, and
// delivers every complete line once. On rotation it first reads the rest of the old file, then the new
// file from its start; on truncation it starts again from the beginning.
//
// Polling cannot see a truncation when the file grows back past the old offset between two polls;
// lines written to a renamed file after the new file appeared and was taken up are not read. Writers
// that rotate by rename + create and write whole lines (as tracemdc's rolling does) lose nothing.
type Follower struct {
	targets  []string
	opts     FollowOptions
	overlong atomic.Int64
	lines    atomic.Int64
}

// NewFollower returns a Follower of the given files and directories.
func NewFollower(opts FollowOptions, paths ...string) *Follower {
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Expand == nil {
		opts.Expand = func(dir string) []string {
			var out []string
			for _, df := range FindFiles(false, dir) {
				out = append(out, df.Path)
			}
			return out
		}
	}
	return &Follower{targets: paths, opts: opts}
}

// Overlong returns the number of lines skipped so far for being longer than the maximum. It is safe to
// call while Run runs.
func (fl *Follower) Overlong() int64 { return fl.overlong.Load() }

// Lines returns the number of lines delivered so far. It is safe to call while Run runs.
func (fl *Follower) Lines() int64 { return fl.lines.Load() }

// followed is one path being followed.
type followed struct {
	path string
	f    *os.File
	info os.FileInfo
	off  int64
	sp   splitter
}

// Run follows until ctx is done (call it once), calling fn (from Run's goroutine only) with the path and every line,
// without its line end; the slice is valid only during the call. It returns nil when ctx is done (all
// files closed), or the first error of fn. Files that cannot be read yet (not there, no permission)
// are tried again at every poll.
func (fl *Follower) Run(ctx context.Context, fn func(path string, line []byte) error) error {
	files := map[string]*followed{}
	var order []*followed
	defer func() {
		for _, w := range order {
			w.close()
		}
	}()
	buf := make([]byte, chunkSize)
	first := true
	ticker := time.NewTicker(fl.opts.Poll)
	defer ticker.Stop()
	for {
		for _, p := range fl.expand() {
			if files[p] == nil {
				w := &followed{path: p, sp: newSplitter(fl.opts.MaxLine)}
				files[p] = w
				order = append(order, w)
				if first && fl.opts.Last >= 0 {
					w.off = -1 // resolved at the first open
				}
			}
		}
		for _, w := range order {
			emit := func(line []byte) error {
				fl.lines.Add(1)
				return fn(w.path, line)
			}
			err := w.poll(buf, fl.opts.Last, emit)
			fl.overlong.Add(w.sp.overlong)
			w.sp.overlong = 0
			if err != nil {
				return err
			}
			if w.f == nil && w.off < 0 {
				w.off = 0 // absent at the start: read it from its beginning when it appears
			}
		}
		first = false
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

func (fl *Follower) expand() []string {
	var out []string
	for _, p := range fl.targets {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			out = append(out, fl.opts.Expand(p)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

func (w *followed) close() {
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// open opens the path; off < 0 asks for the start of the last `last` lines.
func (w *followed) open(last int) error {
	f, err := os.Open(w.path)
	if err != nil {
		return err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if w.off < 0 {
		off, err := TailOffset(f, info.Size(), last)
		if err != nil {
			f.Close()
			return err
		}
		w.off = off
	} else {
		w.off = 0
	}
	w.f, w.info = f, info
	w.sp.reset()
	return nil
}

// read reads from the offset to the end of the file.
func (w *followed) read(buf []byte, emit func([]byte) error) error {
	for {
		n, err := w.f.ReadAt(buf, w.off)
		if n > 0 {
			w.off += int64(n)
			if ferr := w.sp.feed(buf[:n], emit); ferr != nil {
				return ferr
			}
		}
		if err != nil || n == 0 {
			return nil // io.EOF, or a read error: try again at the next poll
		}
	}
}

func (w *followed) poll(buf []byte, last int, emit func([]byte) error) error {
	if w.f == nil {
		if err := w.open(last); err != nil {
			return nil // not there (yet), or not readable: try again at the next poll
		}
	}
	if err := w.read(buf, emit); err != nil {
		return err
	}
	// Truncated: the file is now shorter than what we read.
	if st, err := w.f.Stat(); err == nil && st.Size() < w.off {
		w.off = 0
		w.sp.reset()
		if err := w.read(buf, emit); err != nil {
			return err
		}
	}
	// Rotated: the path names another file. Finish the old one, then start the new one.
	st, err := os.Stat(w.path)
	if err != nil || os.SameFile(st, w.info) {
		return nil
	}
	if err := w.read(buf, emit); err != nil {
		return err
	}
	if err := w.sp.flush(emit); err != nil {
		return err
	}
	w.close()
	w.off = 0
	if err := w.open(last); err != nil {
		return nil // gone again: retry at the next poll
	}
	return w.read(buf, emit)
}
