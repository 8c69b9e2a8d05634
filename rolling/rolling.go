package rolling

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Period says when a File rolls by time.
type Period int

const (
	// SizeOnly rolls by size only (if MaxSizeMB is set), never by time. It
	// is the zero value. Backups are stamped with the day of the rotation.
	SizeOnly Period = iota
	// Daily rolls on the first write after local midnight; backups are
	// named name.log.2006-01-02. This is SOFATracer's default.
	Daily
	// Hourly rolls on the first write after each local full hour; backups
	// are named name.log.2006-01-02_15.
	Hourly
)

// String returns "size-only", "daily" or "hourly".
func (p Period) String() string {
	switch p {
	case SizeOnly:
		return "size-only"
	case Daily:
		return "daily"
	case Hourly:
		return "hourly"
	}
	return fmt.Sprintf("Period(%d)", int(p))
}

const (
	// DefaultMaxAgeDays is the retention used when Config.MaxAgeDays is 0,
	// SOFATracer's default of 7 days.
	DefaultMaxAgeDays = 7

	// DefaultFileMode is the permission of a newly created live file when
	// Config.FileMode is 0 (before the process umask is applied).
	DefaultFileMode os.FileMode = 0o644

	// CheckInterval is how often, in Clock time, a File checks that its
	// live file still exists under its name: at most once per interval, on
	// the first Write (or RollIfDue) after it. Writes made between an
	// operator deleting the file and the next check go to the deleted file
	// and are lost with it; the check after re-creates the file.
	CheckInterval = time.Second

	// dirMode is the permission of directories New creates (before umask).
	dirMode os.FileMode = 0o755

	// ljMaxSizeMB switches lumberjack's own size rotation (and its refusal
	// of writes larger than MaxSize) off: 2^31 MB is 2 PiB.
	ljMaxSizeMB = math.MaxInt32

	// megabyte is the unit of Config.MaxSizeMB.
	megabyte = 1 << 20
)

// ErrClosed is returned by Write, Rotate and RollIfDue after Close.
// errors.Is(ErrClosed, os.ErrClosed) holds.
var ErrClosed = fmt.Errorf("rolling: %w", os.ErrClosed)

// Config configures a File. Only Filename is required.
type Config struct {
	// Filename is the live file's path. Backups are kept in the same
	// directory. Missing directories are created (mode 0755 before umask).
	Filename string

	// MaxSizeMB is the size in megabytes (2^20 bytes) a live file may reach
	// before it is rolled. 0 means no rolling by size. A Write that would
	// take a non-empty live file past the limit first rolls it, so every
	// Write lands whole in one file; a single Write larger than the limit
	// is written whole into a fresh file of its own.
	MaxSizeMB int

	// Rolling is the time rolling: SizeOnly (the zero value), Daily or Hourly.
	// Time rolling happens on the first Write after a period boundary, or
	// on RollIfDue.
	Rolling Period

	// Location is the time zone of period boundaries, of the stamps in
	// backup names and of retention days. nil means time.Local.
	Location *time.Location

	// MaxAgeDays is the retention in calendar days of Location: on day D,
	// backups whose stamp is before day D-MaxAgeDays are removed, so
	// MaxAgeDays full days are kept besides today. 0 means
	// DefaultMaxAgeDays (7); a negative value keeps backups forever.
	// Retention runs after every roll and when the File is made; the stamp
	// in the name counts, not the file's modification time.
	MaxAgeDays int

	// MaxBackups is the most backups kept (a backup and its compressed
	// form count once); the oldest are removed first. 0 means no limit.
	MaxBackups int

	// Compress gzips backups (adding ".gz") after they are rolled. The
	// live file is never compressed.
	Compress bool

	// FileMode is the permission a newly created live file gets, subject
	// to the process umask. 0 means DefaultFileMode (0644). An existing file
	// keeps its mode; a backup keeps the mode of the live file it was.
	FileMode os.FileMode

	// Clock returns the current time; nil means time.Now. It decides
	// period boundaries, backup stamps, retention and the CheckInterval,
	// and is called from the writing goroutines and from the File's own
	// cleanup goroutine, so it must be safe for concurrent use. Meant for
	// tests.
	Clock func() time.Time

	// OnError, if set, receives the errors that do not belong to a single
	// Write: a failed roll (the Write still goes to the current file, which
	// then grows past MaxSizeMB), a failed compression or removal of an old
	// backup. It is called without the File's lock held, from a writing
	// goroutine or from the cleanup goroutine; it must not block for long.
	OnError func(error)
}

