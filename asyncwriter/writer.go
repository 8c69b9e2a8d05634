package asyncwriter

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// errBadCount reports a destination that returned a byte count outside [0, len(p)].
var errBadCount = errors.New("asyncwriter: destination returned an invalid byte count")

// maxRingBytes caps the Writer's byte ring (capacity × slot size, rounded up to a power of two), so
// that a line in the ring (at most half of it) is shorter than descRestart.
const maxRingBytes = 1 << 30

// The Writer's claim word packs, from the top bit down: closed (1 bit), the next line number
// modulo 2^seqBits, and the next free byte position modulo 2^posBits. Producers claim a line
// number and its bytes with one compare-and-swap of this word. The consumer and the free-space
// counters keep absolute (int64) values; a difference of a packed value and an absolute one is
// taken modulo the field's width, which is exact because no difference that matters exceeds
// 2·(ring size) < 2^(field width - 1).
const (
	posBits    = 37
	posMask    = 1<<posBits - 1
	seqBits    = 26
	seqMask    = 1<<seqBits - 1
	wordClosed = uint64(1) << 63
)

// A line's descriptor (one atomic word per line number): the line number modulo 2^seqBits in
// the top 32 bits is its publication marker; the low bits hold the line's length, or heapLine
// for a line kept in a heap copy. descRestart marks a line put at the ring's start although it
// fitted before the end (see hotBytes).
const (
	heapLine    = uint64(1) << 31
	descRestart = uint64(1) << 30
	descLenMask = descRestart - 1
	descEmpty   = uint64(0xFFFFFFFF) << 32 // matches no line number
)

// hotBytes: a line claimed when the ring is empty (every byte claimed has been freed) goes to the
// ring's start instead of its current position, once that position is hotBytes or more into the
// ring. While the consumer keeps up, producers thus write over the same few kilobytes, which stay
// in the processor's cache, and move on through the rest of the ring only to hold a backlog.
// Streaming 200-byte lines through the default 512 KiB ring into a destination that keeps up, two
// producers took about 10% less time per line with this than cycling through the whole ring
// (BenchmarkWriter/ring_2p: median 17.9 against 20.0 ns in 15 alternating rounds of the two
// builds; one producer alone, 17.5 against 17.7 ns). A smaller hotBytes measured worse: 4 KiB
// ends runs (and the Writes they make) too often.
const hotBytes = 16 << 10

// modDiff returns a-b for two values modulo 2^bits, as a signed number.
func modDiff(a, b uint64, bits uint) int64 {
	return int64((a-b)<<(64-bits)) >> (64 - bits)
}

// Writer is an io.Writer that takes lines off the caller's path: Write copies one whole line into
// a shared byte ring and returns; a consumer goroutine hands the waiting lines to the destination
// straight from the ring, one Write per contiguous run of lines (a run stops at the ring's end, at
// half the ring's bytes or lines, and at WithMaxBatchBytes). Lines are never split or merged with
// another caller's bytes: each Write must be exactly one line (or record). Write errors of the
// destination are counted and reported through the error callback, never kept: the next batch is
// written as soon as the destination works again. All methods are safe for concurrent use. A
// Writer is made by NewWriter; the zero Writer is not usable.
//
// Producers claim a line number and a byte range together with one compare-and-swap, copy the
// line into the ring and publish it through the line's descriptor. A line never wraps around the
// end of the ring: if it would, its range starts at the beginning of the ring instead and the
// bytes left at the end are skipped. A line longer than half the ring is copied to the heap (one
// allocation) and written by itself.
type Writer struct {
	_       pad
	word    atomic.Uint64 // closed | next line number | next byte position (see posBits)
	_       pad
	handled atomic.Int64 // consumer: every line number below this is handled
	freed   atomic.Int64 // consumer: every byte position below this may be reused
	parking              // producers waiting for room and flushers are its waiters
	closing atomic.Int32 // set by Close after the closed bit

	discarded   atomic.Uint64
	written     atomic.Uint64
	failed      atomic.Uint64
	writeErrors atomic.Uint64
	panics      atomic.Uint64
	bytes       atomic.Uint64
	batches     atomic.Uint64
	maxDepth    atomic.Uint64
	errors      atomic.Uint64

	buf       []byte          // the byte ring
	bsize     uint64          // len(buf), a power of two
	bmask     uint64          // bsize - 1
	maxInline uint64          // longest line copied into the ring
	descs     []atomic.Uint64 // per line number (modulo capacity): marker and length
	heap      [][]byte        // per line number: the heap copy of a long line
	lines     int64           // number of descriptors, a power of two
	halfLines int64           // a sleeping consumer is woken when this many lines wait
	lmask     uint64
	runBytes  int64 // most bytes in one Write
	runLines  int64 // most lines in one Write
	seq0      int64 // the first line number (not 0 only in tests of the counters' wrap-around)

	dst io.Writer
	cfg config

	discardRep limiter
	errorRep   limiter

	// consumer only (and Close, after the consumer has exited)
	cseq     int64  // next line number to take
	cpos     int64  // byte position after the last line taken (skips included)
	runStart int64  // byte position of the first line of the current run
	runSeq   int64  // line number of the first line of the current run
	ends     []int  // scratch: end offset in a failed run of each of its lines
	carry    []byte // the unwritten rest of a line partly written before
	carryBuf []byte

	closeOnce sync.Once
	closeErr  error
}

