package export

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/trace"
)

// Encoder turns batches of finished spans into request bodies of one protocol. The exporter calls
// it from one goroutine at a time, so it may keep state and reuse it from batch to batch.
type Encoder interface {
	// ContentType is the Content-Type of the bodies.
	ContentType() string
	// Encode appends to dst the body carrying spans (one or more) and returns it.
	Encode(dst []byte, spans []*trace.FinishedSpan) ([]byte, error)
}

// PartialSuccessReader is implemented by encoders whose protocol can accept part of a batch (OTLP's
// partial success): Rejected reads the body of a 2xx answer and returns how many of the sent spans
// the backend refused anyway, and its message.
type PartialSuccessReader interface {
	Rejected(body []byte) (n int, msg string)
}

// ErrorBodyReader is implemented by encoders whose protocol answers errors in a body of its own
// (OTLP/HTTP protobuf: a google.rpc.Status): ErrorMessage returns the message of a non-2xx answer's
// body, or "" to have the body shown as text.
type ErrorBodyReader interface {
	ErrorMessage(body []byte) string
}

// Stats counts the spans given to an exporter. Once Close has returned, Spans == Exported +
// Dropped + Failed exactly; before, the difference is the spans queued or being sent (Pending).
type Stats struct {
	Spans     uint64 // sampled spans given to Report
	Exported  uint64 // taken by the backend (a 2xx answer, less what a partial success rejected)
	Dropped   uint64 // never sent: the queue was full (Discard), Report came after Close, or Close gave up first
	Failed    uint64 // sent and not taken: a permanent error, a partial rejection, retries used up, or cut off by Close
	Unsampled uint64 // unsampled spans given to Report: never exported, not part of Spans
	Batches   uint64 // batches encoded
	Requests  uint64 // requests made, retries included
	Retries   uint64 // requests that were retries
	Bytes     uint64 // request body bytes sent (after compression)
	Errors    uint64 // errors reported (see WithErrorReporter), counted whether or not a reporter is set
}

// Pending returns the spans queued or being sent: Spans - Exported - Dropped - Failed.
func (s Stats) Pending() uint64 { return s.Spans - s.Exported - s.Dropped - s.Failed }

// item is a slot of the queue: a span, or a request to send what is batched.
type item struct {
	span  *trace.FinishedSpan
	flush uint8         // flushTimer or flushNow; only when span is nil
	done  chan struct{} // flushNow: closed once what came before is sent
}

// sendReq is a batch handed to the sender goroutine, and or a Flush waiting for it.
type sendReq struct {
	spans []*trace.FinishedSpan
	done  chan struct{} // closed by the sender once it is there
}

// numBuffers is the number of batch buffers: one filling, one waiting for the sender, one sending.
const numBuffers = 3

const (
	flushTimer = 1 // the batch delay may have passed
	flushNow   = 2 // Flush: send what is batched
)

// Exporter is a trace.Reporter that sends sampled spans to a tracing backend in batches, off the
// caller's path: Report puts the span in a bounded queue (asyncwriter.Ring); its goroutine batches
// the spans by size and time and hands each batch to a second goroutine, which encodes it with the
// Encoder and posts it, retrying with backoff while the backend cannot take it; one batch waits
// while another is sent, then the queue fills. Its methods are safe for concurrent use. Close drains
// everything within a deadline and stops both goroutines.
type Exporter struct {
	cfg     config
	enc     Encoder
	partial PartialSuccessReader
	errBody ErrorBodyReader
	ring    *asyncwriter.Ring[item]
	client  *http.Client
	ownTr   *http.Transport // the default client's transport, closed by Close

	spans, exported, failed, unsampled         atomic.Uint64
	dropped                                    [numDropCauses]atomic.Uint64 // by cause
	batches, requests, retries, bytes, errorsN atomic.Uint64
	dropReported                               [numDropCauses]atomic.Uint64 // dropped at the last drop report
	lastDropReport                             atomic.Int64                 // unix nanoseconds
	abandon                                    atomic.Bool                  // Close's deadline passed
	sendCtx                                    context.Context
	cancelSend                                 context.CancelFunc
	closeOnce                                  sync.Once
	closeErr                                   error
	timerMu                                    sync.Mutex // guards closed and ticks.Add
	closed                                     bool
	ticks                                      sync.WaitGroup
	timer                                      *time.Timer

	sendq      chan sendReq               // batches for the sender
	free       chan []*trace.FinishedSpan // empty batch buffers
	senderDone chan struct{}

	// The consumer's state (the ring's goroutine; Close's after the ring is closed).
	batch []*trace.FinishedSpan
	first time.Time // when the oldest span of batch came
	armed bool      // the timer is set

	// The sender's state.
	body []byte
	zip  zipper
	resp []byte
}