// File is a rotating log file: an io.WriteCloser that rolls by size and by
// day or hour, keeps backups for a number of days or up to a count, and can
// compress them. Each Write lands whole in exactly one file. A File is safe
// for concurrent use; writes are serialized.
//
// A File holds one lumberjack.Logger for its whole life, and lumberjack
// v2.2.1 starts a goroutine for it that is never stopped, not even by
// Close (see the package documentation): one parked goroutine per File, never
// one per roll or per reopen.
type File struct {
	lj         *lumberjack.Logger
	name       string // cleaned Filename
	claim      string // the key of name in inUse
	dir, base  string
	mode       os.FileMode
	loc        *time.Location
	clock      func() time.Time
	onError    func(error)
	maxBytes   int64 // 0: no size rolling
	period     Period
	maxAge     int // days; < 0: forever
	maxBackups int
	compress   bool

	mu          sync.Mutex
	closed      bool
	open        bool        // lj holds the live file
	size        int64       // bytes in the live file
	ident       os.FileInfo // the live file lj holds, for os.SameFile
	periodStart time.Time   // start of the period the live file's lines belong to
	next        time.Time   // next period boundary (Daily, Hourly)
	nextCheck   time.Time   // next check that the live file still exists
	due         time.Time   // the earlier of next and nextCheck
	idxStamp    string      // stamp idxMax belongs to
	idxMax      int         // highest backup index used or seen for idxStamp

	lastCutoff time.Time // retention cutoff of the last scan; cleanup goroutine only

	millReq chan struct{} // wakes the cleanup goroutine (capacity 1)
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the cleanup goroutine returns
}

var _ io.WriteCloser = (*File)(nil)

// New makes a File, creating missing directories and opening (or creating)
// the live file, so an unwritable path is reported here. If time rolling is
// on and the live file was last modified in an earlier period, it is rolled
// first. Retention and compression of existing backups start in the
// background.
func New(cfg Config) (*File, error) {
	return newFile(cfg, megabyte)
}

// newFile is New with the unit of MaxSizeMB given (tests use small units).
func newFile(cfg Config, unit int64) (*File, error) {
	if cfg.Filename == "" {
		return nil, errors.New("rolling: Config.Filename is empty")
	}
	if cfg.MaxSizeMB < 0 || int64(cfg.MaxSizeMB) > math.MaxInt64/unit {
		return nil, fmt.Errorf("rolling: Config.MaxSizeMB %d out of range", cfg.MaxSizeMB)
	}
	if cfg.Rolling < SizeOnly || cfg.Rolling > Hourly {
		return nil, fmt.Errorf("rolling: unknown Config.Rolling %v", cfg.Rolling)
	}
	if cfg.MaxBackups < 0 {
		return nil, fmt.Errorf("rolling: negative Config.MaxBackups %d", cfg.MaxBackups)
	}
	if cfg.FileMode&^os.ModePerm != 0 {
		return nil, fmt.Errorf("rolling: Config.FileMode %v has more than permission bits", cfg.FileMode)
	}
	name := filepath.Clean(cfg.Filename)
	claim, err := claimName(name)
	if err != nil {
		return nil, fmt.Errorf("rolling: %q: %w", name, err)
	}
	f, err := openFile(cfg, unit, name)
	if err != nil {
		releaseName(claim)
		return nil, err
	}
	f.claim = claim
	return f, nil
}