// NewWriter starts a Writer in front of dst. Options (WriterOption): WithCapacity, WithPolicy, WithWaitStrategy,
// WithSlotSize, WithMaxBatchBytes, WithCloseDestination, WithErrorFunc, WithLineDiscardFunc,
// WithReportInterval. The ring's memory (capacity × slot size bytes, rounded up to a power of two)
// is allocated here. Close must be called to stop the consumer goroutine.
func NewWriter(dst io.Writer, opts ...WriterOption) (*Writer, error) {
	return newWriter(dst, 0, 0, opts)
}

// newWriter starts a Writer whose first line number is seq0 and first byte position pos0, so
// that tests can run the packed counters through their wrap-around.
func newWriter(dst io.Writer, seq0, pos0 int64, opts []WriterOption) (*Writer, error) {
	if dst == nil {
		return nil, errors.New("asyncwriter: nil destination")
	}
	cfg, err := newWriterConfig(opts)
	if err != nil {
		return nil, err
	}
	size := uint64(ceilPow2(cfg.slotSize)) * uint64(cfg.capacity)
	if size > maxRingBytes {
		return nil, fmt.Errorf("asyncwriter: capacity × slot size is %d bytes, more than %d", size, maxRingBytes)
	}
	size = max(size, 2)
	w := &Writer{
		buf:       make([]byte, size),
		bsize:     size,
		bmask:     size - 1,
		maxInline: size / 2,
		descs:     make([]atomic.Uint64, cfg.capacity),
		heap:      make([][]byte, cfg.capacity),
		lines:     int64(cfg.capacity),
		lmask:     uint64(cfg.capacity - 1),
		seq0:      seq0,
		dst:       dst,
		cfg:       cfg,
		cseq:      seq0,
		cpos:      pos0,
	}
	// A Write carries at most half the ring's bytes and half its lines, so that producers can
	// fill the other half while the destination takes it.
	w.runBytes = min(int64(cfg.maxBatchBytes), int64(size)/2)
	w.runLines = max(1, int64(cfg.capacity)/2)
	w.halfLines = max(1, int64(cfg.capacity)/2)
	for i := range w.descs {
		w.descs[i].Store(descEmpty)
	}
	w.word.Store(uint64(seq0)&seqMask<<posBits | uint64(pos0)&posMask)
	w.handled.Store(seq0)
	w.freed.Store(pos0)
	now := time.Now()
	w.discardRep = limiter{interval: int64(cfg.reportInterval), base: now}
	w.errorRep = limiter{interval: int64(cfg.reportInterval), base: now}
	w.init(cfg.naps)
	go w.run()
	return w, nil
}

