package asyncwriter

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// parking is what a Ring and a Writer share around their consumer goroutine: how the idle
// consumer sleeps and is woken by producers, and how producers waiting for room and flushers
// waiting for the consumer sleep until it makes progress or exits.
type parking struct {
	_       pad
	parked  atomic.Int32 // 1 while the consumer is parked (or about to park)
	_       pad
	waiters atomic.Int32 // goroutines in wait

	wake chan struct{} // token from a producer (or Close) to the parked consumer
	done chan struct{} // closed when the consumer goroutine has returned

	mu     sync.Mutex
	cond   sync.Cond
	exited bool // guarded by mu
}

func (p *parking) init() {
	p.wake = make(chan struct{}, 1)
	p.done = make(chan struct{})
	p.cond.L = &p.mu
}

// wakeConsumer wakes the consumer if it is parked. Producers call it after publishing, when they
// see parked set.
func (p *parking) wakeConsumer() {
	if p.parked.CompareAndSwap(1, 0) {
		p.wake <- struct{}{} // never blocks: only the winner of the CAS sends, the consumer takes it
	}
}

// idle is the consumer's wait for work, by strategy s. ready reports whether there is work (or
// the consumer should look at closing): with WaitPark the consumer sets parked, then asks ready
// once more. A producer publishes, then looks at parked; one of the two sees the other
// (sequentially consistent atomics), so no wake-up is lost.
func (p *parking) idle(s WaitStrategy, ready func() bool) {
	switch s {
	case WaitYield:
		runtime.Gosched()
	case WaitSleep:
		time.Sleep(SleepInterval)
	default:
		p.parked.Store(1)
		if ready() && p.parked.CompareAndSwap(1, 0) {
			return
		}
		<-p.wake
	}
}

// wait returns true once ok does, or false if the consumer exits first. ok must turn true only
// through progress the consumer announces with notify. A few yields come before sleeping, since
// a consumer that is running frees room within microseconds.
func (p *parking) wait(ok func() bool) bool {
	for i := 0; i < 4; i++ {
		if ok() {
			return true
		}
		runtime.Gosched()
	}
	p.waiters.Add(1)
	p.mu.Lock()
	for !ok() && !p.exited {
		p.cond.Wait()
	}
	res := ok()
	p.mu.Unlock()
	p.waiters.Add(-1)
	return res
}

// notify wakes the goroutines in wait; the consumer calls it after storing its progress.
func (p *parking) notify() {
	if p.waiters.Load() != 0 {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}
}

// exit is the consumer's last call: goroutines in wait stop waiting for it.
func (p *parking) exit() {
	p.mu.Lock()
	p.exited = true
	p.cond.Broadcast()
	p.mu.Unlock()
}