// openFile is newFile once cfg is checked and name claimed.
func openFile(cfg Config, unit int64, name string) (*File, error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	f := &File{
		name:       name,
		dir:        dir,
		base:       base,
		mode:       cfg.FileMode,
		loc:        cfg.Location,
		clock:      cfg.Clock,
		onError:    cfg.OnError,
		maxBytes:   int64(cfg.MaxSizeMB) * unit,
		period:     cfg.Rolling,
		maxAge:     cfg.MaxAgeDays,
		maxBackups: cfg.MaxBackups,
		compress:   cfg.Compress,
		idxMax:     -1,
		millReq:    make(chan struct{}, 1),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
	}
	if f.mode == 0 {
		f.mode = DefaultFileMode
	}
	if f.loc == nil {
		f.loc = time.Local
	}
	if f.clock == nil {
		f.clock = time.Now
	}
	if f.maxAge == 0 {
		f.maxAge = DefaultMaxAgeDays
	}
	f.lj = &lumberjack.Logger{Filename: name, MaxSize: ljMaxSizeMB}

	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, fmt.Errorf("rolling: cannot create directory for %q: %w", name, err)
	}
	now := f.clock()
	f.setPeriod(now)
	if f.period != SizeOnly {
		// A live file left from an earlier period is that period's backup.
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
			if ps, _ := f.bounds(fi.ModTime()); ps.Before(f.periodStart) {
				if err := f.moveAside(f.stamp(ps)); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := f.openLive(now); err != nil {
		_ = f.lj.Close()
		return nil, err
	}
	go f.millLoop()
	f.signalMill()
	return f, nil
}

// Name returns the path of the live file.
func (f *File) Name() string { return f.name }

// Write writes p whole to the live file, after rolling it if a period
// boundary has passed or if p would take it past MaxSizeMB. It implements
// io.Writer: n < len(p) only with a non-nil error. A failed roll does not
// fail the Write (p goes to the current file); it is passed to
// Config.OnError.
//
// A Write that fails part way (a full disk: ENOSPC after some bytes) never
// leaves a torn line: the bytes it wrote after the last line end ('\n') of
// p are taken back (the file is truncated to end at that line end), so the
// file holds whole lines only and n is the bytes of the whole lines written,
// 0 when p has no line end before the failure. A caller can write the rest,
// p[n:], again later. Only if that truncation fails too does n count a
// partial line.
func (f *File) Write(p []byte) (int, error) {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return 0, ErrClosed
	}
	var rollErr error
	now := f.clock()
	if !now.Before(f.due) {
		_, rollErr = f.maintain(now, false)
	}
	if f.maxBytes > 0 && f.size > 0 && f.size+int64(len(p)) > f.maxBytes {
		rollErr = errors.Join(rollErr, f.roll(now, f.sizeStamp(now)))
	}
	if !f.open {
		if err := f.openLive(now); err != nil {
			f.mu.Unlock()
			f.report(rollErr)
			return 0, err
		}
	}
	n, err := f.lj.Write(p)
	if err != nil && n > 0 {
		n = f.takeBackTorn(p, n)
	}
	f.size += int64(n)
	f.mu.Unlock()
	f.report(rollErr)
	return n, err
}

// takeBackTorn is called after a Write of p failed after n bytes: it truncates the live file so that
// it ends at the last line end of p[:n] (or where p began), and returns the bytes of p that stay. If
// the file is not the one this File wrote (replaced under its name) or cannot be truncated, n stays.
// f.mu is held.
func (f *File) takeBackTorn(p []byte, n int) int {
	keep := bytes.LastIndexByte(p[:n], '\n') + 1
	if keep == n {
		return n
	}
	fi, err := os.Stat(f.name)
	if err != nil || !os.SameFile(fi, f.ident) || fi.Size() < int64(n-keep) {
		return n
	}
	// The file is opened O_APPEND: the next write goes to the new end.
	if err := os.Truncate(f.name, fi.Size()-int64(n-keep)); err != nil {
		return n
	}
	return keep
}