// Write queues p, which must be one whole line (or record), and returns len(p), nil. p is copied:
// the caller may reuse it at once. When the ring is full, a Block writer waits for room and a
// Discard writer returns 0, ErrFull (the line is counted in Stats.Discarded and reported to the
// discard callback). After Close it returns 0, ErrClosed. An empty p is a no-op.
func (w *Writer) Write(p []byte) (int, error) {
	n := uint64(len(p))
	if n == 0 {
		return 0, nil
	}
	if n > w.maxInline {
		return w.writeHeap(p)
	}
	for {
		word := w.word.Load()
		if word&wordClosed != 0 {
			return 0, ErrClosed
		}
		seq := word >> posBits
		pos := word & posMask
		done, freed := w.handled.Load(), w.freed.Load()
		start, restart := pos, uint64(0)
		if off := pos & w.bmask; off+n > w.bsize {
			start = (pos + w.bsize - off) & posMask // skip the end of the ring: lines never wrap
		} else if off >= hotBytes && n <= off && pos == uint64(freed)&posMask {
			// The ring is empty: back to its start (see hotBytes), which has room as n <= off.
			start, restart = (pos+w.bsize-off)&posMask, descRestart
		}
		end := (start + n) & posMask
		ds := modDiff(seq, uint64(done), seqBits)
		db := modDiff(end, uint64(freed), posBits)
		if ds < 0 || db < 0 {
			continue // word is older than done or freed: load it again
		}
		if ds >= w.lines || uint64(db) > w.bsize {
			if w.cfg.policy == Discard {
				w.drop(p)
				return 0, ErrFull
			}
			if !w.waitRoom(done+ds-w.lines+1, freed+db-int64(w.bsize), word, true) {
				return 0, ErrClosed
			}
			continue
		}
		if w.word.CompareAndSwap(word, (seq+1)&seqMask<<posBits|end) {
			copy(w.buf[start&w.bmask:], p)
			w.descs[seq&w.lmask].Store(seq<<32 | restart | n)
			if st := w.parked.Load(); st != consumerRunning {
				w.wakeOnPublish(st, ds+1 >= w.halfLines || uint64(db) >= w.bsize/2)
			}
			return len(p), nil
		}
	}
}

// writeHeap queues a line too long for the ring: it takes a line number only, and a heap copy.
func (w *Writer) writeHeap(p []byte) (int, error) {
	for {
		word := w.word.Load()
		if word&wordClosed != 0 {
			return 0, ErrClosed
		}
		seq := word >> posBits
		done := w.handled.Load()
		ds := modDiff(seq, uint64(done), seqBits)
		if ds < 0 {
			continue
		}
		if ds >= w.lines {
			if w.cfg.policy == Discard {
				w.drop(p)
				return 0, ErrFull
			}
			if !w.waitRoom(done+ds-w.lines+1, math.MinInt64, word, true) {
				return 0, ErrClosed
			}
			continue
		}
		if w.word.CompareAndSwap(word, (seq+1)&seqMask<<posBits|word&posMask) {
			w.heap[seq&w.lmask] = append([]byte(nil), p...)
			w.descs[seq&w.lmask].Store(seq<<32 | heapLine)
			if st := w.parked.Load(); st != consumerRunning {
				w.wakeOnPublish(st, ds+1 >= w.halfLines)
			}
			return len(p), nil
		}
	}
}

func (w *Writer) drop(p []byte) {
	total := w.discarded.Add(1)
	if w.cfg.onLineDiscard != nil && w.discardRep.allow() {
		w.discardRep.reported.Store(total)
		w.cfg.onLineDiscard(p, total)
	}
}

// waitRoom waits until the consumer has handled every line number below seq and freed every byte
// below pos, or, if claim is set, until the claim word is no longer word (the targets were
// computed from it: a producer whose word was very old must not wait for far-off targets). It
// returns false if the consumer has exited first.
func (w *Writer) waitRoom(seq, pos int64, word uint64, claim bool) bool {
	return w.wait(func() bool {
		return w.handled.Load() >= seq && w.freed.Load() >= pos || claim && w.word.Load() != word
	})
}

// claimed returns the absolute number of the next line to be claimed, and the claim word.
func (w *Writer) claimed() (int64, uint64) {
	for {
		d1 := w.handled.Load()
		word := w.word.Load()
		if w.handled.Load() == d1 {
			// No line number below d1 is unclaimed, and at most capacity are claimed above it.
			return d1 + int64((word>>posBits-uint64(d1))&seqMask), word
		}
	}
}