var _ trace.Reporter = (*Exporter)(nil)

// New returns an exporter posting what enc encodes to the URL of WithEndpointURL (required), and
// starts its goroutine. Protocols have their own constructors (NewZipkin here; OTLP in the nested
// module github.com/tracemdc/tracemdc/export/otlp), which read the environment first. The error
// names every bad option.
func New(enc Encoder, opts ...Option) (*Exporter, error) {
	if enc == nil {
		return nil, errors.New("export: nil encoder")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	e := &Exporter{cfg: cfg, enc: enc, client: cfg.client}
	e.partial, _ = enc.(PartialSuccessReader)
	e.errBody, _ = enc.(ErrorBodyReader)
	if e.client == nil {
		e.ownTr = &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
		}
		e.client = &http.Client{Transport: e.ownTr}
	}
	e.sendCtx, e.cancelSend = context.WithCancel(context.Background())
	e.sendq = make(chan sendReq, 1)
	e.free = make(chan []*trace.FinishedSpan, numBuffers)
	for i := 1; i < numBuffers; i++ {
		e.free <- make([]*trace.FinishedSpan, 0, min(cfg.batchSize, 4096))
	}
	e.batch = make([]*trace.FinishedSpan, 0, min(cfg.batchSize, 4096))
	e.senderDone = make(chan struct{})
	e.timer = time.AfterFunc(time.Hour, e.tick)
	e.timer.Stop()
	e.ring, err = asyncwriter.NewRing[item](asyncwriter.HandlerFunc[item](e.onEvent), asyncwriter.WithCapacity(cfg.capacity), asyncwriter.WithPolicy(cfg.policy))
	if err != nil {
		e.cancelSend()
		return nil, fmt.Errorf("export: %w", err)
	}
	go e.sender()
	return e, nil
}

// Endpoint returns the URL the exporter posts to, its user info (credentials) shown as xxxxx.
func (e *Exporter) Endpoint() string { return e.cfg.shown }

// Report queues a sampled span for export; an unsampled one is only counted (Stats.Unsampled). With
// the Discard policy (the default) it never waits: a span that finds the queue full is dropped and
// counted. With Block it waits for room. After Close the span is dropped and counted.
func (e *Exporter) Report(s *trace.FinishedSpan) {
	if e == nil || s == nil {
		return
	}
	if !s.Sampled() {
		e.unsampled.Add(1)
		return
	}
	e.spans.Add(1)
	if err := e.ring.Publish(func(it *item) { it.span = s }); err != nil {
		cause := dropFull
		if errors.Is(err, asyncwriter.ErrClosed) {
			cause = dropClosed
		}
		e.drop(1, cause)
	}
}

// Causes of drops.
const (
	dropFull      = iota // the queue was full
	dropClosed           // Report after Close
	dropAbandoned        // still queued when Close gave up
	numDropCauses
)

var dropMsgs = [numDropCauses]string{"queue full", "reported after Close", "still queued when Close gave up"}

// drop counts n spans as dropped and reports the drops, at most once per second (the count since
// the last report travels with the next; Close reports the rest).
func (e *Exporter) drop(n int, cause int) {
	e.dropped[cause].Add(uint64(n))
	now := time.Now().UnixNano()
	last := e.lastDropReport.Load()
	if last != 0 && now-last < int64(time.Second) || !e.lastDropReport.CompareAndSwap(last, now) {
		return
	}
	e.reportDrops()
}

