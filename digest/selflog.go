package digest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tracemdc/tracemdc/digest/layout"
)

// Self-log levels: the padded prefixes of layout.
const (
	levelInfo  = layout.SelfLogInfo
	levelWarn  = layout.SelfLogWarn
	levelError = layout.SelfLogError
)

const (
	// selfLogPerKind is the most lines of one kind written per second (of Clock time); the rest are
	// counted and the count is written with the next line of that kind.
	selfLogPerKind = 10
	// selfLogMaxPending is the most bytes of self-log lines held for the writer; lines past it are
	// counted as suppressed.
	selfLogMaxPending = 256 << 10
	// selfLogMaxMsg is the longest message of a self-log line.
	selfLogMaxMsg = 8 << 10
)

// selfLog is tracer-self.log: lines are formatted by the caller, kept in a bounded buffer and written
// by the reporter's background goroutine (woken at once), so no business goroutine waits for the
// disk. Each kind of message is rate-limited.
type selfLog struct {
	clock func() time.Time
	loc   *time.Location

	mu         sync.Mutex
	pending    []byte
	kinds      map[string]*kindRate
	closed     bool
	suppressed atomic.Uint64
	lines      atomic.Uint64

	wake chan struct{}

	// totals holds the latest message of each key given to logTotal, not yet written, in the
	// order the keys came (index in totalMsgs).
	totals    map[string]int
	totalMsgs []totalMsg

	wmu   sync.Mutex // serializes writers of the file
	spare []byte
	f     *lineFile // nil with Config.OutputOnly
	file  bool      // f is set: lines are kept in pending for it
	werrs atomic.Uint64
	lost  atomic.Uint64 // lines of tracer-self.log given up after failed writes

	// Config.Output, when set: its lines (made by out.appendSelf) wait in outPending (under mu).
	// closeOutput sets it to nil (under wmu and mu).
	out                  *output
	outPending, outSpare []byte

	// stderr takes what the self log cannot write where it belongs (os.Stderr; tests replace it).
	stderr io.Writer
}

// totalMsg is a message of logTotal waiting to be written.
type totalMsg struct {
	at         time.Time
	level, msg string
}

type kindRate struct {
	sec        int64 // Unix second of the window
	n          int   // lines written in the window
	suppressed int   // lines suppressed since the last written line of this kind
}

func newSelfLog(w io.WriteCloser, clock func() time.Time, loc *time.Location) *selfLog {
	l := &selfLog{clock: clock, loc: loc, kinds: map[string]*kindRate{}, totals: map[string]int{}, wake: make(chan struct{}, 1),
		stderr: os.Stderr}
	if w != nil {
		l.file = true
		l.f = &lineFile{name: layout.SelfLogName, w: w, max: selfLogMaxPending,
			open: func() (io.WriteCloser, error) { return nil, errors.New("tracer-self.log is closed") }}
	}
	return l
}

// log formats one line, if the rate of kind allows it, and wakes the writer.
func (l *selfLog) log(level, kind, traceID, msg string) {
	l.logLimit(level, kind, traceID, msg, selfLogPerKind)
}

// logLimit is log with a limit of lines per second for kind.
func (l *selfLog) logLimit(level, kind, traceID, msg string, limit int) {
	now := l.clock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.suppressed.Add(1)
		return
	}
	k := l.kinds[kind]
	if k == nil {
		k = &kindRate{}
		l.kinds[kind] = k
	}
	if sec := now.Unix(); sec != k.sec {
		k.sec, k.n = sec, 0
	}
	if k.n >= limit || max(len(l.pending), len(l.outPending)) > selfLogMaxPending {
		k.suppressed++
		l.mu.Unlock()
		l.suppressed.Add(1)
		return
	}
	k.n++
	if k.suppressed > 0 {
		msg += " (" + strconv.Itoa(k.suppressed) + " earlier " + kind + " messages suppressed)"
		k.suppressed = 0
	}
	l.add(now, level, traceID, msg)
	l.mu.Unlock()
	l.lines.Add(1)
	l.wakeWriter()
}

// wakeWriter wakes the goroutine that writes the pending lines.
func (l *selfLog) wakeWriter() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// logTotal formats, at the next flush, a message stating a total (lines lost for a file): a later
// message of the same key replaces one not yet written, as its total includes the earlier one, and
// no rate limit applies, so the last total of every key is written.
func (l *selfLog) logTotal(key, level, msg string) {
	now := l.clock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.suppressed.Add(1)
		return
	}
	if i, ok := l.totals[key]; ok {
		l.totalMsgs[i] = totalMsg{now, level, msg}
	} else {
		l.totals[key] = len(l.totalMsgs)
		l.totalMsgs = append(l.totalMsgs, totalMsg{now, level, msg})
	}
	l.mu.Unlock()
	l.wakeWriter()
}

