package asyncwriter

import (
	"errors"
	"io"
	"sort"
	"sync"
	"sync/atomic"
)

// errBadCount reports a destination that returned a byte count outside [0, len(p)].
var errBadCount = errors.New("asyncwriter: destination returned an invalid byte count")

// line is a Writer's ring item: buf is the slot's own bytes, data the line to write (buf[:n], or
// a heap copy for a line longer than the slot).
type line struct {
	buf  []byte
	data []byte
}

// Writer is an io.Writer that takes lines off the caller's path: Write copies one whole line into
// a ring slot and returns; a consumer goroutine gathers every waiting line into one Write on the
// destination. Lines are never split or merged with another caller's bytes: each Write must be
// exactly one line (or record). Write errors of the destination are counted and reported through
// the error callback, never kept: the next batch is written as soon as the destination works
// again. All methods are safe for concurrent use.
type Writer struct {
	ring *Ring[line]
	dst  io.Writer
	cfg  config

	// consumer only (and Close, after the consumer has exited)
	batch    []byte
	ends     []int // end offset in batch of each line
	carry    bool  // batch starts with the unwritten rest of a line partly written before
	batchCap int

	written     atomic.Uint64
	failed      atomic.Uint64
	writeErrors atomic.Uint64
	panics      atomic.Uint64
	bytes       atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

type writerHandler struct{ w *Writer }

func (h writerHandler) OnEvent(l *line, _ int64, endOfBatch bool) { h.w.onLine(l, endOfBatch) }

// NewWriter starts a Writer in front of dst. Options: WithCapacity, WithPolicy, WithWaitStrategy,
// WithSlotSize, WithMaxBatchBytes, WithCloseDestination, WithErrorFunc, WithLineDiscardFunc,
// WithReportInterval. The ring's memory (capacity × slot size bytes) is allocated here. Close must
// be called to stop the consumer goroutine.
func NewWriter(dst io.Writer, opts ...Option) (*Writer, error) {
	if dst == nil {
		return nil, errors.New("asyncwriter: nil destination")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.onDiscard != nil {
		return nil, errors.New("asyncwriter: WithDiscardFunc is for a Ring; use WithLineDiscardFunc with a Writer")
	}
	w := &Writer{dst: dst, cfg: cfg}
	w.ring = newRing[line](writerHandler{w}, cfg)
	arena := make([]byte, cfg.capacity*cfg.slotSize)
	for i := range w.ring.slots {
		w.ring.slots[i].ev.buf = arena[i*cfg.slotSize : (i+1)*cfg.slotSize : (i+1)*cfg.slotSize]
	}
	w.batchCap = min(cfg.maxBatchBytes, cfg.capacity*cfg.slotSize)
	w.batch = make([]byte, 0, w.batchCap)
	w.ends = make([]int, 0, cfg.capacity+1)
	w.ring.start()
	return w, nil
}

// Write queues p, which must be one whole line (or record), and returns len(p), nil. p is copied:
// the caller may reuse it at once. When the ring is full, a Block writer waits for a slot and a
// Discard writer returns 0, ErrFull (the line is counted in Stats.Discarded and reported to the
// discard callback). After Close it returns 0, ErrClosed. An empty p is a no-op.
func (w *Writer) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var s int64
	var err error
	if w.cfg.policy == Discard {
		s, err = w.ring.tryClaim()
	} else {
		s, err = w.ring.claim()
	}
	if err != nil {
		if err == ErrFull {
			w.drop(p)
		}
		return 0, err
	}
	l := &w.ring.slots[s&w.ring.mask].ev
	if len(p) <= len(l.buf) {
		l.data = l.buf[:copy(l.buf, p)]
	} else {
		l.data = append([]byte(nil), p...)
	}
	w.ring.commit(s)
	return len(p), nil
}

func (w *Writer) drop(p []byte) {
	r := w.ring
	total := r.discarded.Add(1)
	if w.cfg.onLineDiscard != nil && r.discardRep.allow() {
		r.discardRep.reported.Store(total)
		w.cfg.onLineDiscard(p, total)
	}
}

// onLine runs on the consumer goroutine for every line.
func (w *Writer) onLine(l *line, endOfBatch bool) {
	d := l.data
	if len(w.batch) > 0 && len(w.batch)+len(d) > w.cfg.maxBatchBytes {
		w.writeBatch()
	}
	w.batch = append(w.batch, d...)
	w.ends = append(w.ends, len(w.batch))
	if len(d) > len(l.buf) {
		l.data = nil // let the heap copy go (a slot's own bytes are left as they are)
	}
	if endOfBatch {
		w.writeBatch()
	}
}

// writeBatch writes the gathered lines with one Write (more if the destination writes short),
// counts them, and empties the batch. A line partly written before an error is kept, so that its
// rest is written first next time and the destination never holds a torn line if it recovers.
func (w *Writer) writeBatch() {
	b := w.batch
	if len(b) == 0 {
		return
	}
	off := 0
	var err error
	for off < len(b) {
		n, e := w.write(b[off:])
		if n < 0 || n > len(b)-off {
			n = 0
			if e == nil {
				e = errBadCount
			}
		}
		off += n
		if e != nil {
			err = e
			break
		}
		if n == 0 {
			err = io.ErrShortWrite
			break
		}
	}
	w.bytes.Add(uint64(off))
	// full = number of lines whose last byte was written.
	full := sort.SearchInts(w.ends, off+1)
	w.written.Add(uint64(full))
	lines := len(w.ends)
	if err == nil {
		w.batch = w.batch[:0]
		w.ends = w.ends[:0]
		w.carry = false
		w.shrink()
		return
	}
	w.writeErrors.Add(1)
	w.ring.reportError(err)
	start := 0
	if full > 0 {
		start = w.ends[full-1]
	}
	if off > start || (w.carry && full == 0) {
		// Line number full is torn (or is the rest of a torn line): keep its rest for next time.
		rest := copy(w.batch, b[off:w.ends[full]])
		w.batch = w.batch[:rest]
		w.ends = append(w.ends[:0], rest)
		w.carry = true
		w.failed.Add(uint64(lines - full - 1))
	} else {
		w.batch = w.batch[:0]
		w.ends = w.ends[:0]
		w.carry = false
		w.failed.Add(uint64(lines - full))
	}
	w.shrink()
}

// shrink lets a batch buffer grown by a huge line go.
func (w *Writer) shrink() {
	if cap(w.batch) > 2*w.batchCap && len(w.batch) <= w.batchCap {
		b := make([]byte, len(w.batch), w.batchCap)
		copy(b, w.batch)
		w.batch = b
	}
}

// write calls the destination, turning a panic into an error.
func (w *Writer) write(p []byte) (n int, err error) {
	defer func() {
		if v := recover(); v != nil {
			w.panics.Add(1)
			n, err = 0, &PanicError{Op: "destination", Seq: -1, Value: v}
		}
	}()
	return w.dst.Write(p)
}

// Flush returns when every line accepted before the call has been handed to the destination (or
// has failed and been counted). It returns nil: write errors are reported through the error
// callback and Stats, never kept. It must not be called from a callback.
func (w *Writer) Flush() error {
	w.ring.Flush()
	return nil
}

// Sync is Flush; it makes a Writer a zapcore.WriteSyncer.
func (w *Writer) Sync() error { return w.Flush() }

// Close stops accepting lines (Write then returns ErrClosed), writes every accepted line, stops
// the consumer goroutine and, with WithCloseDestination, closes the destination and returns its
// error. It is safe to call more than once and concurrently with writers; later calls wait for
// the first and return its result.
func (w *Writer) Close() error {
	w.closeOnce.Do(func() {
		_ = w.ring.Close()
		// The consumer has exited: a line kept after a failed write gets one last try.
		if w.carry {
			w.writeBatch()
			if w.carry {
				w.failed.Add(1)
				w.carry = false
				w.batch = w.batch[:0]
				w.ends = w.ends[:0]
			}
		}
		r := w.ring
		if w.cfg.onLineDiscard != nil {
			if total := r.discarded.Load(); total > r.discardRep.reported.Load() {
				r.discardRep.reported.Store(total)
				w.cfg.onLineDiscard(nil, total)
			}
		}
		if w.cfg.closeDst {
			if c, ok := w.dst.(io.Closer); ok {
				w.closeErr = c.Close()
			}
		}
	})
	return w.closeErr
}

// Stats returns the writer's counters (see Stats). After Close, Accepted == Written + Failed.
func (w *Writer) Stats() Stats {
	s := w.ring.Stats()
	s.Written = w.written.Load()
	s.Failed += w.failed.Load()
	s.WriteErrors = w.writeErrors.Load()
	s.Panics += w.panics.Load()
	s.Bytes = w.bytes.Load()
	return s
}

// Capacity returns the number of slots of the writer's ring.
func (w *Writer) Capacity() int { return w.ring.Capacity() }
