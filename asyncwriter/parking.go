package asyncwriter

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The consumer's states, in parking.parked.
const (
	consumerRunning  = 0
	consumerParked   = 1 // WaitPark (and WaitBackoff after BackoffParkAfter): any publish wakes it
	consumerSleeping = 2 // WaitSleep, WaitBackoff: only kick wakes it (see kick)
)

// parking is what a Ring and a Writer share around their consumer goroutine: how the idle
// consumer sleeps and is woken by producers, and how producers waiting for room and flushers
// waiting for the consumer sleep until it makes progress or exits.
type parking struct {
	_       pad
	parked  atomic.Int32 // the consumer's state: consumerRunning, consumerParked or consumerSleeping
	_       pad
	waiters atomic.Int32 // goroutines in wait
	urgent  atomic.Int32 // goroutines in wait: while not 0 a sleeping strategy parks instead of sleeping

	wake chan struct{} // token from whoever moved parked to consumerRunning (a producer, Close) to the consumer
	done chan struct{} // closed when the consumer goroutine has returned

	mu     sync.Mutex
	cond   sync.Cond
	exited bool // guarded by mu

	naps naps // the sleeps of WaitSleep and WaitBackoff

	// consumer only
	timer *time.Timer   // the sleeps of WaitSleep and WaitBackoff
	nap   time.Duration // WaitBackoff: the next sleep
	idled time.Duration // WaitBackoff: time slept since the consumer last found work
}

// naps are the sleeps of WaitSleep and WaitBackoff: SleepInterval, BackoffMin, BackoffMax and
// BackoffParkAfter, unless a test changes them.
type naps struct {
	sleep, min, max, parkAfter time.Duration
}

var defaultNaps = naps{sleep: SleepInterval, min: BackoffMin, max: BackoffMax, parkAfter: BackoffParkAfter}

func (p *parking) init(n naps) {
	p.wake = make(chan struct{}, 1)
	p.done = make(chan struct{})
	p.cond.L = &p.mu
	p.naps = n
	p.nap = n.min
}

// wakeConsumer wakes the consumer if it is parked. Producers call it after publishing, when they
// see parked set.
func (p *parking) wakeConsumer() {
	if p.parked.CompareAndSwap(consumerParked, consumerRunning) {
		p.wake <- struct{}{} // never blocks: only the winner of the CAS sends, the consumer takes it
	}
}

// kick wakes the consumer whether it is parked or sleeping: Close does.
func (p *parking) kick() {
	for {
		s := p.parked.Load()
		if s == consumerRunning {
			return
		}
		if p.parked.CompareAndSwap(s, consumerRunning) {
			p.wake <- struct{}{}
			return
		}
	}
}

// kickSleeper wakes the consumer if it is sleeping (WaitSleep, WaitBackoff). A parked consumer
// needs no kick: the next publish wakes it.
func (p *parking) kickSleeper() {
	if p.parked.CompareAndSwap(consumerSleeping, consumerRunning) {
		p.wake <- struct{}{}
	}
}

// wakeOnPublish is what a producer does after publishing when it sees parked set (s, not
// consumerRunning): wake a parked consumer always, a sleeping one only when pressed (the ring
// is half full).
func (p *parking) wakeOnPublish(s int32, pressed bool) {
	if s == consumerParked {
		p.wakeConsumer()
	} else if pressed {
		p.kickSleeper()
	}
}

// worked tells WaitBackoff that the consumer found work: its next sleep is the shortest again.
func (p *parking) worked() {
	p.nap, p.idled = p.naps.min, 0
}

// idle is the consumer's wait for work, by strategy s. ready reports whether there is work (or
// the consumer should look at closing): to park, the consumer sets parked, then asks ready once
// more. A producer publishes, then looks at parked; one of the two sees the other (sequentially
// consistent atomics), so no wake-up is lost. pressed reports whether the consumer must not sleep
// now (the ring is half full, or closing): to sleep, the consumer sets parked, then asks pressed
// and looks for goroutines in wait; a producer that makes pressed true, a goroutine entering wait
// and Close look at parked after and kick a sleeping consumer, so again no wake-up is lost.
func (p *parking) idle(s WaitStrategy, ready, pressed func() bool) {
	switch s {
	case WaitYield:
		runtime.Gosched()
	case WaitSleep:
		p.sleep(p.naps.sleep, ready, pressed)
	case WaitBackoff:
		if p.idled >= p.naps.parkAfter {
			p.park(ready)
			p.worked() // a publish (or Close) woke it
			return
		}
		p.sleep(p.nap, ready, pressed)
		p.idled += p.nap
		p.nap = min(2*p.nap, p.naps.max)
	default:
		p.park(ready)
	}
}

// park parks the consumer until a producer publishes (or Close kicks it).
func (p *parking) park(ready func() bool) {
	p.parked.Store(consumerParked)
	if ready() && p.parked.CompareAndSwap(consumerParked, consumerRunning) {
		return
	}
	<-p.wake
}

// sleep puts the consumer to sleep for d, or until kicked. While a goroutine waits in wait, or
// pressed says so, it parks instead: then the next publish wakes it.
func (p *parking) sleep(d time.Duration, ready, pressed func() bool) {
	p.parked.Store(consumerSleeping)
	if p.urgent.Load() != 0 || pressed() {
		if !p.parked.CompareAndSwap(consumerSleeping, consumerRunning) {
			<-p.wake // kicked meanwhile: take the token
		}
		p.park(ready)
		return
	}
	if p.timer == nil {
		p.timer = time.NewTimer(d)
	} else {
		p.timer.Reset(d)
	}
	select {
	case <-p.wake: // kicked: parked is consumerRunning again
		if !p.timer.Stop() {
			select { // a timer of the asynchronous kind (GODEBUG asynctimerchan=1) may have fired
			case <-p.timer.C:
			default:
			}
		}
	case <-p.timer.C:
		if !p.parked.CompareAndSwap(consumerSleeping, consumerRunning) {
			<-p.wake // kicked as the timer fired: take the token
		}
	}
}

// wait returns true once ok does, or false if the consumer exits first. ok must turn true only
// through progress the consumer announces with notify. A sleeping consumer is woken first, and
// does not sleep while a goroutine waits here (see sleep): a flush or a producer waiting for room
// is served at once. A few yields come before sleeping, since a consumer that is running frees
// room within microseconds.
func (p *parking) wait(ok func() bool) bool {
	if ok() {
		return true
	}
	p.urgent.Add(1)
	defer p.urgent.Add(-1)
	p.kickSleeper()
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