// reportDrops reports the spans dropped since the last report, one error per cause.
func (e *Exporter) reportDrops() {
	var total uint64
	for c := range e.dropped {
		total += e.dropped[c].Load()
	}
	for c := range e.dropped {
		n := e.dropped[c].Load()
		prev := e.dropReported[c].Swap(n)
		if n <= prev {
			continue
		}
		msg := dropMsgs[c]
		if c == dropFull {
			msg += " (" + e.cfg.policy.String() + " policy)"
		}
		e.report(&Error{Op: "drop", Endpoint: e.cfg.shown, Spans: int(n - prev), Total: total, Msg: msg})
	}
}

func (e *Exporter) report(err error) {
	e.errorsN.Add(1)
	for _, r := range e.cfg.errRs {
		e.callReportError(r, err)
	}
}

func (e *Exporter) callReportError(r trace.ErrorReporter, err error) {
	defer func() { _ = recover() }() // an error reporter's panic must not stop the exporter
	r.ReportError(err)
}

// Stats returns the counters. They are read one by one: a snapshot taken while spans flow may be
// slightly inconsistent; after Close it is exact.
func (e *Exporter) Stats() Stats {
	return Stats{
		Spans:     e.spans.Load(),
		Exported:  e.exported.Load(),
		Dropped:   e.dropped[dropFull].Load() + e.dropped[dropClosed].Load() + e.dropped[dropAbandoned].Load(),
		Failed:    e.failed.Load(),
		Unsampled: e.unsampled.Load(),
		Batches:   e.batches.Load(),
		Requests:  e.requests.Load(),
		Retries:   e.retries.Load(),
		Bytes:     e.bytes.Load(),
		Errors:    e.errorsN.Load(),
	}
}

// onEvent is the queue's handler, run on the ring's goroutine: it fills the batch and hands it to
// the sender when it is full, when its oldest span has waited the batch delay, or on Flush.
func (e *Exporter) onEvent(it *item, _ int64, endOfBatch bool) {
	if s := it.span; s != nil {
		it.span = nil
		if e.abandon.Load() {
			e.dropped[dropAbandoned].Add(1)
			return
		}
		if len(e.batch) == 0 {
			e.first = time.Now()
		}
		e.batch = append(e.batch, s)
		if len(e.batch) >= e.cfg.batchSize {
			e.handOff(nil)
		}
	} else if f := it.flush; f != 0 {
		done := it.done
		it.flush, it.done = 0, nil
		if f == flushTimer {
			e.armed = false
		}
		if f == flushNow || len(e.batch) > 0 && time.Since(e.first) >= e.cfg.batchDelay {
			e.handOff(done)
		}
	}
	if endOfBatch && len(e.batch) > 0 && !e.armed {
		if wait := e.cfg.batchDelay - time.Since(e.first); wait > 0 {
			e.armed = true
			e.timer.Reset(wait)
		} else {
			e.handOff(nil)
		}
	}
}

// handOff gives the batch (if any) and done (if any) to the sender, waiting while the sender has a
// batch waiting already, and starts a new batch in a free buffer.
func (e *Exporter) handOff(done chan struct{}) {
	if len(e.batch) == 0 {
		if done != nil {
			e.sendq <- sendReq{done: done}
		}
		return
	}
	e.sendq <- sendReq{spans: e.batch, done: done}
	e.batch = <-e.free // never waits: one buffer waits, one is sent, this one was free
}

// sender is the goroutine that encodes and posts the batches.
func (e *Exporter) sender() {
	defer close(e.senderDone)
	for req := range e.sendq {
		if n := len(req.spans); n > 0 {
			if e.abandon.Load() {
				e.dropped[dropAbandoned].Add(uint64(n))
			} else {
				e.send(req.spans)
			}
			clear(req.spans) // the records may be collected
			e.free <- req.spans[:0]
		}
		if req.done != nil {
			close(req.done)
		}
	}
}

