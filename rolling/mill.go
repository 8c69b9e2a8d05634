package rolling

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// signalMill asks the cleanup goroutine for a run; requests made while one
// is pending merge into it.
func (f *File) signalMill() {
	select {
	case f.millReq <- struct{}{}:
	default:
	}
}

// millLoop is the File's cleanup goroutine. It returns after Close, once a
// pending request has been served.
func (f *File) millLoop() {
	defer close(f.done)
	for {
		select {
		case <-f.millReq:
			f.report(f.millOnce())
		case <-f.stop:
			select {
			case <-f.millReq:
				f.report(f.millOnce())
			default:
			}
			return
		}
	}
}

// millOnce applies retention (age, then count) and compresses the backups
// kept.
func (f *File) millOnce() error {
	var cutoff time.Time
	if f.maxAge >= 0 {
		cutoff = retentionCutoff(f.clock(), f.loc, f.maxAge)
	}
	// New backups are stamped with the live file's period, which is not
	// before the cutoff of the run that followed the previous roll; so
	// without compression or a count limit a scan is needed only when
	// the cutoff has moved (at most once a day), not after every size roll.
	if !f.compress && f.maxBackups == 0 && cutoff.Equal(f.lastCutoff) {
		return nil
	}
	bs, err := scanBackups(f.dir, f.base)
	if err != nil {
		return fmt.Errorf("rolling: cleanup: %w", err)
	}
	f.lastCutoff = cutoff
	remove := make(map[string]bool) // by backup key
	if f.maxAge >= 0 {
		for _, b := range bs {
			if t, err := b.time(f.loc); err == nil && t.Before(cutoff) {
				remove[b.key()] = true
			}
		}
	}
	if f.maxBackups > 0 {
		kept := make(map[string]bool)
		for i := len(bs) - 1; i >= 0; i-- { // newest first
			k := bs[i].key()
			if remove[k] || kept[k] {
				continue
			}
			if len(kept) < f.maxBackups {
				kept[k] = true
			} else {
				remove[k] = true
			}
		}
	}
	var errs []error
	for _, b := range bs {
		path := filepath.Join(f.dir, b.name)
		switch {
		case remove[b.key()]:
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				errs = append(errs, fmt.Errorf("rolling: remove old backup: %w", err))
			}
		case f.compress && !b.gz:
			if err := compressFile(path); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// retentionCutoff is the start of day D-maxAge, D being now's day in loc:
// backups stamped before it are removed.
func retentionCutoff(now time.Time, loc *time.Location, maxAge int) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d-maxAge, 0, 0, 0, 0, loc)
}

// compressFile gzips src into src.gz (same mode) and removes src. A src.gz
// left by an interrupted earlier attempt is overwritten.
func compressFile(src string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		if os.IsNotExist(err) {
			return nil // removed meanwhile
		}
		return fmt.Errorf("rolling: compress: %w", err)
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return fmt.Errorf("rolling: compress: %w", err)
	}
	dst := src + compressExt
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return fmt.Errorf("rolling: compress: %w", err)
	}
	defer func() {
		if err != nil {
			_ = out.Close()
			_ = os.Remove(dst)
			err = fmt.Errorf("rolling: compress %q: %w", src, err)
		}
	}()
	gz := gzip.NewWriter(out)
	if _, err = io.Copy(gz, in); err != nil {
		return err
	}
	if err = gz.Close(); err != nil {
		return err
	}
	if err = out.Close(); err != nil {
		return err
	}
	_ = in.Close()
	if err := os.Remove(src); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("rolling: compress: remove %q: %w", src, err)
	}
	return nil
}