// Rotate moves the live file aside as the next backup of the current period
// and opens a new, empty live file, as a size roll would. An empty live file
// is not moved (no empty backups) but reopened, and re-created if it was
// removed, so Rotate also serves as "reopen" after an outside log rotation.
func (f *File) Rotate() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return ErrClosed
	}
	now := f.clock()
	if f.size == 0 {
		return f.openLive(now)
	}
	return f.roll(now, f.sizeStamp(now))
}

// RollIfDue rolls the live file if a period boundary has passed since it
// was opened, without waiting for the next Write (a timer may call it just
// after midnight so the day's file is complete on time). It also checks, at
// once, that the live file still exists and re-creates it if not. It
// reports whether a backup was made.
func (f *File) RollIfDue() (rolled bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false, ErrClosed
	}
	return f.maintain(f.clock(), true)
}

// Close closes the live file and waits for the cleanup goroutine to finish
// pending compression and retention. Later calls return nil; Write, Rotate
// and RollIfDue return ErrClosed. lumberjack's goroutine is not stopped (see
// File).
func (f *File) Close() error {
	f.mu.Lock()
	if f.closed {
		f.mu.Unlock()
		return nil
	}
	f.closed = true
	f.open = false
	err := f.lj.Close()
	f.mu.Unlock()
	close(f.stop)
	<-f.done
	releaseName(f.claim)
	if err != nil {
		return fmt.Errorf("rolling: close %q: %w", f.name, err)
	}
	return nil
}

// maintain does what is due at now: a time roll, or else the check that the
// live file still exists (always if force). f.mu is held.
func (f *File) maintain(now time.Time, force bool) (rolled bool, err error) {
	if f.period != SizeOnly && !now.Before(f.next) {
		old := f.periodStart
		f.setPeriod(now)
		if f.size > 0 {
			err = f.roll(now, f.stamp(old))
			rolled = err == nil
			force = false // roll reopened the live file
		}
	}
	if force || !now.Before(f.nextCheck) {
		err = errors.Join(err, f.checkLive(now))
	}
	f.setDue()
	return rolled, err
}

// checkLive reopens the live file if its name no longer leads to the file
// lumberjack holds (deleted, or moved away and replaced). f.mu is held.
func (f *File) checkLive(now time.Time) error {
	f.nextCheck = now.Add(CheckInterval)
	f.setDue()
	if !f.open {
		return f.openLive(now)
	}
	fi, err := os.Stat(f.name)
	switch {
	case err == nil && os.SameFile(fi, f.ident):
		f.size = fi.Size() // follows an outside truncation
		return nil
	case err != nil && !os.IsNotExist(err):
		return fmt.Errorf("rolling: check live file: %w", err)
	}
	return f.openLive(now)
}

// roll closes the live file, renames it to the next backup name for stamp
// and opens a new live file. f.mu is held.
func (f *File) roll(now time.Time, stamp string) error {
	f.open = false
	err := f.lj.Close()
	if err != nil {
		err = fmt.Errorf("rolling: close %q: %w", f.name, err)
	}
	err = errors.Join(err, f.moveAside(stamp))
	err = errors.Join(err, f.openLive(now))
	f.signalMill()
	return err
}

// moveAside renames the live file to the next free backup name for stamp.
// A live file that no longer exists is not an error. f.mu is held (or f is
// not yet shared).
func (f *File) moveAside(stamp string) error {
	to, err := f.nextBackup(stamp)
	if err != nil {
		return err
	}
	if err := os.Rename(f.name, filepath.Join(f.dir, to)); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rolling: roll: %w", err)
	}
	return nil
}

