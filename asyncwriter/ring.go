package asyncwriter

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
)

var (
	// ErrClosed is returned by Publish, TryPublish and Write after Close.
	ErrClosed = errors.New("asyncwriter: closed")
	// ErrFull is returned when an item is refused because the ring is full (Discard policy, or
	// TryPublish). The refusal is counted in Stats.Discarded.
	ErrFull = errors.New("asyncwriter: ring full, item discarded")
)

// PanicError is what the error callback receives when a handler or a destination panicked. The
// panic is recovered and counted in Stats.Panics; the consumer goes on with the next item.
type PanicError struct {
	// Op is "handler" (a Ring's Handler) or "destination" (a Writer's io.Writer).
	Op string
	// Seq is the sequence of the item being handled, or -1 for a destination.
	Seq int64
	// Value is the value given to panic.
	Value any
}

// Error says what panicked, on which item, and with which value.
func (e *PanicError) Error() string {
	if e.Seq < 0 {
		return fmt.Sprintf("asyncwriter: %s panicked: %v", e.Op, e.Value)
	}
	return fmt.Sprintf("asyncwriter: %s panicked on item %d: %v", e.Op, e.Seq, e.Value)
}

// Handler consumes the items of a Ring. OnEvent is called on the ring's single consumer goroutine,
// once per published item, in sequence order; seq counts from 0. endOfBatch is true on the last
// item the consumer found waiting: a handler that buffers output should write it then, which
// gives one write per batch. ev points into the ring and must not be kept after OnEvent returns.
//
// OnEvent must not call Publish, Flush or Close on its own ring (that can deadlock). A panic in
// OnEvent is recovered and counted; the item counts as failed. If that item (or one whose fill
// function panicked) was the last of its batch, the next endOfBatch comes with the next batch,
// so a handler that buffers should also write out what it holds after Close returns.
type Handler[T any] interface {
	OnEvent(ev *T, seq int64, endOfBatch bool)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc[T any] func(ev *T, seq int64, endOfBatch bool)

// OnEvent calls f(ev, seq, endOfBatch).
func (f HandlerFunc[T]) OnEvent(ev *T, seq int64, endOfBatch bool) { f(ev, seq, endOfBatch) }

// Stats are counters of a Ring or Writer. After Close returns, Accepted == Written + Failed.
type Stats struct {
	// Accepted is the number of items (lines) that got a slot in the ring.
	Accepted uint64
	// Written is, for a Ring, the number of items handled without panicking; for a Writer, the
	// number of lines that reached the destination in full.
	Written uint64
	// Discarded is the number of items refused because the ring was full.
	Discarded uint64
	// Failed is the number of accepted items that were not written: handler panics, panics in a
	// producer's fill function, lines lost to write errors.
	Failed uint64
	// WriteErrors is the number of failed Write calls on a Writer's destination (errors, writes
	// that made no progress, panics).
	WriteErrors uint64
	// Panics is the number of recovered panics of the handler or the destination.
	Panics uint64
	// Batches is the number of batches taken by the consumer.
	Batches uint64
	// MaxDepth is the largest number of items the consumer found waiting at once.
	MaxDepth uint64
	// Bytes is the number of bytes a Writer wrote to its destination.
	Bytes uint64
}

const closedBit = int64(1) << 62

// pad keeps the hot atomics of a Ring on cache lines of their own (128 bytes covers CPUs that
// fetch cache lines in pairs).
type pad [128]byte

type slot[T any] struct {
	seq  atomic.Int64 // sequence last published in this slot: the publication marker
	skip bool         // the producer's fill panicked: the consumer skips the item
	ev   T
}

// limiter lets a callback run at most once per interval.
type limiter struct {
	interval int64
	base     time.Time
	last     atomic.Int64 // nanoseconds since base of the last report, 0 = never
	reported atomic.Uint64
}

func (l *limiter) allow() bool {
	if l.interval == 0 {
		return true
	}
	now := int64(time.Since(l.base)) + 1
	last := l.last.Load()
	if last != 0 && now-last < l.interval {
		return false
	}
	return l.last.CompareAndSwap(last, now)
}

// Ring is a multi-producer, single-consumer ring of items of type T, in the manner of the LMAX
// Disruptor. Producers claim a slot with one atomic operation, fill it in place and publish it
// through the slot's marker; one consumer goroutine hands every published item to the Handler in
// sequence order, in batches. All methods are safe for concurrent use. A Ring is made by NewRing;
// the zero Ring is not usable.
type Ring[T any] struct {
	_        pad
	cursor   atomic.Int64 // next sequence to claim; closedBit set by Close
	_        pad
	consumed atomic.Int64 // every sequence below this has been handled
	parking               // producers waiting for space and flushers are its waiters
	closing  atomic.Int32 // set (after closeEnd) by the first Close
	closeEnd atomic.Int64 // the sequence Close stopped at: the consumer drains below it

	discarded atomic.Uint64
	written   atomic.Uint64
	failed    atomic.Uint64
	panics    atomic.Uint64
	batches   atomic.Uint64
	maxDepth  atomic.Uint64
	errors    atomic.Uint64

	size      int64
	mask      int64
	half      int64 // a sleeping consumer is woken when this many items wait
	slots     []slot[T]
	handler   Handler[T]
	cfg       config
	onDiscard func(*T, uint64)

	discardRep limiter
	errorRep   limiter

	cur int64 // consumer only: the sequence being handled
}

// NewRing makes a ring and starts its consumer goroutine, which calls h for every item. Options
// (RingOption): WithCapacity, WithPolicy, WithWaitStrategy, WithDiscardFunc, WithErrorFunc,
// WithReportInterval.
// Close must be called to stop the goroutine.
func NewRing[T any](h Handler[T], opts ...RingOption) (*Ring[T], error) {
	if h == nil {
		return nil, errors.New("asyncwriter: nil handler")
	}
	cfg, err := newRingConfig(opts)
	if err != nil {
		return nil, err
	}
	r := newRing(h, cfg)
	if cfg.onDiscard != nil {
		fn, ok := cfg.onDiscard.(func(*T, uint64))
		if !ok {
			return nil, fmt.Errorf("asyncwriter: WithDiscardFunc given %T, want func(*%T, uint64)", cfg.onDiscard, *new(T))
		}
		r.onDiscard = fn
	}
	r.start()
	return r, nil
}

func newRing[T any](h Handler[T], cfg config) *Ring[T] {
	r := &Ring[T]{
		size:    int64(cfg.capacity),
		mask:    int64(cfg.capacity - 1),
		half:    max(1, int64(cfg.capacity)/2),
		slots:   make([]slot[T], cfg.capacity),
		handler: h,
		cfg:     cfg,
	}
	r.init(cfg.naps)
	now := time.Now()
	r.discardRep = limiter{interval: int64(cfg.reportInterval), base: now}
	r.errorRep = limiter{interval: int64(cfg.reportInterval), base: now}
	for i := range r.slots {
		r.slots[i].seq.Store(-1)
	}
	return r
}

func (r *Ring[T]) start() { go r.run() }

// Capacity returns the number of slots (a power of two).
func (r *Ring[T]) Capacity() int { return int(r.size) }

// Publish claims a slot, calls fill on it, and publishes it. fill must only set the item (it runs
// on the caller's goroutine and should be quick). When the ring is full, a Block ring waits for a
// slot and a Discard ring refuses the item with ErrFull. After Close it returns ErrClosed. If fill
// panics, the slot is published as skipped (counted in Failed) and the panic goes on up.
func (r *Ring[T]) Publish(fill func(*T)) error {
	if r.cfg.policy == Discard {
		return r.TryPublish(fill)
	}
	s, err := r.claim()
	if err != nil {
		return err
	}
	r.fillAndCommit(s, fill)
	return nil
}

// TryPublish is Publish that never waits, whatever the policy: when the ring is full the item is
// refused with ErrFull, counted in Stats.Discarded and reported to the discard callback.
func (r *Ring[T]) TryPublish(fill func(*T)) error {
	s, err := r.tryClaim()
	if err != nil {
		if err == ErrFull {
			r.drop(fill)
		}
		return err
	}
	r.fillAndCommit(s, fill)
	return nil
}

func (r *Ring[T]) fillAndCommit(s int64, fill func(*T)) {
	sl := &r.slots[s&r.mask]
	ok := false
	defer func() {
		if !ok {
			sl.skip = true
			r.commit(s)
		}
	}()
	fill(&sl.ev)
	ok = true
	sl.skip = false
	r.commit(s)
}

func (r *Ring[T]) drop(fill func(*T)) {
	total := r.discarded.Add(1)
	if r.onDiscard != nil && r.discardRep.allow() {
		r.discardRep.reported.Store(total)
		scratch := new(T)
		fill(scratch)
		r.onDiscard(scratch, total)
	}
}

// claim takes the next sequence, waiting for its slot to be free (Block policy).
func (r *Ring[T]) claim() (int64, error) {
	s := r.cursor.Add(1) - 1
	if s&closedBit != 0 {
		return 0, ErrClosed
	}
	if s-r.consumed.Load() >= r.size {
		if !r.waitConsumed(s - r.size + 1) {
			return 0, ErrClosed
		}
	}
	return s, nil
}

// tryClaim takes the next sequence only if its slot is free now.
func (r *Ring[T]) tryClaim() (int64, error) {
	for {
		c := r.cursor.Load()
		if c&closedBit != 0 {
			return 0, ErrClosed
		}
		if c-r.consumed.Load() >= r.size {
			return 0, ErrFull
		}
		if r.cursor.CompareAndSwap(c, c+1) {
			return c, nil
		}
	}
}

// commit publishes sequence s and wakes the consumer if it is parked, or sleeping while half the
// ring waits.
func (r *Ring[T]) commit(s int64) {
	r.slots[s&r.mask].seq.Store(s)
	if st := r.parked.Load(); st != consumerRunning {
		r.wakeOnPublish(st, s+1-r.consumed.Load() >= r.half)
	}
}

// waitConsumed waits until the consumer has handled every sequence below target. It returns
// false if the consumer has exited first.
func (r *Ring[T]) waitConsumed(target int64) bool {
	return r.wait(func() bool { return r.consumed.Load() >= target })
}

// Flush returns when every item accepted before the call has been handled (or, after Close, when
// the ring is drained). It must not be called from the handler.
func (r *Ring[T]) Flush() {
	c := r.cursor.Load()
	if c&closedBit != 0 {
		<-r.done
		return
	}
	r.waitConsumed(c)
}

// Close stops accepting items (Publish then returns ErrClosed), waits until every accepted item
// has been handled, and stops the consumer goroutine. It is safe to call more than once and
// concurrently with producers; every call returns once the ring is drained. It must not be called
// from the handler. The discard callback gets a last report (with a nil item) if drops happened
// since its last call. Close always returns nil.
func (r *Ring[T]) Close() error {
	old := r.cursor.Or(closedBit)
	first := old&closedBit == 0
	if first {
		r.closeEnd.Store(old)
		r.closing.Store(1)
		r.kick()
	}
	<-r.done
	if first && r.onDiscard != nil {
		if total := r.discarded.Load(); total > r.discardRep.reported.Load() {
			r.discardRep.reported.Store(total)
			r.onDiscard(nil, total)
		}
	}
	return nil
}

// Stats returns the ring's counters. It is safe to call at any time; counters are read one by one,
// so a snapshot taken while items flow may be slightly inconsistent.
func (r *Ring[T]) Stats() Stats {
	return Stats{
		Accepted:  uint64(r.accepted()),
		Written:   r.written.Load(),
		Discarded: r.discarded.Load(),
		Failed:    r.failed.Load(),
		Panics:    r.panics.Load(),
		Batches:   r.batches.Load(),
		MaxDepth:  r.maxDepth.Load(),
	}
}

func (r *Ring[T]) accepted() int64 {
	c := r.cursor.Load()
	if c&closedBit == 0 {
		return c
	}
	for r.closing.Load() == 0 { // Close is between its two stores
		runtime.Gosched()
	}
	return r.closeEnd.Load()
}

// reportError counts err and passes it to the error callback if the rate limit allows.
func (r *Ring[T]) reportError(err error) {
	total := r.errors.Add(1)
	if r.cfg.onError != nil && r.errorRep.allow() {
		r.cfg.onError(err, total)
	}
}

// run is the consumer goroutine.
func (r *Ring[T]) run() {
	defer close(r.done)
	var next int64
	var maxDepth uint64
	for {
		n := r.available(next)
		if n == 0 {
			if r.closing.Load() != 0 && next >= r.closeEnd.Load() {
				break
			}
			r.idle(r.cfg.wait, func() bool { return r.ready(next) }, func() bool { return r.pressed(next) })
			continue
		}
		r.worked()
		r.batches.Add(1)
		if uint64(n) > maxDepth {
			maxDepth = uint64(n)
			r.maxDepth.Store(maxDepth)
		}
		r.handle(next, next+n)
		next += n
		r.consumed.Store(next)
		r.notify()
	}
	r.exit()
}

// available counts the published items from next on, up to the ring's size.
func (r *Ring[T]) available(next int64) int64 {
	var n int64
	for n < r.size && r.slots[(next+n)&r.mask].seq.Load() == next+n {
		n++
	}
	return n
}

func (r *Ring[T]) ready(next int64) bool {
	if r.slots[next&r.mask].seq.Load() == next {
		return true
	}
	return r.closing.Load() != 0 && next >= r.closeEnd.Load()
}

// pressed reports whether half the ring is claimed past next, or the ring is closing: the consumer
// must not sleep.
func (r *Ring[T]) pressed(next int64) bool {
	return r.cursor.Load()&^closedBit-next >= r.half || r.closing.Load() != 0
}

// handle hands items lo..hi-1 to the handler, recovering from its panics.
func (r *Ring[T]) handle(lo, hi int64) {
	var failed uint64
	for s := lo; s < hi; {
		var f uint64
		s, f = r.handleFrom(s, hi)
		failed += f
	}
	r.written.Add(uint64(hi-lo) - failed)
	if failed != 0 {
		r.failed.Add(failed)
	}
}

func (r *Ring[T]) handleFrom(s, hi int64) (next int64, failed uint64) {
	defer func() {
		if v := recover(); v != nil {
			r.panics.Add(1)
			r.reportError(&PanicError{Op: "handler", Seq: r.cur, Value: v})
			next = r.cur + 1
			failed++
		}
	}()
	for ; s < hi; s++ {
		sl := &r.slots[s&r.mask]
		if sl.skip {
			failed++
			continue
		}
		r.cur = s
		r.handler.OnEvent(&sl.ev, s, s == hi-1)
	}
	return hi, failed
}