// logSuppressed writes, without rate limit, one line per kind whose suppressed messages were never
// reported. Close calls it.
func (l *selfLog) logSuppressed() {
	now := l.clock()
	l.mu.Lock()
	defer l.mu.Unlock()
	for kind, k := range l.kinds {
		if k.suppressed > 0 {
			l.add(now, levelWarn, "", strconv.Itoa(k.suppressed)+" "+kind+" messages suppressed")
			l.lines.Add(1)
			k.suppressed = 0
		}
	}
}

// add formats one line for the file and for Config.Output. l.mu is held.
func (l *selfLog) add(now time.Time, level, traceID, msg string) {
	start := len(l.pending)
	l.pending = l.appendLine(l.pending, now, level, traceID, msg)
	if l.out != nil {
		l.outPending = l.out.appendSelf(l.outPending, now, level, traceID, msg, l.pending[start:])
	}
	if !l.file {
		l.pending = l.pending[:start]
	}
}

// appendLine appends SOFATracer's self-log line: yyyy-MM-dd HH:mm:ss.SSS, the level prefix padded to
// 8 characters ("[ERROR] ", "[WARN]  ", "[INFO]  "), [traceId], msg and a line end; msg and traceID
// go through appendSelfLogText, so one event is always one line.
func (l *selfLog) appendLine(b []byte, now time.Time, level, traceID, msg string) []byte {
	b = appendTime(b, now.In(l.loc))
	b = append(b, level...)
	b = append(b, '[')
	b = appendSelfLogText(b, traceID, 128)
	b = append(b, ']')
	b = appendSelfLogText(b, msg, selfLogMaxMsg)
	return append(b, '\n')
}

// appendSelfLogText appends s for a person to read on one line: control characters are escaped as
// in Go and JSON (\n, \r, \t, \u00XX), and so are U+0085, U+2028 and U+2029, which some readers take
// as line ends; invalid UTF-8 becomes U+FFFD. Quotes and backslashes stay as they are: the self log
// is not JSON, and messages often quote values already (%q). A text longer than limit bytes is cut
// with the "...(truncated N bytes)" marker.
func appendSelfLogText(b []byte, s string, limit int) []byte {
	s, cut := truncate(s, limit)
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7f {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			b = appendControl(b, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
		case r == '\u0085' || r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = appendU4(b, r)
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return appendCut(b, cut)
}

// flush writes the pending lines (the totals of logTotal last). It is called by the background
// goroutine and by Close. A failed write keeps what it did not write, up to selfLogMaxPending bytes,
// for the next flush; past that the lines are given up and counted, and once the file works again a
// line says how many (so the last of them lands in the file at the following flush).
func (l *selfLog) flush() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	l.addTotals()
	buf := l.pending
	l.pending = l.spare[:0]
	outBuf := l.outPending
	l.outPending = l.outSpare[:0]
	l.mu.Unlock()
	if len(outBuf) > 0 {
		l.writeOutput(l.out, outBuf)
	}
	l.outSpare = outBuf[:0]
	if f := l.f; f != nil && (len(buf) > 0 || len(f.buf) > 0) {
		f.buf = append(f.buf, buf...)
		f.lines += uint64(bytes.Count(buf, []byte{'\n'}))
		res := f.flush()
		l.lost.Add(res.dropped)
		switch {
		case res.err != nil:
			l.werrs.Add(1)
			if f.fails == 1 { // the first failure of a run; its end says what it cost
				fmt.Fprintf(l.stderr, "tracemdc/digest: %s: %v\n", f.name, res.err)
			}
			if res.dropped > 0 {
				l.logTotal(f.name, levelError, fmt.Sprintf("%s fails: %d lines lost in total", f.name, f.lost))
			}
		case res.recovered > 0:
			l.logTotal(f.name, levelWarn, fmt.Sprintf("%s written again after %d failed writes: %d lines lost in total",
				f.name, res.recovered, f.lost))
		}
	}
	l.spare = buf[:0]
}

// addTotals formats the pending messages of logTotal. l.mu is held.
func (l *selfLog) addTotals() {
	for _, t := range l.totalMsgs {
		l.add(t.at, t.level, "", t.msg)
		l.lines.Add(1)
	}
	clear(l.totals)
	l.totalMsgs = l.totalMsgs[:0]
}

// busy tells whether a flush has something to write: lines, totals, or lines a failed write kept.
func (l *selfLog) busy() bool {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pending) > 0 || len(l.outPending) > 0 || len(l.totalMsgs) > 0 || l.f != nil && len(l.f.buf) > 0
}

// flushAll flushes until nothing is left to write or, with a file that keeps failing, a few times:
// a flush can state a total (the file's lost lines, or its recovery) that the next one writes.
func (l *selfLog) flushAll() {
	for i := 0; i < 4 && l.busy(); i++ {
		l.flush()
	}
}

