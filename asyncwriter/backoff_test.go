package asyncwriter

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// withNaps replaces the sleeps of WaitSleep and WaitBackoff (tests only).
func withNaps(n naps) Option {
	return bothOption(func(c *config) { c.naps = n })
}

// forever is a sleep no test outlives: a consumer still in it when a test waits for it has not
// been woken.
var forever = naps{sleep: time.Hour, min: time.Hour, max: time.Hour, parkAfter: 2 * time.Hour}

// within fails the test if f has not returned after a generous delay: what it waits for must not
// depend on a consumer's sleep (an hour here).
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: still waiting after 20 s: the sleeping consumer was not woken", what)
	}
}

// eventually polls cond until it holds, failing the test after a generous delay.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after 20 s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// settle waits until the consumer sleeps with nothing left to handle (asleep). After a Flush it
// may be parked instead (it does not sleep while a flusher waits, and then waits for a publish):
// then one more item (publish) wakes it, and it goes to sleep after handling it.
func settle(t *testing.T, asleep, parked func() bool, publish func()) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !asleep() {
		if parked() {
			publish()
		}
		if time.Now().After(deadline) {
			t.Fatal("the consumer does not go to sleep")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSleepingRingWoken: a Ring whose consumer sleeps for an hour between looks (WaitSleep,
// WaitBackoff) still serves at once a Flush, a Block producer waiting for room, a ring half full
// and Close: those wake it.
func TestSleepingRingWoken(t *testing.T) {
	for _, ws := range []WaitStrategy{WaitSleep, WaitBackoff} {
		t.Run(ws.String(), func(t *testing.T) {
			var mu sync.Mutex
			var got []int
			h := HandlerFunc[item](func(ev *item, _ int64, _ bool) {
				mu.Lock()
				got = append(got, ev.n)
				mu.Unlock()
			})
			count := func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(got)
			}
			r, err := NewRing[item](h, WithCapacity(16), WithWaitStrategy(ws), withNaps(forever))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			publish := func(k int) {
				for i := 0; i < k; i++ {
					if err := r.Publish(func(ev *item) { ev.n = n }); err != nil {
						t.Error(err)
					}
					n++
				}
			}
			// The consumer is asleep (it found the ring empty at its start).
			eventually(t, "consumer asleep", func() bool { return r.parked.Load() == consumerSleeping })
			publish(3)
			within(t, "Flush", r.Flush)
			if c := count(); c != 3 {
				t.Fatalf("after Flush %d items handled, want 3", c)
			}
			settle(t, func() bool { return count() == n && r.parked.Load() == consumerSleeping },
				func() bool { return r.parked.Load() == consumerParked }, func() { publish(1) })
			// Half the ring waiting wakes it, with no Flush.
			publish(8)
			eventually(t, "half the ring handled", func() bool { return count() == n })
			// A Block producer publishing past the capacity waits for room, which wakes it.
			within(t, "Publish into a full ring", func() { publish(100) })
			publish(1)
			within(t, "Close", func() { _ = r.Close() })
			if c, st := count(), r.Stats(); c != n || st.Written != uint64(n) || st.Accepted != uint64(n) {
				t.Fatalf("%d items handled, stats %+v, want %d", c, st, n)
			}
			for i, v := range got {
				if v != i {
					t.Fatalf("item %d is %d", i, v)
				}
			}
		})
	}
}

// TestSleepingWriterWoken: the same for a Writer: Flush, half its lines, half its bytes, a Block
// producer waiting for room, and Close wake a consumer sleeping for an hour.
func TestSleepingWriterWoken(t *testing.T) {
	for _, ws := range []WaitStrategy{WaitSleep, WaitBackoff} {
		t.Run(ws.String(), func(t *testing.T) {
			dst := &lineSink{}
			// 16 lines of 64 bytes: 1 KiB of ring.
			w := newTestWriter(t, dst, WithCapacity(16), WithSlotSize(64), WithWaitStrategy(ws), withNaps(forever))
			asleep := func() bool { return w.parked.Load() == consumerSleeping }
			n := 0
			write := func(k, size int) {
				for i := 0; i < k; i++ {
					l := fmt.Appendf(nil, "0 %d ", n)
					for len(l) < size-1 {
						l = append(l, 'x')
					}
					if _, err := w.Write(append(l, '\n')); err != nil {
						t.Error(err)
					}
					n++
				}
			}
			written := func(k int) func() bool { return func() bool { return len(dst.lines()) == k } }
			eventually(t, "consumer asleep", asleep)
			write(3, 20)
			within(t, "Flush", func() { _ = w.Flush() })
			if l := len(dst.lines()); l != 3 {
				t.Fatalf("after Flush %d lines written, want 3", l)
			}
			parked := func() bool { return w.parked.Load() == consumerParked }
			settle(t, func() bool { return written(n)() && asleep() }, parked, func() { write(1, 20) })
			write(8, 20) // half the lines
			eventually(t, "half the lines written", written(n))
			settle(t, func() bool { return written(n)() && asleep() }, parked, func() { write(1, 20) })
			write(2, 300) // 600 bytes: more than half the bytes, in 2 lines
			eventually(t, "half the bytes written", written(n))
			within(t, "Write into a full ring", func() { write(100, 40) })
			write(1, 20)
			within(t, "Close", func() { _ = w.Close() })
			lines := dst.lines()
			if st := w.Stats(); len(lines) != n || st.Written != uint64(n) || st.Accepted != uint64(n) || dst.torn != 0 {
				t.Fatalf("%d lines written (%d torn), stats %+v, want %d", len(lines), dst.torn, st, n)
			}
			checkOrder(t, lines, 1)
		})
	}
}

// spaced publishes n items to r (or lines to w) one at a time, spin-waiting gap between them:
// traffic too sparse for the consumer to find more than one item waiting if it were woken each
// time, and dense next to BackoffMin.
func spaced(n int, gap time.Duration, publish func(i int)) {
	for i := 0; i < n; i++ {
		publish(i)
		for t0 := time.Now(); time.Since(t0) < gap; {
		}
	}
}

// TestBackoffBatches: with WaitBackoff, items published one at a time, 50 µs apart, are handled in
// batches (the consumer sleeps and nobody wakes it), where WaitPark wakes the consumer for nearly
// every one. It is what takes a wake-up and a write per item off a service's quiet traffic.
func TestBackoffBatches(t *testing.T) {
	const n = 200
	r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) {}), WithWaitStrategy(WaitBackoff))
	if err != nil {
		t.Fatal(err)
	}
	spaced(n, 50*time.Microsecond, func(i int) { _ = r.Publish(func(ev *item) { ev.n = i }) })
	_ = r.Close()
	if st := r.Stats(); st.Written != n || st.Batches > n/2 {
		t.Errorf("ring: %d items in %d batches, want %d items in at most %d batches", st.Written, st.Batches, n, n/2)
	}
	dst := &lineSink{}
	w := newTestWriter(t, dst, WithWaitStrategy(WaitBackoff))
	spaced(n, 50*time.Microsecond, func(i int) { _, _ = w.Write(fmt.Appendf(nil, "0 %d\n", i)) })
	_ = w.Close()
	if st := w.Stats(); st.Written != n || dst.writes > n/2 {
		t.Errorf("writer: %d lines in %d writes, want %d lines in at most %d writes", st.Written, dst.writes, n, n/2)
	}
	checkOrder(t, dst.lines(), 1)
}

// TestBackoffParksWhenIdle: an idle WaitBackoff consumer parks after parkAfter (it no longer wakes
// up at all), and the next publish wakes it.
func TestBackoffParksWhenIdle(t *testing.T) {
	n := naps{sleep: SleepInterval, min: time.Millisecond, max: 2 * time.Millisecond, parkAfter: 10 * time.Millisecond}
	var mu sync.Mutex
	handled := 0
	r, err := NewRing[item](HandlerFunc[item](func(*item, int64, bool) {
		mu.Lock()
		handled++
		mu.Unlock()
	}), WithWaitStrategy(WaitBackoff), withNaps(n))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for round := 1; round <= 3; round++ {
		eventually(t, "consumer parked", func() bool { return r.parked.Load() == consumerParked })
		_ = r.Publish(func(ev *item) { ev.n = round })
		eventually(t, "item handled", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return handled == round
		})
	}
}