// tick runs when the batch delay has passed: it asks the goroutine to look at its batch. When the
// queue is full (the goroutine is held by a sender that cannot keep up) it tries again a batch delay
// later: the goroutine re-arms the timer only once it got a tick, so a lost one would leave the
// last spans of an outage waiting for a Flush.
func (e *Exporter) tick() {
	e.timerMu.Lock()
	if e.closed {
		e.timerMu.Unlock()
		return
	}
	e.ticks.Add(1)
	e.timerMu.Unlock()
	defer e.ticks.Done()
	if errors.Is(e.ring.TryPublish(setFlushTimer), asyncwriter.ErrFull) {
		e.timerMu.Lock()
		if !e.closed {
			e.timer.Reset(e.cfg.batchDelay)
		}
		e.timerMu.Unlock()
	}
}

func setFlushTimer(it *item) { it.span, it.flush, it.done = nil, flushTimer, nil }

// Flush returns when every span reported before the call has been sent and answered (exported or
// failed), retries included, or dropped; it does not wait for the batch delay.
func (e *Exporter) Flush() {
	done := make(chan struct{})
	mark := func(it *item) { it.span, it.flush, it.done = nil, flushNow, done }
	for {
		err := e.ring.TryPublish(mark)
		if err == nil {
			break
		}
		if errors.Is(err, asyncwriter.ErrClosed) {
			<-e.senderDone // Close sends everything, or gives up
			return
		}
		e.ring.Flush() // full: wait for room
	}
	<-done
}

// Close is Shutdown with the deadline of WithCloseTimeout.
func (e *Exporter) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.closeTimeout)
	defer cancel()
	return e.Shutdown(ctx)
}

// Shutdown stops taking spans (Report then drops and counts them), sends every span queued, and
// stops the exporter's goroutine. When ctx ends first, the batch being sent is cut off (its spans
// count as failed), the spans still queued are dropped, and Shutdown returns an *Error saying how
// many spans were not exported. When any span was dropped or failed, the error reporters get the
// totals last (an *Error of op "totals"). Only the first call does the work; later ones return its
// result.
// Afterwards Stats is exact and no goroutine of the exporter is left.
func (e *Exporter) Shutdown(ctx context.Context) error {
	e.closeOnce.Do(func() { e.closeErr = e.shutdown(ctx) })
	return e.closeErr
}

func (e *Exporter) shutdown(ctx context.Context) error {
	before := e.Stats()
	stopped := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(stopped)
		e.abandon.Store(true)
		e.cancelSend()
	})
	_ = e.ring.Close()
	// The goroutine has exited: its state is Close's now.
	e.timerMu.Lock()
	e.closed = true
	e.timerMu.Unlock()
	e.timer.Stop()
	e.ticks.Wait()
	e.handOff(nil) // the sender drops it if the deadline has passed
	close(e.sendq)
	<-e.senderDone
	if !stop() {
		<-stopped
	}
	e.cancelSend()
	if e.ownTr != nil {
		e.ownTr.CloseIdleConnections()
	} else {
		e.client.CloseIdleConnections()
	}
	after := e.Stats()
	e.reportDrops()
	var err error
	if e.abandon.Load() {
		lost := int((after.Dropped - before.Dropped) + (after.Failed - before.Failed))
		err = &Error{Op: "close", Endpoint: e.cfg.shown, Spans: lost, Msg: "deadline passed", Err: ctx.Err()}
		e.report(err)
	}
	if lost := after.Dropped + after.Failed; lost > 0 {
		// The account, once, where the drops and failures were reported one by one.
		e.report(&Error{Op: "totals", Endpoint: e.cfg.shown, Spans: int(lost), Total: after.Spans,
			Msg: fmt.Sprintf("%d exported, %d dropped, %d failed", after.Exported, after.Dropped, after.Failed)})
	}
	return err
}
