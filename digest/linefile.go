package digest

import (
	"bytes"
	"io"
)

// lineFile is a log file written in whole lines, with what a failed write leaves over: the digest
// files, the stat files and tracer-self.log each have one. Lines are appended to buf (lines counts
// them) and flush writes buf with one Write. A failed write keeps what it did not write, to be
// written first next time, up to max bytes; beyond that the kept lines are dropped, and counted.
//
// The file holds whole lines only: a rolling.File takes back the bytes of a line a failed Write cut
// (see rolling.File.Write), so a failure leaves buf starting at a line. Should a file not take them
// back (a destination other than rolling.File, or a truncation that failed), the rest of the cut line
// is kept first (torn) and never dropped, so the line is completed before any other is written.
//
// A lineFile is used by one goroutine at a time (its owner's lock or goroutine).
type lineFile struct {
	name  string                         // the path under the tracelog directory, for messages
	open  func() (io.WriteCloser, error) // opens w on first use and after a failed open
	w     io.WriteCloser                 // nil until opened
	buf   []byte                         // lines waiting to be written
	lines uint64                         // lines in buf, a torn rest counting as one
	torn  bool                           // buf starts with the rest of a line the file holds the head of
	max   int                            // most bytes kept after a failure
	fails uint64                         // failed opens and writes since the file last worked
	lost  uint64                         // lines dropped since the start
}

// flushResult is what one flush did.
type flushResult struct {
	written   uint64 // lines now whole in the file
	dropped   uint64 // lines given up: buf held more than max bytes after a failure
	err       error  // the failed open or write; nil if everything was written
	recovered uint64 // on success after failures: how many opens and writes had failed
}

// flush writes buf. On failure the unwritten rest stays in buf, up to max bytes: past it, every
// line but a torn rest is dropped.
func (f *lineFile) flush() flushResult {
	if len(f.buf) == 0 {
		return flushResult{}
	}
	var res flushResult
	if f.w == nil {
		w, err := f.open()
		if err != nil {
			res.err = err
			f.failed(0, &res)
			return res
		}
		f.w = w
	}
	n, err := f.w.Write(f.buf)
	if err == nil && n != len(f.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		res.err = err
		f.failed(max(0, min(n, len(f.buf))), &res)
		return res
	}
	res.written = f.lines
	f.buf, f.lines, f.torn = f.buf[:0], 0, false
	if f.fails > 0 {
		res.recovered, f.fails = f.fails, 0
	}
	return res
}

// failed keeps what a failed write of buf did not write, after n bytes were written.
func (f *lineFile) failed(n int, res *flushResult) {
	f.fails++
	whole := bytes.LastIndexByte(f.buf[:n], '\n') + 1 // bytes of lines whose end was written
	done := uint64(bytes.Count(f.buf[:whole], []byte{'\n'}))
	res.written = done
	f.lines -= done
	if whole > 0 {
		f.torn = false // a torn rest at the start ended within what was written
	}
	if n > whole {
		f.torn = true // the file holds the head of the line at whole: its rest is written first
	}
	if n > 0 {
		rest := copy(f.buf, f.buf[n:])
		f.buf = f.buf[:rest]
	}
	if len(f.buf) <= f.max {
		return
	}
	keep := 0
	if f.torn {
		keep = bytes.IndexByte(f.buf, '\n') + 1
	}
	drop := f.lines
	if keep > 0 {
		drop--
	}
	f.buf = f.buf[:keep]
	f.lines -= drop
	f.lost += drop
	res.dropped = drop
}

// close closes the file; the lines still in buf are dropped and returned (counted in lost).
func (f *lineFile) close() (dropped uint64, err error) {
	dropped = f.lines
	f.lost += dropped
	f.buf, f.lines, f.torn = nil, 0, false
	if f.w != nil {
		err = f.w.Close()
		f.w = nil
	}
	return dropped, err
}
