package digestread

import (
	"bytes"
	"errors"
	"io"
)

// DefaultMaxLine is the default longest line, in bytes, that readers accept; longer lines are skipped
// and counted, never buffered whole.
const DefaultMaxLine = 1 << 20

const chunkSize = 64 << 10

// splitter cuts a byte stream into lines. A line longer than max is dropped and counted without being
// buffered: only its first max bytes are ever held. The pending buffer never grows past max bytes.
type splitter struct {
	max      int
	pending  []byte
	skipping bool  // inside an overlong line, dropping bytes up to the next '\n'
	overlong int64 // lines dropped for length
}

func newSplitter(max int) splitter {
	if max <= 0 {
		max = DefaultMaxLine
	}
	return splitter{max: max}
}

// hold appends p to the pending partial line, or starts skipping when that would exceed max.
func (s *splitter) hold(p []byte) {
	if s.skipping {
		return
	}
	if len(s.pending)+len(p) > s.max {
		s.pending = s.pending[:0]
		s.skipping = true
		s.overlong++
		return
	}
	if need := len(s.pending) + len(p); need > cap(s.pending) {
		c := max(2*cap(s.pending), need, 256)
		c = min(c, s.max)
		grown := make([]byte, len(s.pending), c)
		copy(grown, s.pending)
		s.pending = grown
	}
	s.pending = append(s.pending, p...)
}

// feed splits p, calling emit for every completed line (without "\n" or "\r\n"). The slice passed to
// emit is valid only during the call. A partial line at the end of p waits for the next feed.
func (s *splitter) feed(p []byte, emit func([]byte) error) error {
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.hold(p)
			return nil
		}
		seg := p[:i]
		p = p[i+1:]
		if s.skipping {
			s.skipping = false
			continue
		}
		line := seg
		if len(s.pending) > 0 {
			s.hold(seg)
			if s.skipping { // the completed line is too long
				s.skipping = false
				continue
			}
			line = s.pending
		} else if len(seg) > s.max {
			s.overlong++
			continue
		}
		err := emit(bytes.TrimSuffix(line, []byte{'\r'}))
		s.pending = s.pending[:0]
		if err != nil {
			return err
		}
	}
	return nil
}

// flush emits the pending partial line, if any, as a last line, and resets the splitter.
func (s *splitter) flush(emit func([]byte) error) error {
	if s.skipping {
		s.skipping = false
		return nil
	}
	if len(s.pending) == 0 {
		return nil
	}
	line := bytes.TrimSuffix(s.pending, []byte{'\r'})
	s.pending = s.pending[:0]
	return emit(line)
}

// reset drops the pending partial line.
func (s *splitter) reset() {
	s.pending = s.pending[:0]
	s.skipping = false
}

// ScanLines reads r to its end and calls fn for every line (without its line end; a last line without
// "\n" counts). Lines longer than maxLine bytes (0 means DefaultMaxLine) are skipped without being
// buffered; their number is returned. Memory stays bounded by a 64 KiB read buffer plus maxLine. The
// slice passed to fn is valid only during the call; an error from fn stops the scan and is returned.
func ScanLines(r io.Reader, maxLine int, fn func(line []byte) error) (overlong int64, err error) {
	s := newSplitter(maxLine)
	buf := make([]byte, chunkSize)
	for {
		n, rerr := r.Read(buf)
		if n > 0 {
			if err := s.feed(buf[:n], fn); err != nil {
				return s.overlong, err
			}
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				return s.overlong, rerr
			}
			return s.overlong, s.flush(fn)
		}
	}
}