// nextBackup returns a backup name for stamp with an index above every
// index used or found for stamp, that exists neither plain nor compressed.
func (f *File) nextBackup(stamp string) (string, error) {
	if stamp != f.idxStamp {
		bs, err := scanBackups(f.dir, f.base)
		if err != nil {
			return "", fmt.Errorf("rolling: roll: %w", err)
		}
		f.idxStamp, f.idxMax = stamp, -1
		for _, b := range bs {
			if b.stamp == stamp && b.index > f.idxMax {
				f.idxMax = b.index
			}
		}
	}
	for i := f.idxMax + 1; i <= maxNameIndex; i++ {
		name := backupName(f.base, stamp, i)
		taken, err := exists(filepath.Join(f.dir, name))
		if err == nil && !taken {
			taken, err = exists(filepath.Join(f.dir, name+compressExt))
		}
		if err != nil {
			return "", fmt.Errorf("rolling: roll: %w", err)
		}
		if !taken {
			f.idxMax = i
			return name, nil
		}
	}
	return "", fmt.Errorf("rolling: roll: no free backup name for %s.%s", f.base, stamp)
}

func exists(path string) (bool, error) {
	_, err := os.Lstat(path)
	if err == nil {
		return true, nil
	}
	if os.IsNotExist(err) {
		return false, nil
	}
	return false, err
}

// openLive (re)opens the live file: creates it with f.mode if missing,
// remembers its identity and size, and has lumberjack open it (it appends
// to the existing file). f.mu is held (or f is not yet shared).
func (f *File) openLive(now time.Time) error {
	f.open = false
	f.nextCheck = now.Add(CheckInterval)
	f.setDue()
	// Usually already closed by roll; otherwise this drops the descriptor of
	// a file whose name is gone, and there is nothing to do about an error.
	_ = f.lj.Close()
	if err := os.MkdirAll(f.dir, dirMode); err != nil {
		return fmt.Errorf("rolling: cannot create directory for %q: %w", f.name, err)
	}
	fd, err := os.OpenFile(f.name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, f.mode)
	if err != nil {
		return fmt.Errorf("rolling: cannot open log file: %w", err)
	}
	fi, err := fd.Stat()
	_ = fd.Close()
	if err != nil {
		return fmt.Errorf("rolling: cannot open log file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("rolling: %q is not a regular file", f.name)
	}
	// lumberjack stats the name, finds the file and opens it O_APPEND.
	if _, err := f.lj.Write(nil); err != nil {
		return fmt.Errorf("rolling: cannot open log file %q: %w", f.name, err)
	}
	f.ident, f.size, f.open = fi, fi.Size(), true
	return nil
}

// bounds returns the start of t's period and the next boundary, in f.loc.
// For SizeOnly it returns the start of t's day and no boundary.
func (f *File) bounds(t time.Time) (start, next time.Time) {
	lt := t.In(f.loc)
	if f.period == Hourly {
		start = lt.Add(-(time.Duration(lt.Minute())*time.Minute +
			time.Duration(lt.Second())*time.Second +
			time.Duration(lt.Nanosecond()))).Round(0)
		return start, start.Add(time.Hour)
	}
	y, m, d := lt.Date()
	start = time.Date(y, m, d, 0, 0, 0, 0, f.loc)
	if f.period == SizeOnly {
		return start, time.Time{}
	}
	return start, time.Date(y, m, d+1, 0, 0, 0, 0, f.loc)
}

// setPeriod makes now's period the live file's period. f.mu is held.
func (f *File) setPeriod(now time.Time) {
	f.periodStart, f.next = f.bounds(now)
	f.setDue()
}

func (f *File) setDue() {
	f.due = f.nextCheck
	if f.period != SizeOnly && f.next.Before(f.due) {
		f.due = f.next
	}
}

// stamp formats a period start for a backup name.
func (f *File) stamp(periodStart time.Time) string {
	if f.period == Hourly {
		return periodStart.In(f.loc).Format(hourLayout)
	}
	return periodStart.In(f.loc).Format(dayLayout)
}

// sizeStamp is the stamp of a size roll (or Rotate) at now: the live file's
// period, or with SizeOnly the day of now.
func (f *File) sizeStamp(now time.Time) string {
	if f.period == SizeOnly {
		return now.In(f.loc).Format(dayLayout)
	}
	return f.stamp(f.periodStart)
}

func (f *File) report(err error) {
	if err != nil && f.onError != nil {
		f.onError(err)
	}
}
