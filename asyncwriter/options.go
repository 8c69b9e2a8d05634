package asyncwriter

import (
	"fmt"
	"time"
)

// Policy says what a producer does when the ring is full.
type Policy int

const (
	// Block makes a producer wait for a free slot when the ring is full. Nothing accepted is ever
	// dropped. This is the default.
	Block Policy = iota
	// Discard never makes a producer wait: when the ring is full the new item is refused with
	// ErrFull and counted in Stats.Discarded (and reported through the discard callback).
	Discard
)

// String returns "block" or "discard".
func (p Policy) String() string {
	switch p {
	case Block:
		return "block"
	case Discard:
		return "discard"
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// WaitStrategy says what the consumer goroutine does when it finds nothing to handle.
type WaitStrategy int

const (
	// WaitPark parks the consumer (it uses no CPU) until a producer publishes; a producer pays for
	// a wake-up only when the consumer is parked. This is the default, and the right choice on
	// small machines.
	WaitPark WaitStrategy = iota
	// WaitYield makes the idle consumer loop on runtime.Gosched: lowest latency, but it keeps one
	// CPU busy while idle. Producers never pay for a wake-up.
	WaitYield
	// WaitSleep makes the idle consumer sleep SleepInterval between looks, even when idle for
	// long. Producers do not wake it (except as WaitBackoff says); items wait up to SleepInterval
	// before being handled.
	WaitSleep
	// WaitBackoff makes the idle consumer sleep, BackoffMin after it last found work, twice as
	// long after each look that finds none, up to BackoffMax; after BackoffParkAfter without work
	// it parks as WaitPark does, and the next publish wakes it. While traffic flows, a producer
	// never pays for a wake-up and the consumer takes everything published in the last sleep as
	// one batch (one Write of a Writer, one endOfBatch of a Ring): the fewest wake-ups and writes
	// per item, at the price of a delay of up to BackoffMax before an item is handled. An idle
	// ring costs nothing once parked. Under WaitSleep and WaitBackoff the consumer is woken at once
	// when half the ring (half its lines or bytes, for a Writer) waits, when a producer waits for
	// room, by Flush and by Close, so nothing is dropped or waits longer for the sleeps.
	WaitBackoff
)

// SleepInterval is how long an idle consumer sleeps under WaitSleep.
const SleepInterval = 500 * time.Microsecond

// The sleeps of WaitBackoff.
const (
	// BackoffMin is its first sleep after the consumer found work.
	BackoffMin = time.Millisecond
	// BackoffMax is its longest sleep: the most an item waits before being handled, while the
	// consumer is not parked (plus the time the Go scheduler takes to run it).
	BackoffMax = 8 * time.Millisecond
	// BackoffParkAfter is how long it sleeps without finding work before it parks.
	BackoffParkAfter = 100 * time.Millisecond
)

// String returns "park", "yield", "sleep" or "backoff".
func (s WaitStrategy) String() string {
	switch s {
	case WaitPark:
		return "park"
	case WaitYield:
		return "yield"
	case WaitSleep:
		return "sleep"
	case WaitBackoff:
		return "backoff"
	}
	return fmt.Sprintf("WaitStrategy(%d)", int(s))
}

// Defaults of the options.
const (
	// DefaultCapacity is a Ring's default number of slots.
	DefaultCapacity = 1024
	// DefaultWriterCapacity is a Writer's default number of lines. With DefaultSlotSize its byte
	// ring is 512 KiB (4096 × 128 bytes; zap's BufferedWriteSyncer buffers 256 KiB), plus 32
	// bytes per line for the descriptors. Lines of a log are mostly short (a digest line is 200
	// to 300 bytes): more lines in the same bytes let the consumer write one half of the ring
	// while producers fill the other, with larger writes and fewer waits for room.
	DefaultWriterCapacity = 4096
	// DefaultSlotSize is the bytes a Writer reserves per line (see WithSlotSize).
	DefaultSlotSize       = 128
	DefaultMaxBatchBytes  = 1 << 20
	DefaultReportInterval = time.Second
	// MaxCapacity is the largest ring capacity accepted.
	MaxCapacity = 1 << 24
	// MaxSlotSize is the largest slot size accepted (longer lines are still written: see
	// WithSlotSize).
	MaxSlotSize = 1 << 20
)

// Options are of three types, so that an option given to the wrong constructor fails to compile:
// an Option (WithCapacity, WithPolicy, WithWaitStrategy, WithReportInterval, WithErrorFunc) configures
// a Ring and a Writer alike; a RingOption (WithDiscardFunc) only a Ring; a WriterOption (WithSlotSize,
// WithMaxBatchBytes, WithCloseDestination, WithLineDiscardFunc) only a Writer. An option with a value
// out of range makes NewRing or NewWriter fail with an error naming the option.
//
// Option configures a Ring or a Writer: it is both a RingOption and a WriterOption.
type Option interface {
	RingOption
	WriterOption
}

// RingOption configures a Ring (NewRing).
type RingOption interface{ applyRing(*config) }

// WriterOption configures a Writer (NewWriter).
type WriterOption interface{ applyWriter(*config) }

// bothOption is an Option.
type bothOption func(*config)

func (f bothOption) applyRing(c *config)   { f(c) }
func (f bothOption) applyWriter(c *config) { f(c) }

// ringOption is a RingOption only.
type ringOption func(*config)

func (f ringOption) applyRing(c *config) { f(c) }

// writerOption is a WriterOption only.
type writerOption func(*config)

func (f writerOption) applyWriter(c *config) { f(c) }

type config struct {
	capacity       int
	policy         Policy
	wait           WaitStrategy
	slotSize       int
	maxBatchBytes  int
	closeDst       bool
	reportInterval time.Duration
	onError        func(err error, total uint64)
	onDiscard      any // func(*T, uint64) for a Ring[T]
	onLineDiscard  func(line []byte, total uint64)
	naps           naps
}

// defaultConfig returns the defaults; capacity is the default capacity (a Ring's or a Writer's).
func defaultConfig(capacity int) config {
	return config{
		capacity:       capacity,
		policy:         Block,
		wait:           WaitPark,
		slotSize:       DefaultSlotSize,
		maxBatchBytes:  DefaultMaxBatchBytes,
		reportInterval: DefaultReportInterval,
		naps:           defaultNaps,
	}
}

// newRingConfig applies opts over a Ring's defaults and checks the result.
func newRingConfig(opts []RingOption) (config, error) {
	c := defaultConfig(DefaultCapacity)
	for _, o := range opts {
		if o != nil {
			o.applyRing(&c)
		}
	}
	return c, c.check()
}

// newWriterConfig applies opts over a Writer's defaults and checks the result.
func newWriterConfig(opts []WriterOption) (config, error) {
	c := defaultConfig(DefaultWriterCapacity)
	for _, o := range opts {
		if o != nil {
			o.applyWriter(&c)
		}
	}
	return c, c.check()
}

// check returns an error naming the first option out of range, and rounds the capacity up.
func (c *config) check() error {
	if c.capacity < 1 || c.capacity > MaxCapacity {
		return fmt.Errorf("asyncwriter: WithCapacity(%d): out of range [1, %d]", c.capacity, MaxCapacity)
	}
	c.capacity = ceilPow2(c.capacity)
	if c.policy != Block && c.policy != Discard {
		return fmt.Errorf("asyncwriter: WithPolicy(%v): unknown policy (Block or Discard)", c.policy)
	}
	if c.wait < WaitPark || c.wait > WaitBackoff {
		return fmt.Errorf("asyncwriter: WithWaitStrategy(%v): unknown strategy (WaitPark, WaitYield, WaitSleep or WaitBackoff)", c.wait)
	}
	if c.slotSize < 1 || c.slotSize > MaxSlotSize {
		return fmt.Errorf("asyncwriter: WithSlotSize(%d): out of range [1, %d]", c.slotSize, MaxSlotSize)
	}
	if c.maxBatchBytes < 1 {
		return fmt.Errorf("asyncwriter: WithMaxBatchBytes(%d): must be positive", c.maxBatchBytes)
	}
	if c.reportInterval < 0 {
		return fmt.Errorf("asyncwriter: WithReportInterval(%v): negative (0 reports every event)", c.reportInterval)
	}
	return nil
}

func ceilPow2(n int) int {
	p := 1
	for p < n {
		p <<= 1
	}
	return p
}

// WithCapacity sets the number of slots; it is rounded up to a power of two. Default 1024 for a
// Ring; 4096 for a Writer, for which it is the most lines waiting at once (see WithSlotSize for
// their bytes).
func WithCapacity(n int) Option {
	return bothOption(func(c *config) { c.capacity = n })
}

// WithPolicy sets what a producer does when the ring is full. Default Block.
func WithPolicy(p Policy) Option {
	return bothOption(func(c *config) { c.policy = p })
}

// WithWaitStrategy sets what the idle consumer does. Default WaitPark.
func WithWaitStrategy(s WaitStrategy) Option {
	return bothOption(func(c *config) { c.wait = s })
}

// WithSlotSize sets the bytes a Writer reserves per line (default 128): its lines share one byte
// ring of capacity × slot size bytes (512 KiB by default; the slot size is rounded up to a power
// of two; at most 1 GiB in all, or NewWriter fails). Each line takes exactly its own length
// there, so the ring holds many short lines or fewer long ones, and never more than the
// capacity. A line longer than half the byte ring is copied to the heap instead (one allocation)
// and written by itself; a line is never split. Writer only.
func WithSlotSize(n int) WriterOption {
	return writerOption(func(c *config) { c.slotSize = n })
}

// WithMaxBatchBytes caps the bytes a Writer hands to its destination in one Write (default
// 1 MiB). A Write also carries at most half the ring's bytes and half its lines (so that
// producers fill the other half meanwhile) and never runs past the ring's end; each Write is
// made of whole lines. Writer only.
func WithMaxBatchBytes(n int) WriterOption {
	return writerOption(func(c *config) { c.maxBatchBytes = n })
}

// WithCloseDestination makes Writer.Close close the destination (when it is an io.Closer) after
// draining. Writer only.
func WithCloseDestination() WriterOption {
	return writerOption(func(c *config) { c.closeDst = true })
}

// WithReportInterval sets the least time between two calls of the error or discard callbacks
// (default 1 s). Zero reports every event.
func WithReportInterval(d time.Duration) Option {
	return bothOption(func(c *config) { c.reportInterval = d })
}

// WithErrorFunc sets a callback told about write errors of a Writer's destination and about
// panics of a handler or destination (as *PanicError). total is the number of such errors so far.
// It is called on the consumer goroutine (or in Close), at most once per report interval, so it
// must not call Flush or Close, nor Write to the same Writer.
func WithErrorFunc(fn func(err error, total uint64)) Option {
	return bothOption(func(c *config) { c.onError = fn })
}

// WithDiscardFunc sets a callback for a Ring[T] told about items refused because the ring was
// full. dropped is a scratch copy of the refused item, filled by the producer's fill function
// (so a tracer can name the dropped trace id); it is nil in the last report made by Close. total
// is the number dropped so far. It runs on the producer's goroutine, at most once per report
// interval, so it must be quick. NewRing fails if T does not match the Ring's type. Ring only (a
// Writer has WithLineDiscardFunc).
func WithDiscardFunc[T any](fn func(dropped *T, total uint64)) RingOption {
	return ringOption(func(c *config) { c.onDiscard = fn })
}

// WithLineDiscardFunc sets a callback for a Writer told about lines refused because the ring was
// full. line is the refused line (valid only during the call; nil in the last report made by
// Close), total the number dropped so far. It runs on the producer's goroutine, at most once per
// report interval. Writer only.
func WithLineDiscardFunc(fn func(line []byte, total uint64)) WriterOption {
	return writerOption(func(c *config) { c.onLineDiscard = fn })
}
