package digest

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/rolling"
	"github.com/tracemdc/tracemdc/trace"
)

const (
	// writeThreshold is the buffered size at which a file's buffer is written before the end of
	// the batch.
	writeThreshold = 256 << 10
	// maxPending is the most bytes kept for a digest file whose write failed, to be written again
	// with the next batch; beyond it the buffered lines are dropped and counted in Stats.Lost.
	maxPending = 4 << 20
	// maxStatPending is the same for a stat file (Stats.StatLost).
	maxStatPending = 1 << 20
	// maxDroppedIDs is the most dropped span ids written to the self log per second.
	maxDroppedIDs = 100
)

// ErrRootInUse is returned by New when another open Reporter of this process writes to the same
// tracelog directory: two reporters would each roll and prune the same files. It is found by package
// rolling's registry of open files (rolling.ErrFileInUse on tracer-self.log), which allows one writer
// per file name. Share one Reporter between tracers instead — every line carries its span's own
// local.app — or give each its own Root.
var ErrRootInUse = errors.New("digest: the log directory is already used by another open Reporter")

// Stats counts what a Reporter did. After Close, every span given to Report is in exactly one of
// Discarded, AfterClose, Disabled, Unsampled, Written, Lost, EncodePanics; with Config.Output, also
// in exactly one of Discarded, AfterClose, Disabled, Unsampled, OutputWritten, OutputLost,
// EncodePanics. With Config.OutputOnly only the second holds (no file: Written and Lost stay 0).
type Stats struct {
	Accepted     uint64 // spans taken into the queue
	Discarded    uint64 // spans refused because the queue was full (Discard policy)
	AfterClose   uint64 // spans reported after Close
	Disabled     uint64 // spans of disabled log types
	Unsampled    uint64 // unsampled spans: counted in stat lines, no digest line
	Written      uint64 // digest lines written to their files
	Lost         uint64 // digest lines lost to write errors
	EncodePanics uint64 // spans whose Encoder panicked (no line written)
	// ObserverPanics counts the calls of Config.Observer that panicked (the span's lines are
	// written all the same).
	ObserverPanics uint64
	WriteErrors    uint64 // failed opens and writes of digest, stat and self-log files
	StatLines      uint64 // stat lines written to their files (with OutputOnly: to Config.Output)
	StatLost       uint64 // stat lines lost to write errors
	StatResets     uint64 // stat tables printed before the interval's end and cleared, for holding MaxStatKeys keys
	Errors         uint64 // errors given to ReportError
	SelfLogLines   uint64 // lines written to tracer-self.log
	SelfLogLost    uint64 // tracer-self.log lines lost to write errors
	Suppressed     uint64 // self-log lines suppressed by rate limiting
	OutputWritten  uint64 // digest lines written to Config.Output
	OutputLost     uint64 // digest lines lost to failed Writes of Config.Output
	OutputLines    uint64 // lines of every kind (digest, stat, self) written to Config.Output
	OutputErrors   uint64 // failed Writes of Config.Output: each lost one line of some kind
}

// event is one item of the queue.
type event struct {
	span *trace.FinishedSpan
}

// fileKey names a digest or stat file: the safe log type and the shadow flag.
type fileKey struct {
	name   string
	shadow bool
}

// dest is one digest file with the lines buffered for it. Owned by the consumer goroutine.
type dest struct {
	lineFile
	dirty bool
}

// typeInfo is what the consumer resolved about a log type.
type typeInfo struct {
	name   string // safe for file names
	enc    Encoder
	http   bool
	client bool
	line   LineEncoder // the encoder when it writes whole lines (JSON only)
	rpc    *rpcEncoder // the encoder when it is an rpc one: rpc stat key and success rule
	stat   *statTable
	dests  [2]*dest // normal, shadow
	// detect: no encoder is registered for the log type, so the layout follows the span: HTTP spans
	// (see isHTTPSpan) are encoded by variants[0] (server) and variants[1] (client), typeInfos of
	// their own (encoder, stat table) that write to the files of this one (base).
	detect   bool
	variants [2]*typeInfo
	base     *typeInfo
}