// Flush returns when every line accepted before the call has been handed to the destination (or
// has failed and been counted). It returns nil: write errors are reported through the error
// callback and Stats, never kept. It must not be called from a callback.
func (w *Writer) Flush() error {
	seq, word := w.claimed()
	if word&wordClosed != 0 {
		<-w.done
		return nil
	}
	w.waitRoom(seq, math.MinInt64, 0, false)
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
		// Once the closed bit is set no claim succeeds: the word keeps the last line number.
		w.word.Or(wordClosed)
		w.closing.Store(1)
		w.kick()
		<-w.done
		// The consumer has exited: a line kept after a failed write gets one last try.
		if w.carry != nil && !w.writeCarry() {
			w.failed.Add(1)
			w.carry = nil
		}
		if w.cfg.onLineDiscard != nil {
			if total := w.discarded.Load(); total > w.discardRep.reported.Load() {
				w.discardRep.reported.Store(total)
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
// Counters are read one by one, so a snapshot taken while lines flow may be slightly
// inconsistent.
func (w *Writer) Stats() Stats {
	seq, _ := w.claimed()
	return Stats{
		Accepted:    uint64(seq - w.seq0),
		Written:     w.written.Load(),
		Discarded:   w.discarded.Load(),
		Failed:      w.failed.Load(),
		WriteErrors: w.writeErrors.Load(),
		Panics:      w.panics.Load(),
		Batches:     w.batches.Load(),
		MaxDepth:    w.maxDepth.Load(),
		Bytes:       w.bytes.Load(),
	}
}

// Capacity returns the largest number of lines the writer's ring holds.
func (w *Writer) Capacity() int { return int(w.lines) }

// reportError counts err and passes it to the error callback if the rate limit allows.
func (w *Writer) reportError(err error) {
	total := w.errors.Add(1)
	if w.cfg.onError != nil && w.errorRep.allow() {
		w.cfg.onError(err, total)
	}
}

// After a batch of at least two lines (producers are streaming), the consumer yields up to
// batchYields times while fewer than batchLines lines wait, so that its next batch is larger.
const (
	batchYields = 16
	batchLines  = 64
)

// run is the consumer goroutine.
func (w *Writer) run() {
	defer close(w.done)
	ahead := min(batchLines, w.lines) - 1
	for {
		if n := w.take(); n != 0 {
			w.worked()
			// Let a runnable goroutine have this processor before the next batch. When producers
			// keep every processor busy, a consumer that goes straight back to the ring holds a
			// processor one producer waits for and chases the other a few lines at a time, each
			// line's descriptor moving between the caches of the two; yielding, it comes back to
			// a larger batch. With nothing else runnable Gosched returns at once (a few hundred
			// nanoseconds; batchYields of them at most). A lone line (n == 1) is not waited for:
			// the consumer goes on to park.
			runtime.Gosched()
			for i := 0; n > 1 && i < batchYields && !w.published(w.cseq+ahead); i++ {
				runtime.Gosched()
			}
			continue
		}
		if w.closing.Load() != 0 && w.drained() {
			break
		}
		w.idle(w.cfg.wait, w.ready, w.pressed)
	}
	w.exit()
}

// drained reports, once the closed bit is set, whether every claimed line has been taken.
func (w *Writer) drained() bool {
	return uint64(w.cseq)&seqMask == w.word.Load()>>posBits&seqMask
}

// published reports whether the line numbered seq is published.
func (w *Writer) published(seq int64) bool {
	return w.descs[uint64(seq)&w.lmask].Load()>>32 == uint64(seq)&seqMask
}

func (w *Writer) ready() bool {
	return w.published(w.cseq) || w.closing.Load() != 0 && w.drained()
}

// pressed reports whether half the ring's lines or bytes are claimed past the consumer, or the
// writer is closing: the consumer must not sleep.
func (w *Writer) pressed() bool {
	word := w.word.Load()
	ds := modDiff(word>>posBits, uint64(w.cseq), seqBits)
	db := modDiff(word&posMask, uint64(w.cpos), posBits)
	return ds >= w.halfLines || uint64(db) >= w.bsize/2 || w.closing.Load() != 0
}

// take hands every published line (up to the capacity) to the destination and returns how many
// there were. The loop keeps the consumer's position in locals and looks at each line's
// descriptor once; a run's line ends are worked out from the descriptors only when a write fails.
func (w *Writer) take() int {
	descs, lmask := w.descs, w.lmask
	bmask, bsize := w.bmask, w.bsize
	seq, pos := w.cseq, w.cpos
	first := seq
	limit := seq + w.lines
	w.runStart, w.runSeq = pos, seq
	for seq < limit {
		i := uint64(seq) & lmask
		d := descs[i].Load()
		if d>>32 != uint64(seq)&seqMask {
			break
		}
		if d&heapLine != 0 {
			w.cseq, w.cpos = seq, pos
			w.flushRun()
			h := w.heap[i]
			w.heap[i] = nil
			seq++
			w.cseq = seq
			w.writeLines(h, seq-1, 1, true)
			w.release()
			w.runStart, w.runSeq = pos, seq
			continue
		}
		n := int64(d & descLenMask)
		if off := uint64(pos) & bmask; off+uint64(n) > bsize || d&descRestart != 0 {
			w.cseq, w.cpos = seq, pos
			w.flushRun()
			pos += int64(bsize - off) // the line was put at the ring's start (off != 0 then)
			w.runStart = pos
		} else if seq != w.runSeq && (off == 0 || pos-w.runStart+n > w.runBytes || seq-w.runSeq >= w.runLines) {
			// The run reached the end of the ring, the batch cap or half the lines.
			w.cseq, w.cpos = seq, pos
			w.flushRun()
		}
		pos += n
		seq++
	}
	w.cseq, w.cpos = seq, pos
	w.flushRun()
	taken := uint64(seq - first)
	if taken > w.maxDepth.Load() {
		w.maxDepth.Store(taken)
	}
	return int(taken)
}

// flushRun writes the lines taken since runSeq (all contiguous in the ring from runStart) and
// frees them.
func (w *Writer) flushRun() {
	if lines := w.cseq - w.runSeq; lines != 0 {
		off := uint64(w.runStart) & w.bmask
		w.writeLines(w.buf[off:off+uint64(w.cpos-w.runStart)], w.runSeq, int(lines), false)
		w.release()
	}
	w.runStart, w.runSeq = w.cpos, w.cseq
}

// release frees the ring up to the consumer's position and wakes producers waiting for room.
func (w *Writer) release() {
	w.freed.Store(w.cpos)
	w.handled.Store(w.cseq)
	w.notify()
}

// lineEnds returns the end offset in b of each of the lines numbered first to first+lines-1 that
// b holds; a single line is all of b (a heap line's descriptor has no length).
func (w *Writer) lineEnds(b []byte, first int64, lines int) []int {
	ends := w.ends[:0]
	if lines == 1 {
		ends = append(ends, len(b))
	} else {
		end := 0
		for k := 0; k < lines; k++ {
			end += int(w.descs[uint64(first+int64(k))&w.lmask].Load() & descLenMask)
			ends = append(ends, end)
		}
	}
	w.ends = ends
	return ends
}

// writeLines writes b, made of the whole lines numbered first to first+lines-1, with one Write
// (more if the destination writes short), after the rest of a line torn by an earlier error. It
// counts the lines written and failed. A line partly written before an error keeps its rest (a
// copy, unless owned says b belongs to the consumer), so that the rest is written first next time
// and the destination never holds a torn line if it recovers. The lines' descriptors must still
// be in place (not released).
func (w *Writer) writeLines(b []byte, first int64, lines int, owned bool) {
	if w.carry != nil && !w.writeCarry() {
		w.failed.Add(uint64(lines))
		return
	}
	w.batches.Add(1)
	off, err := w.writeAll(b)
	if err == nil {
		w.written.Add(uint64(lines))
		return
	}
	ends := w.lineEnds(b, first, lines)
	full := sort.SearchInts(ends, off+1) // number of lines whose last byte was written
	w.written.Add(uint64(full))
	w.writeErrors.Add(1)
	w.reportError(err)
	start := 0
	if full > 0 {
		start = ends[full-1]
	}
	lost := lines - full
	if off > start { // line number full is torn: keep its rest for next time
		lost--
		if owned {
			w.carry = b[off:ends[full]]
		} else {
			w.carryBuf = append(w.carryBuf[:0], b[off:ends[full]]...)
			w.carry = w.carryBuf
		}
	}
	w.failed.Add(uint64(lost))
	if cap(w.carryBuf) > 1<<16 && w.carry == nil {
		w.carryBuf = nil // let a buffer grown by a long torn line go
	}
}

// writeCarry writes the rest of a torn line; it reports whether that line is now whole.
func (w *Writer) writeCarry() bool {
	w.batches.Add(1)
	off, err := w.writeAll(w.carry)
	if err == nil {
		w.written.Add(1)
		w.carry = nil
		return true
	}
	w.writeErrors.Add(1)
	w.reportError(err)
	w.carry = w.carry[off:]
	return false
}

// writeAll writes b, completing short writes; it returns the bytes written and the first error
// (io.ErrShortWrite for a Write that made no progress).
func (w *Writer) writeAll(b []byte) (int, error) {
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
	return off, err
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
