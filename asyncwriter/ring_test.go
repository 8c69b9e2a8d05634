package asyncwriter

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

type item struct {
	producer int
	n        int
}

func TestNewRingErrors(t *testing.T) {
	h := HandlerFunc[item](func(*item, int64, bool) {})
	cases := []struct {
		name string
		h    Handler[item]
		opts []RingOption
	}{
		{"nil handler", nil, nil},
		{"zero capacity", h, []RingOption{WithCapacity(0)}},
		{"huge capacity", h, []RingOption{WithCapacity(MaxCapacity + 1)}},
		{"bad policy", h, []RingOption{WithPolicy(Policy(7))}},
		{"bad wait", h, []RingOption{WithWaitStrategy(WaitStrategy(7))}},
		{"negative interval", h, []RingOption{WithReportInterval(-1)}},
		{"discard func of another type", h, []RingOption{WithDiscardFunc(func(*string, uint64) {})}},
	}
	for _, c := range cases {
		if r, err := NewRing[item](c.h, c.opts...); err == nil {
			_ = r.Close()
			t.Errorf("%s: NewRing succeeded", c.name)
		}
	}
}

func TestCapacityRoundsUp(t *testing.T) {
	for _, c := range []struct{ in, want int }{{1, 1}, {3, 4}, {1000, 1024}, {1024, 1024}, {1025, 2048}} {
		r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) {}), WithCapacity(c.in))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Capacity(); got != c.want {
			t.Errorf("capacity %d: got %d, want %d", c.in, got, c.want)
		}
		_ = r.Close()
	}
	r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) {}))
	if err != nil {
		t.Fatal(err)
	}
	if r.Capacity() != DefaultCapacity {
		t.Errorf("default ring capacity %d, want %d", r.Capacity(), DefaultCapacity)
	}
	_ = r.Close()
}

// TestRingBlockOrder: every item is handled once, in per-producer order, with correct sequence
// numbers and batch ends, through a small ring that is full most of the time.
func TestRingBlockOrder(t *testing.T) {
	for _, ws := range []WaitStrategy{WaitPark, WaitYield, WaitSleep, WaitBackoff} {
		t.Run(ws.String(), func(t *testing.T) {
			const producers, per = 4, 20000
			const capacity = 16 // full most of the time: a producer waiting for room wakes a sleeping consumer
			var last [producers]int
			for i := range last {
				last[i] = -1
			}
			var nextSeq int64
			var ends, bad int
			r, err := NewRing[item](HandlerFunc[item](func(ev *item, seq int64, end bool) {
				if seq != nextSeq || ev.n != last[ev.producer]+1 {
					bad++
				}
				nextSeq = seq + 1
				last[ev.producer] = ev.n
				if end {
					ends++
				}
			}), WithCapacity(capacity), WithWaitStrategy(ws))
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for p := 0; p < producers; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						if err := r.Publish(func(ev *item) { ev.producer, ev.n = p, i }); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			_ = r.Close()
			st := r.Stats()
			if bad != 0 {
				t.Errorf("%d items out of order", bad)
			}
			for p, n := range last {
				if n != per-1 {
					t.Errorf("producer %d: last item %d, want %d", p, n, per-1)
				}
			}
			if st.Accepted != producers*per || st.Written != producers*per || st.Discarded != 0 || st.Failed != 0 {
				t.Errorf("stats %+v", st)
			}
			if uint64(ends) != st.Batches || st.MaxDepth < 1 || st.MaxDepth > uint64(capacity) {
				t.Errorf("%d batch ends, stats %+v", ends, st)
			}
		})
	}
}

// TestRingDiscard: with the consumer held, the ring fills; later items are refused, counted
// exactly, and reported with the dropped item; everything accepted is handled after release.
func TestRingDiscard(t *testing.T) {
	release := make(chan struct{})
	var handled atomic.Int64
	var reports []int
	var lastTotal uint64
	var nilReport bool
	r, err := NewRing[item](HandlerFunc[item](func(ev *item, _ int64, _ bool) {
		<-release
		handled.Add(1)
	}), WithCapacity(8), WithPolicy(Discard), WithReportInterval(0),
		WithDiscardFunc(func(d *item, total uint64) {
			if d == nil {
				nilReport = true
			} else {
				reports = append(reports, d.n)
			}
			lastTotal = total
		}))
	if err != nil {
		t.Fatal(err)
	}
	// The consumer takes slot 0 and blocks in the handler, holding the whole batch: at most 8
	// items fit, whatever it has taken.
	var full, ok int
	for i := 0; i < 100; i++ {
		switch err := r.Publish(func(ev *item) { ev.n = i }); err {
		case nil:
			ok++
		case ErrFull:
			full++
		default:
			t.Fatal(err)
		}
	}
	if ok != 8 || full != 92 {
		t.Fatalf("accepted %d refused %d, want 8 and 92", ok, full)
	}
	if len(reports) != 92 || reports[0] != 8 || reports[91] != 99 || lastTotal != 92 {
		t.Fatalf("discard reports %d first/last %v, total %d", len(reports), reports, lastTotal)
	}
	close(release)
	_ = r.Close()
	st := r.Stats()
	if st.Accepted != 8 || st.Discarded != 92 || st.Written != 8 || handled.Load() != 8 {
		t.Fatalf("stats %+v, handled %d", st, handled.Load())
	}
	if nilReport {
		t.Fatal("Close reported drops that were already reported")
	}
}