// spanType returns the typeInfo that encodes and counts s, a span of the log type of ti: ti itself,
// or for a log type without a registered encoder and an HTTP span, ti's HTTP server or client
// variant. So WithLogType("spring-mvc") alone gives an HTTP server span SOFA's Spring MVC layout and
// the HTTP stat key and success rule: the layout follows what the span is, not its file name.
func spanType(ti *typeInfo, s *trace.FinishedSpan) *typeInfo {
	if !ti.detect || !isHTTPSpan(s) {
		return ti
	}
	i, enc := 0, httpServerEnc
	if s.Kind() == trace.KindClient {
		i, enc = 1, httpClientEnc
	}
	v := ti.variants[i]
	if v == nil {
		v = &typeInfo{name: ti.name, enc: enc, http: true, client: i == 1, base: ti}
		ti.variants[i] = v
	}
	return v
}

// files returns the typeInfo that holds the digest files of ti: ti, or the log type a variant
// belongs to.
func (ti *typeInfo) files() *typeInfo {
	if ti.base != nil {
		return ti.base
	}
	return ti
}

// Reporter is a trace.Reporter that writes one digest line per sampled span and aggregated stat
// lines per interval, through a queue and one consumer goroutine, and the tracer's own errors to
// tracer-self.log (it implements trace.ErrorReporter). All methods are safe for concurrent use.
// A nil *Reporter (what New returns with an error) does nothing: Report, ReportError and Flush
// return at once, Stats is zero and Close returns nil.
type Reporter struct {
	cfg  config
	ring *asyncwriter.Ring[event]
	self *selfLog
	out  *output  // Config.Output, nil without one
	stat *statAgg // nil when stat logs are off

	// consumer goroutine only (and Close, after the ring stopped)
	enc   lineEncoder
	types map[string]*typeInfo
	dests []*dest
	dirty []*dest

	// stat writers (the background goroutine, the consumer for a full table, then Close), under statMu
	statMu      sync.Mutex
	statFiles   map[fileKey]*lineFile
	statScratch []statLine

	// discards, from producers
	dropMu      sync.Mutex
	dropIDs     []string // trace id, span id pairs
	dropSec     int64    // Unix second of dropN
	dropN       int      // ids taken in dropSec
	dropMore    uint64   // ids not taken
	lastDiscard uint64

	afterClose, disabled, unsampled, written, lost atomic.Uint64
	encodePanics, writeErrors, statLines, resets   atomic.Uint64
	errorsN, observerPanics, statLost              atomic.Uint64

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
}

var (
	_ trace.Reporter      = (*Reporter)(nil)
	_ trace.ErrorReporter = (*Reporter)(nil)
)