// close writes what is pending and closes the file; later lines are counted as suppressed. The
// total of Config.Output's losses is written last to Output, once every other self line has been
// written there (closeOutput). Lines it cannot write to the file are counted in lost; when any is,
// or a total of the file's lost lines is still unwritten (the flush that wrote the last one lost
// lines again), stderr says the file's total.
func (l *selfLog) close() error {
	l.logSuppressed()
	l.flushAll()
	l.closeOutput()
	l.flushAll() // to the file only: the Output total, and what writing it stated about the file
	l.mu.Lock()
	l.closed = true
	unsaid := len(l.totalMsgs) > 0
	clear(l.totals)
	l.totalMsgs = nil
	l.mu.Unlock()
	l.wmu.Lock()
	defer l.wmu.Unlock()
	if l.f == nil {
		return nil
	}
	dropped, err := l.f.close()
	l.lost.Add(dropped)
	if dropped > 0 || unsaid {
		fmt.Fprintf(l.stderr, "tracemdc/digest: %s: %d lines lost at Close (%d in total)\n", l.f.name, dropped, l.f.lost)
	}
	l.f = nil
	return err
}

// writeOutput writes self lines made by out.appendSelf to Config.Output, one Write each. A failure
// cannot be reported in the self log that failed: it is counted (Stats.OutputErrors), said on stderr
// once per call, and in the total Close writes (closeOutput).
func (l *selfLog) writeOutput(out *output, b []byte) {
	if _, lost, err := out.writeEach("", "", false, b); err != nil {
		fmt.Fprintf(l.stderr, "tracemdc/digest: Config.Output: %v; %d self-log lines lost\n", err, lost)
	}
}

// closeOutput ends the self log's lines to Config.Output, at Close, after every digest and stat
// line. It writes the self lines pending for Output, then, when Output lost any line, the total as
// the last line Output is given: "Config.Output lost N lines in all, M of them digest lines", so no
// later Write can make it wrong. From then on self lines go to the file only. The file's copy of
// the total is made after that last Write: if Output refused the total line itself, the file's
// count includes it (and stderr says it, the only place left with Config.OutputOnly). Either way
// the total in the file is Stats.OutputErrors and Stats.OutputLost after Close.
func (l *selfLog) closeOutput() {
	l.wmu.Lock()
	defer l.wmu.Unlock()
	l.mu.Lock()
	out := l.out
	if out == nil {
		l.mu.Unlock()
		return
	}
	l.addTotals()
	outBuf := l.outPending
	l.out, l.outPending, l.outSpare = nil, nil, nil
	l.mu.Unlock()
	if len(outBuf) > 0 {
		l.writeOutput(out, outBuf)
	}
	errs := out.errs.Load()
	if errs == 0 {
		return
	}
	total := func(errs uint64) string {
		return fmt.Sprintf("Config.Output lost %d lines in all, %d of them digest lines", errs, out.lost.Load())
	}
	now := l.clock()
	msg := total(errs)
	line := out.appendSelf(nil, now, levelError, "", msg, l.appendLine(nil, now, levelError, "", msg))
	if err := out.write("", "", false, line); err != nil {
		msg = total(out.errs.Load())
		fmt.Fprintf(l.stderr, "tracemdc/digest: Config.Output: %v; %s (the last of them this total)\n", err, msg)
	}
	l.mu.Lock()
	l.add(now, levelError, "", msg) // to the file only: l.out is nil
	l.mu.Unlock()
	l.lines.Add(1)
}

// writeStaticInfo appends one line pid,ip,zone,timezone to <dir>/static-info.log. It uses a plain
// file (one line per start needs no rolling, and a rolling.File would cost a goroutine).
func writeStaticInfo(path string, cfg *config) error {
	if err := os.MkdirAll(dirOf(path), 0o755); err != nil {
		return err
	}
	mode := cfg.FileMode
	if mode == 0 {
		mode = 0o644
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, mode)
	if err != nil {
		return err
	}
	var b []byte
	b = strconv.AppendInt(b, int64(os.Getpid()), 10)
	b = append(b, ',')
	b = appendCSVField(b, hostIP(), 64)
	b = append(b, ',')
	b = appendCSVField(b, cfg.Zone, 256)
	b = append(b, ',')
	b = appendCSVField(b, timeZoneName(cfg.Location), 256)
	b = append(b, '\n')
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func dirOf(path string) string {
	if i := strings.LastIndexAny(path, `/\`); i >= 0 {
		return path[:i]
	}
	return "."
}

// hostIP returns the first non-loopback IPv4 address of the host, "127.0.0.1" when there is none.
func hostIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() {
				if ip4 := n.IP.To4(); ip4 != nil {
					return ip4.String()
				}
			}
		}
	}
	return "127.0.0.1"
}

// timeZoneName names loc: its IANA name when known (for time.Local: $TZ, else the zoneinfo link of
// /etc/localtime), else its abbreviation and offset, such as "CST+08:00".
func timeZoneName(loc *time.Location) string {
	if loc != time.Local {
		return loc.String()
	}
	if tz := os.Getenv("TZ"); tz != "" {
		return strings.TrimPrefix(tz, ":")
	}
	if target, err := os.Readlink("/etc/localtime"); err == nil {
		if _, name, ok := strings.Cut(target, "zoneinfo/"); ok && name != "" {
			return name
		}
	}
	return time.Now().In(loc).Format("MST-07:00")
}