func TestRingDiscardRateLimitAndFinalReport(t *testing.T) {
	release := make(chan struct{})
	var calls int
	var final uint64
	r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) { <-release }),
		WithCapacity(1), WithPolicy(Block), WithReportInterval(1<<62),
		WithDiscardFunc(func(d *item, total uint64) {
			calls++
			if d == nil {
				final = total
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Publish(func(*item) {}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if err := r.TryPublish(func(*item) {}); err != ErrFull {
			t.Fatalf("TryPublish on a full Block ring: %v", err)
		}
	}
	close(release)
	_ = r.Close()
	if calls != 2 || final != 10 {
		t.Fatalf("calls %d final %d, want one report then a final one with 10", calls, final)
	}
	if err := r.Publish(func(*item) {}); err != ErrClosed {
		t.Fatalf("Publish after Close: %v", err)
	}
	if err := r.TryPublish(func(*item) {}); err != ErrClosed {
		t.Fatalf("TryPublish after Close: %v", err)
	}
}

func TestRingHandlerPanic(t *testing.T) {
	var seen []int
	var errs []error
	r, err := NewRing[item](HandlerFunc[item](func(ev *item, _ int64, _ bool) {
		if ev.n%10 == 3 {
			panic("boom")
		}
		seen = append(seen, ev.n)
	}), WithReportInterval(0), WithErrorFunc(func(err error, total uint64) { errs = append(errs, err) }))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if err := r.Publish(func(ev *item) { ev.n = i }); err != nil {
			t.Fatal(err)
		}
	}
	_ = r.Close()
	st := r.Stats()
	if st.Panics != 10 || st.Failed != 10 || st.Written != 90 || len(seen) != 90 || len(errs) != 10 {
		t.Fatalf("stats %+v, seen %d, errors %d", st, len(seen), len(errs))
	}
	var pe *PanicError
	if !errors.As(errs[0], &pe) || pe.Value != "boom" || pe.Op != "handler" {
		t.Fatalf("error %v", errs[0])
	}
}

func TestRingFillPanic(t *testing.T) {
	var seen []int
	r, err := NewRing[item](HandlerFunc[item](func(ev *item, _ int64, _ bool) { seen = append(seen, ev.n) }))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		func() {
			defer func() {
				if v := recover(); (v != nil) != (i == 2) {
					t.Errorf("item %d: recovered %v", i, v)
				}
			}()
			_ = r.Publish(func(ev *item) {
				ev.n = i
				if i == 2 {
					panic("fill")
				}
			})
		}()
	}
	_ = r.Close()
	st := r.Stats()
	if len(seen) != 4 || seen[2] != 3 || st.Accepted != 5 || st.Written != 4 || st.Failed != 1 {
		t.Fatalf("seen %v stats %+v", seen, st)
	}
}

func TestRingFlush(t *testing.T) {
	var handled atomic.Int64
	r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) { handled.Add(1) }), WithCapacity(4))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 50; i++ {
		_ = r.Publish(func(*item) {})
		if i%7 == 0 {
			r.Flush()
			if got := handled.Load(); got != int64(i) {
				t.Fatalf("after Flush: %d handled, want %d", got, i)
			}
		}
	}
	_ = r.Close()
	r.Flush() // after Close: returns at once
}

// TestRingCloseWhilePublishing: concurrent Close calls while producers publish; every accepted
// item is handled, later ones get ErrClosed, no deadlock.
func TestRingCloseWhilePublishing(t *testing.T) {
	for _, pol := range []Policy{Block, Discard} {
		t.Run(pol.String(), func(t *testing.T) {
			var handled atomic.Uint64
			r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) { handled.Add(1) }),
				WithCapacity(32), WithPolicy(pol))
			if err != nil {
				t.Fatal(err)
			}
			var ok atomic.Uint64
			var wg sync.WaitGroup
			started := make(chan struct{}, 4)
			for p := 0; p < 4; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						err := r.Publish(func(*item) {})
						if err == ErrClosed {
							return
						}
						if err == nil {
							ok.Add(1)
						}
						if i == 100 {
							started <- struct{}{}
						}
					}
				}()
			}
			for i := 0; i < 4; i++ {
				<-started
			}
			var cw sync.WaitGroup
			for c := 0; c < 3; c++ {
				cw.Add(1)
				go func() { defer cw.Done(); _ = r.Close() }()
			}
			cw.Wait()
			wg.Wait()
			st := r.Stats()
			if st.Accepted != ok.Load() || st.Written != ok.Load() || handled.Load() != ok.Load() {
				t.Fatalf("accepted by producers %d, stats %+v, handled %d", ok.Load(), st, handled.Load())
			}
		})
	}
}

// TestRingZeroAllocs: publishing through a closure that captures locals allocates nothing.
func TestRingZeroAllocs(t *testing.T) {
	r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) {}))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, n := 1, 0
	if a := testing.AllocsPerRun(10000, func() {
		n++
		_ = r.Publish(func(ev *item) { ev.producer, ev.n = p, n })
	}); a != 0 {
		t.Fatalf("%v allocations per Publish", a)
	}
}