// New makes a Reporter: it checks c (a value out of range is a *ConfigError naming the field), creates
// <root>/tracelog/, opens tracer-self.log, appends a line to
// static-info.log and starts the consumer and background goroutines. Digest and stat files are
// opened when their first line is written. Close must be called to write everything and stop the
// goroutines.
func New(c Config) (*Reporter, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	cfg := c.resolve()
	r := &Reporter{
		cfg:       cfg,
		types:     map[string]*typeInfo{},
		statFiles: map[fileKey]*lineFile{},
		stop:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	r.enc = lineEncoder{csv: cfg.Format == CSV, limit: cfg.limit, loc: cfg.Location}
	var sw io.WriteCloser // tracer-self.log; nil with OutputOnly
	if !cfg.OutputOnly {
		// The self log is opened first: package rolling allows one open File per name in a process,
		// so a second Reporter on this tracelog directory fails here, before it writes anything.
		var err error
		sw, err = cfg.openFile(cfg.rollingConfig(cfg.path(layout.SelfLogName, false)))
		if errors.Is(err, rolling.ErrFileInUse) {
			return nil, fmt.Errorf("%w: %s", ErrRootInUse, cfg.dir)
		}
		if err != nil {
			return nil, fmt.Errorf("digest: %w", err)
		}
		if err := writeStaticInfo(cfg.path(layout.StaticInfoName, false), &r.cfg); err != nil {
			_ = sw.Close()
			return nil, fmt.Errorf("digest: %w", err)
		}
	}
	r.self = newSelfLog(sw, cfg.Clock, cfg.Location)
	if cfg.Output != nil {
		r.out = newOutput(cfg.Output, cfg.Format == CSV, cfg.limit, cfg.Location)
		r.self.out = r.out
	}
	if cfg.StatInterval > 0 {
		r.stat = newStatAgg()
	}
	opts := []asyncwriter.RingOption{
		asyncwriter.WithCapacity(cfg.QueueCapacity),
		asyncwriter.WithErrorFunc(func(err error, total uint64) {
			r.self.log(levelError, "queue", "", err.Error()+" (total "+strconv.FormatUint(total, 10)+")")
		}),
	}
	if cfg.Policy == Block {
		opts = append(opts, asyncwriter.WithPolicy(asyncwriter.Block))
	} else {
		opts = append(opts, asyncwriter.WithPolicy(asyncwriter.Discard))
	}
	if cfg.Wait == Prompt {
		opts = append(opts, asyncwriter.WithWaitStrategy(asyncwriter.WaitPark))
	} else {
		opts = append(opts, asyncwriter.WithWaitStrategy(asyncwriter.WaitBackoff))
	}
	if cfg.LogDroppedIDs {
		opts = append(opts, asyncwriter.WithReportInterval(0), asyncwriter.WithDiscardFunc(r.onDiscard))
	}
	var err error
	r.ring, err = asyncwriter.NewRing[event](asyncwriter.HandlerFunc[event](r.onEvent), opts...)
	if err != nil {
		_ = r.self.close()
		return nil, fmt.Errorf("digest: %w", err)
	}
	go r.background()
	return r, nil
}

// Report queues s for its digest and stat lines. With the Discard policy it never waits: when the
// queue is full s is dropped and counted. After Close, s is dropped and counted in AfterClose.
func (r *Reporter) Report(s *trace.FinishedSpan) {
	if r == nil || s == nil {
		return
	}
	if len(r.cfg.disabled) > 0 && r.cfg.disabled[r.logType(s)] {
		r.disabled.Add(1)
		return
	}
	if err := r.ring.Publish(func(ev *event) { ev.span = s }); errors.Is(err, asyncwriter.ErrClosed) {
		r.afterClose.Add(1)
	}
}

func (r *Reporter) logType(s *trace.FinishedSpan) string {
	if lt := s.LogType(); lt != "" {
		return lt
	}
	return r.cfg.DefaultLogType
}

// ReportError writes err, rate-limited, to tracer-self.log: recovered panics (with their stack) as
// ERROR, refused baggage, the depth limit and other errors (such as a malformed inbound header
// reported by tracehttp) as WARN. A depth reset (*trace.DepthError) is written with the id of the
// trace that reached the limit in the line's [traceId]. It never blocks on the disk.
func (r *Reporter) ReportError(err error) {
	if r == nil || err == nil {
		return
	}
	r.errorsN.Add(1)
	var pe *trace.PanicError
	var be *trace.BaggageError
	var de *trace.DepthError
	switch {
	case errors.As(err, &pe):
		r.self.log(levelError, "panic", "", pe.Error()+"\n"+string(pe.Stack))
	case errors.As(err, &be):
		r.self.log(levelWarn, "baggage", "", err.Error())
	case errors.As(err, &de):
		// As SOFATracer: the line carries the trace that reached the limit; the message names the new one.
		r.self.log(levelWarn, "depth", de.TraceID, err.Error())
	case errors.Is(err, trace.ErrDepthLimit):
		r.self.log(levelWarn, "depth", "", err.Error())
	default:
		r.self.log(levelWarn, "error", "", err.Error())
	}
}

// Flush returns when every span reported before the call has been written (or counted as lost),
// and the self log too. Stat lines still wait for the end of their interval (or Close).
func (r *Reporter) Flush() {
	if r == nil {
		return
	}
	r.ring.Flush()
	r.self.flush()
}

// Stats returns the reporter's counters.
func (r *Reporter) Stats() Stats {
	if r == nil {
		return Stats{}
	}
	rs := r.ring.Stats()
	st := Stats{
		Accepted:       rs.Accepted,
		Discarded:      rs.Discarded,
		AfterClose:     r.afterClose.Load(),
		Disabled:       r.disabled.Load(),
		Unsampled:      r.unsampled.Load(),
		Written:        r.written.Load(),
		Lost:           r.lost.Load(),
		EncodePanics:   r.encodePanics.Load() + rs.Failed,
		ObserverPanics: r.observerPanics.Load(),
		WriteErrors:    r.writeErrors.Load() + r.self.werrs.Load(),
		StatLines:      r.statLines.Load(),
		StatLost:       r.statLost.Load(),
		StatResets:     r.resets.Load(),
		Errors:         r.errorsN.Load(),
		SelfLogLines:   r.self.lines.Load(),
		SelfLogLost:    r.self.lost.Load(),
		Suppressed:     r.self.suppressed.Load(),
	}
	if r.out != nil {
		st.OutputWritten, st.OutputLost = r.out.written.Load(), r.out.lost.Load()
		st.OutputLines, st.OutputErrors = r.out.lines.Load(), r.out.errs.Load()
	}
	return st
}

// Close drains the queue, writes the digest lines and the last (partial) stat interval, writes the
// discard counts to the self log, closes every file and stops the goroutines. It returns the first
// error of closing the files. It is idempotent; later calls return the same error.
func (r *Reporter) Close() error {
	if r == nil {
		return nil
	}
	r.closeOnce.Do(func() {
		_ = r.ring.Close()
		// The consumer has stopped: write what a panicking last item may have left buffered.
		r.writeDirty()
		close(r.stop)
		<-r.done
		if r.stat != nil {
			r.writeStats()
		}
		r.reportDiscards()
		var first error
		keep := func(err error) {
			if err != nil && first == nil {
				first = err
			}
		}
		for _, d := range r.dests {
			dropped, err := d.close()
			keep(err)
			r.lost.Add(dropped)
			r.sayLost(&d.lineFile, dropped, "at Close")
		}
		for _, f := range r.statFiles {
			dropped, err := f.close()
			keep(err)
			r.statLost.Add(dropped)
			r.sayLost(f, dropped, "at Close")
		}
		keep(r.self.close())
		r.closeErr = first
	})
	return r.closeErr
}

// background writes stat lines every interval, discard counts every second, and self-log lines as
// soon as they come.
func (r *Reporter) background() {
	defer close(r.done)
	sec := time.NewTicker(time.Second)
	defer sec.Stop()
	var statC <-chan time.Time
	if r.stat != nil {
		t := time.NewTicker(r.cfg.StatInterval)
		defer t.Stop()
		statC = t.C
	}
	for {
		select {
		case <-r.stop:
			return
		case <-statC:
			r.writeStats()
		case <-sec.C:
			r.reportDiscards()
			r.self.flush()
		case <-r.self.wake:
			r.self.flush()
		}
	}
}

// onDiscard runs on a producer goroutine for every dropped span when LogDroppedIDs is on.
func (r *Reporter) onDiscard(ev *event, _ uint64) {
	if ev == nil || ev.span == nil {
		return
	}
	s := ev.span
	ev.span = nil
	sec := r.cfg.Clock().Unix()
	r.dropMu.Lock()
	if sec != r.dropSec {
		r.dropSec, r.dropN = sec, 0
	}
	if r.dropN < maxDroppedIDs {
		r.dropN++
		r.dropIDs = append(r.dropIDs, s.TraceID(), s.SpanID())
	} else {
		r.dropMore++
	}
	r.dropMu.Unlock()
}

// reportDiscards writes to the self log how many spans were dropped since the last report, and
// which when LogDroppedIDs is on.
func (r *Reporter) reportDiscards() {
	total := r.ring.Stats().Discarded
	r.dropMu.Lock()
	ids, more := r.dropIDs, r.dropMore
	r.dropIDs, r.dropMore = nil, 0
	last := r.lastDiscard
	r.lastDiscard = total
	r.dropMu.Unlock()
	if total > last {
		r.self.log(levelWarn, "discard", "", fmt.Sprintf("discarded %d spans (total %d): the queue of %d was full",
			total-last, total, r.ring.Capacity()))
	}
	for i := 0; i+1 < len(ids); i += 2 {
		r.self.logLimit(levelWarn, "discard-id", ids[i], "discarded span "+ids[i+1], maxDroppedIDs+1)
	}
	if more > 0 {
		// A kind of its own: the ids of this second may have used up the budget of "discard-id"
		// at an earlier report, and this count must not be lost with them.
		r.self.log(levelWarn, "discard-more", "", strconv.FormatUint(more, 10)+" more discarded span ids not listed")
	}
}

// onEvent is the ring's handler, on the consumer goroutine.
func (r *Reporter) onEvent(ev *event, _ int64, endOfBatch bool) {
	s := ev.span
	ev.span = nil
	if s != nil {
		r.handle(s)
	}
	if endOfBatch {
		r.writeDirty()
	}
}

func (r *Reporter) handle(s *trace.FinishedSpan) {
	ti := spanType(r.typeInfo(s.LogType()), s)
	if r.stat != nil || r.cfg.Observer != nil {
		k, code := statKeyOf(ti, s)
		if r.stat != nil {
			if t, full := r.stat.add(ti, k, s.Duration().Milliseconds()); full != nil {
				r.printFullStats(t, full)
			}
		}
		if r.cfg.Observer != nil {
			r.observe(ti, s, &k, code)
		}
	}
	if !s.Sampled() {
		r.unsampled.Add(1)
		return
	}
	i := 0
	if s.IsLoadTest() {
		i = 1
	}
	fi := ti.files()
	d := fi.dests[i]
	if d == nil {
		d = &dest{lineFile: r.newLineFile(layout.DigestFileName(fi.name), i == 1, maxPending)}
		fi.dests[i] = d
		r.dests = append(r.dests, d)
	}
	start := len(d.buf)
	if r.encode(d, ti, s) {
		if r.out != nil {
			r.writeOutput(ti.name, i == 1, d.buf[start:])
			if r.cfg.OutputOnly {
				d.buf = d.buf[:start]
				return
			}
		}
		d.lines++
		if !d.dirty {
			d.dirty = true
			r.dirty = append(r.dirty, d)
		}
		// While the file fails, it is tried once a batch (writeDirty), or when it keeps too much.
		if len(d.buf) >= writeThreshold && (d.fails == 0 || len(d.buf) > d.max) {
			r.writeDest(d)
		}
	}
}

// encode appends the line of s to d.buf; a panicking encoder leaves d.buf as it was.
func (r *Reporter) encode(d *dest, ti *typeInfo, s *trace.FinishedSpan) (ok bool) {
	start := len(d.buf)
	e := &r.enc
	e.buf = d.buf
	defer func() {
		if p := recover(); p != nil {
			d.buf = e.buf[:start]
			e.buf = nil
			r.encodePanics.Add(1)
			r.self.log(levelError, "encoder", s.TraceID(), fmt.Sprintf("encoder of %s panicked: %v", ti.name, p))
			ok = false
		}
	}()
	if ti.line != nil && !e.csv {
		e.line(ti.line, s, resultCode(s, ti.http))
	} else {
		e.begin(s, resultCode(s, ti.http))
		ti.enc.EncodeFields(s, e)
		e.end(s, ti.http, ti.client)
	}
	d.buf = e.buf
	e.buf = nil
	return true
}

// typeInfo resolves a log type, caching it; past MaxLogTypes, new log types share the default one.
func (r *Reporter) typeInfo(lt string) *typeInfo {
	if ti := r.types[lt]; ti != nil {
		return ti
	}
	name := lt
	if name == "" {
		name = r.cfg.DefaultLogType
	}
	if len(r.types) >= MaxLogTypes {
		r.self.log(levelWarn, "logtype", "", fmt.Sprintf("more than %d log types: %q written as %s", MaxLogTypes, lt, r.cfg.DefaultLogType))
		return r.typeInfo("")
	}
	enc := r.cfg.encoders[name]
	detect := enc == nil
	if detect {
		enc = genericEnc
	}
	ti := &typeInfo{name: safeName(name), enc: enc, detect: detect}
	if h, ok := enc.(*httpEncoder); ok {
		ti.http, ti.client = true, h.client
	}
	ti.line, _ = enc.(LineEncoder)
	ti.rpc, _ = enc.(*rpcEncoder)
	// Distinct log types may share a safe name: the first one's files and encoder serve them all.
	for _, o := range r.types {
		if o.name == ti.name {
			ti = o
			break
		}
	}
	r.types[lt] = ti
	return ti
}

// writeDirty writes the buffer of every file that has lines.
func (r *Reporter) writeDirty() {
	for _, d := range r.dirty {
		d.dirty = false
		r.writeDest(d)
	}
	r.dirty = r.dirty[:0]
}

// writeDest writes d's lines, counting them in Stats.Written, or Stats.Lost when they are given up.
func (r *Reporter) writeDest(d *dest) {
	res := d.flush()
	r.written.Add(res.written)
	r.lost.Add(res.dropped)
	r.noteFlush(&d.lineFile, res)
}

// newLineFile makes the lineFile of the log file name (under shadow/ if shadow) keeping at most max
// bytes after a failed write.
func (r *Reporter) newLineFile(name string, shadow bool, max int) lineFile {
	path := r.cfg.path(name, shadow)
	rel := name
	if shadow {
		rel = layout.ShadowDirName + "/" + name
	}
	return lineFile{name: rel, max: max, open: func() (io.WriteCloser, error) {
		return r.cfg.openFile(r.cfg.rollingConfig(path))
	}}
}

// noteFlush self-logs what a flush of f did: a failure as a rate-limited error; lines given up, and
// a file that works again after failures, with the file's total of lost lines (see sayLost).
func (r *Reporter) noteFlush(f *lineFile, res flushResult) {
	if res.err != nil {
		r.writeErrors.Add(1)
		msg := fmt.Sprintf("write %s: %v; ", f.name, res.err)
		if res.dropped > 0 {
			msg += fmt.Sprintf("%d lines lost (%d in total)", res.dropped, f.lost)
		} else {
			msg += fmt.Sprintf("%d lines kept to write again", f.lines)
		}
		r.self.log(levelError, "write", "", msg)
		r.sayLost(f, res.dropped, "fails")
		return
	}
	if res.recovered > 0 {
		r.self.logTotal(f.name, levelWarn, fmt.Sprintf("%s written again after %d failed writes: %d lines lost in total",
			f.name, res.recovered, f.lost))
	}
}

// sayLost, when dropped lines were just given up, states the file's total of lost lines in the self
// log with when ("fails", "at Close"). The message of a file replaces its earlier one not yet
// written, and is never rate-limited away: the last one written holds the file's total.
func (r *Reporter) sayLost(f *lineFile, dropped uint64, when string) {
	if dropped > 0 {
		r.self.logTotal(f.name, levelError, fmt.Sprintf("%s %s: %d lines lost in total", f.name, when, f.lost))
	}
}

// writeStats prints one stat interval. It runs on the background goroutine, or in Close after it
// stopped.
func (r *Reporter) writeStats() {
	r.statMu.Lock()
	defer r.statMu.Unlock()
	r.stat.write(r.cfg.Clock(), &r.cfg, r.writeStatLines, &r.statScratch)
}

// printFullStats prints the keys a stat table held when a new key came past MaxStatKeys, before the
// interval ends, as SOFATracer does: no count is lost, and the table starts again empty. It runs on
// the consumer goroutine.
func (r *Reporter) printFullStats(t *statTable, full map[statKey]statVal) {
	r.resets.Add(1)
	r.statMu.Lock()
	printStats(r.cfg.Clock(), &r.cfg, t, full, r.writeStatLines, &r.statScratch)
	r.statMu.Unlock()
	r.self.log(levelWarn, "stat", "", fmt.Sprintf("more than %d stat keys for %s in one interval: %d printed early, the table cleared",
		MaxStatKeys, t.name, len(full)))
}

func (r *Reporter) writeStatLines(name string, shadow bool, b []byte, n int) {
	if r.out != nil {
		r.writeStatOutput(name, shadow, b, n)
		if r.cfg.OutputOnly {
			return
		}
	}
	k := fileKey{name, shadow}
	f := r.statFiles[k]
	if f == nil {
		lf := r.newLineFile(layout.StatFileName(name), shadow, maxStatPending)
		f = &lf
		r.statFiles[k] = f
	}
	f.buf = append(f.buf, b...)
	f.lines += uint64(n)
	res := f.flush()
	r.statLines.Add(res.written)
	r.statLost.Add(res.dropped)
	r.noteFlush(f, res)
}
