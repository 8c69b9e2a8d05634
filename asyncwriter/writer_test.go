package asyncwriter

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// lineSink collects what the consumer writes and checks that every Write holds whole lines.
type lineSink struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	torn   int // Writes not ending in a newline
}

func (s *lineSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if len(p) > 0 && p[len(p)-1] != '\n' {
		s.torn++
	}
	return s.buf.Write(p)
}

func (s *lineSink) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := bytes.Split(s.buf.Bytes(), []byte{'\n'})
	res := make([]string, 0, len(out))
	for _, l := range out[:len(out)-1] {
		res = append(res, string(l))
	}
	return res
}

// checkOrder parses "<producer> <n>" lines and checks per-producer order; it returns the count
// per producer.
func checkOrder(t *testing.T, lines []string, producers int) []int {
	t.Helper()
	next := make([]int, producers)
	for _, l := range lines {
		var p, n int
		if _, err := fmt.Sscanf(l, "%d %d", &p, &n); err != nil || p < 0 || p >= producers {
			t.Fatalf("bad line %q", l)
		}
		if n != next[p] {
			t.Fatalf("producer %d: got line %d, want %d", p, n, next[p])
		}
		next[p]++
	}
	return next
}

func newTestWriter(t *testing.T, dst io.Writer, opts ...WriterOption) *Writer {
	t.Helper()
	w, err := NewWriter(dst, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestWriterBlockOrder: 4 producers x 250k lines through a small Block ring: nothing lost,
// per-producer order kept, every destination Write holds whole lines.
func TestWriterBlockOrder(t *testing.T) {
	const producers, per = 4, 250000
	dst := &lineSink{}
	w := newTestWriter(t, dst, WithCapacity(256))
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b []byte
			for i := 0; i < per; i++ {
				b = strconv.AppendInt(append(strconv.AppendInt(b[:0], int64(p), 10), ' '), int64(i), 10)
				b = append(b, '\n')
				if n, err := w.Write(b); err != nil || n != len(b) {
					t.Errorf("Write: %d, %v", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	counts := checkOrder(t, dst.lines(), producers)
	for p, c := range counts {
		if c != per {
			t.Errorf("producer %d: %d lines written, want %d", p, c, per)
		}
	}
	st := w.Stats()
	if st.Accepted != producers*per || st.Written != producers*per || st.Failed != 0 || st.Discarded != 0 {
		t.Errorf("stats %+v", st)
	}
	if dst.torn != 0 || uint64(dst.writes) != st.Batches || st.Bytes != uint64(dst.buf.Len()) {
		t.Errorf("%d torn writes, %d writes, stats %+v", dst.torn, dst.writes, st)
	}
	if _, err := w.Write([]byte("late\n")); err != ErrClosed {
		t.Errorf("Write after Close: %v", err)
	}
}

// gatedLineSink holds every Write until gate is closed: a destination that is stalled for as long
// as the test wants, with no timing involved.
type gatedLineSink struct {
	lineSink
	gate chan struct{}
}

func (s *gatedLineSink) Write(p []byte) (int, error) {
	<-s.gate
	return s.lineSink.Write(p)
}

// TestWriterDiscardSlowDestination: with a stalled destination and the Discard policy, producers
// never wait (the destination is released only after they all return, so a producer that waited
// would deadlock the test); accepted + discarded == produced, and after Close every accepted line
// is written.
func TestWriterDiscardSlowDestination(t *testing.T) {
	const producers, per = 4, 20000
	dst := &gatedLineSink{gate: make(chan struct{})}
	var reports atomic.Int64
	var finalTotal atomic.Uint64
	w := newTestWriter(t, dst, WithCapacity(64), WithPolicy(Discard),
		WithLineDiscardFunc(func(line []byte, total uint64) {
			if line == nil {
				finalTotal.Store(total)
				return
			}
			if line[len(line)-1] != '\n' {
				t.Errorf("discard callback got %q", line)
			}
			reports.Add(1)
		}))
	var ok, full [producers]int
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				_, err := w.Write([]byte(fmt.Sprintf("%d %d\n", p, ok[p])))
				switch err {
				case nil:
					ok[p]++
				case ErrFull:
					full[p]++
				default:
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(dst.gate)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	var accepted, discarded int
	for p := range ok {
		accepted += ok[p]
		discarded += full[p]
	}
	if st.Accepted != uint64(accepted) || st.Discarded != uint64(discarded) || accepted+discarded != producers*per {
		t.Fatalf("stats %+v, producers saw %d accepted %d discarded", st, accepted, discarded)
	}
	if discarded == 0 {
		t.Fatal("nothing discarded although the destination was stalled")
	}
	if st.Written != st.Accepted {
		t.Fatalf("written %d != accepted %d", st.Written, st.Accepted)
	}
	counts := checkOrder(t, dst.lines(), producers)
	for p := range counts {
		if counts[p] != ok[p] {
			t.Errorf("producer %d: %d lines written, %d accepted", p, counts[p], ok[p])
		}
	}
	if reports.Load() < 1 || finalTotal.Load() > uint64(discarded) {
		t.Errorf("%d discard reports, final total %d", reports.Load(), finalTotal.Load())
	}
}

// TestWriterCloseDuringWrites: Close (three of them, concurrently) while producers write; no
// panic or deadlock; every accepted line is written.
func TestWriterCloseDuringWrites(t *testing.T) {
	for _, pol := range []Policy{Block, Discard} {
		t.Run(pol.String(), func(t *testing.T) {
			const producers = 4
			dst := &lineSink{}
			w := newTestWriter(t, dst, WithCapacity(64), WithPolicy(pol))
			ok := closeWhileWriting(t, w, producers, 3, 1000, true, func(p, _, n int) []byte {
				return []byte(fmt.Sprintf("%d %d\n", p, n))
			})
			counts := checkOrder(t, dst.lines(), producers)
			total := 0
			for p := range counts {
				total += len(ok[p])
				if counts[p] != len(ok[p]) {
					t.Errorf("producer %d: %d lines written, %d accepted", p, counts[p], len(ok[p]))
				}
			}
			if st := w.Stats(); st.Accepted != uint64(total) || st.Written != uint64(total) {
				t.Errorf("stats %+v, accepted by producers %d", st, total)
			}
		})
	}
}

// checkAcceptedWritten checks, after Close, that dst got exactly the lines mkLine(p, i, padOf(p, i))
// for the indexes i in accepted[p] (as closeWhileWriting returns them), whole and in order for each
// producer p, and that Stats counts as many accepted and written, with no torn destination write.
func checkAcceptedWritten(t *testing.T, w *Writer, dst *lineSink, accepted [][]int, padOf func(p, i int) int) {
	t.Helper()
	producers := len(accepted)
	want, got := make([]strings.Builder, producers), make([]strings.Builder, producers)
	total := 0
	for p := range accepted {
		for _, i := range accepted[p] {
			want[p].Write(mkLine(p, i, padOf(p, i)))
		}
		total += len(accepted[p])
	}
	for _, l := range dst.lines() {
		var p int
		if _, err := fmt.Sscanf(l, "%d", &p); err != nil || p < 0 || p >= producers {
			t.Fatalf("bad line %.40q", l)
		}
		got[p].WriteString(l + "\n")
	}
	for p := range got {
		if got[p].String() != want[p].String() {
			t.Errorf("producer %d: the lines written differ from the lines accepted", p)
		}
	}
	if st := w.Stats(); st.Accepted != uint64(total) || st.Written != uint64(total) || dst.torn != 0 {
		t.Errorf("stats %+v, accepted by producers %d, %d torn", st, total, dst.torn)
	}
}

// closeWhileWriting has producers goroutines write line(p, i, n) to w in a loop (p the producer,
// i the attempt, n the lines accepted so far) until w is closed; once each has made warmup
// attempts, closers goroutines call Close concurrently (checking its error if checkClose). It
// returns the attempts accepted, per producer, in order. Write errors other than ErrFull and
// ErrClosed fail the test.
func closeWhileWriting(t *testing.T, w *Writer, producers, closers, warmup int, checkClose bool, line func(p, i, n int) []byte) [][]int {
	t.Helper()
	ok := make([][]int, producers)
	var wg sync.WaitGroup
	started := make(chan struct{}, producers)
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				_, err := w.Write(line(p, i, len(ok[p])))
				if err == ErrClosed {
					return
				}
				if err == nil {
					ok[p] = append(ok[p], i)
				} else if err != ErrFull {
					t.Error(err)
					return
				}
				if i == warmup {
					started <- struct{}{}
				}
			}
		}()
	}
	for p := 0; p < producers; p++ {
		<-started
	}
	var cw sync.WaitGroup
	for c := 0; c < closers; c++ {
		cw.Add(1)
		go func() {
			defer cw.Done()
			if err := w.Close(); err != nil && checkClose {
				t.Error(err)
			}
		}()
	}
	cw.Wait()
	wg.Wait()
	return ok
}

// flakySink fails its first failures Writes, optionally after writing part of p.
type flakySink struct {
	lineSink
	failures int
	partial  int // bytes written by a failing Write
	calls    int
}

var errFlaky = errors.New("flaky destination")

func (s *flakySink) Write(p []byte) (int, error) {
	s.calls++
	if s.calls <= s.failures {
		n := min(s.partial, len(p))
		_, _ = s.lineSink.Write(p[:n])
		return n, errFlaky
	}
	return s.lineSink.Write(p)
}

// TestWriterFailingThenRecovering: a destination that fails N times then works: the failures are
// counted and reported, not sticky; later lines are written.
func TestWriterFailingThenRecovering(t *testing.T) {
	const n, total = 5, 20
	dst := &flakySink{failures: n}
	var errs []error
	var lastTotal uint64
	w := newTestWriter(t, dst, WithReportInterval(0), WithErrorFunc(func(err error, tot uint64) {
		errs = append(errs, err)
		lastTotal = tot
	}))
	for i := 0; i < total; i++ {
		if _, err := fmt.Fprintf(w, "0 %d\n", i); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil { // one line per batch: line i meets Write call i+1
			t.Fatal(err)
		}
	}
	_ = w.Close()
	st := w.Stats()
	if st.WriteErrors != n || st.Failed != n || st.Written != total-n || st.Accepted != total {
		t.Fatalf("stats %+v", st)
	}
	if len(errs) != n || !errors.Is(errs[0], errFlaky) || lastTotal != n {
		t.Fatalf("errors reported: %v (total %d)", errs, lastTotal)
	}
	lines := dst.lines()
	if len(lines) != total-n || lines[0] != fmt.Sprintf("0 %d", n) {
		t.Fatalf("written %q", lines)
	}
}

// TestWriterPartialWriteError: a Write that writes part of a line then fails leaves the rest to
// be written first when the destination recovers: the line is whole in the end.
func TestWriterPartialWriteError(t *testing.T) {
	dst := &flakySink{failures: 2, partial: 3}
	w := newTestWriter(t, dst)
	for i, l := range []string{"first line\n", "second line\n", "third line\n"} {
		if _, err := io.WriteString(w, l); err != nil {
			t.Fatal(err)
		}
		_ = w.Flush()
		_ = i
	}
	_ = w.Close()
	// Call 1 writes "fir" and fails: the rest "st line\n" is kept. Call 2 (rest + second line)
	// writes "st " and fails: "line\n" kept, "second line" lost. Then all goes well.
	if got, want := dst.buf.String(), "first line\nthird line\n"; got != want {
		t.Fatalf("destination holds %q, want %q", got, want)
	}
	st := w.Stats()
	if st.Written != 2 || st.Failed != 1 || st.WriteErrors != 2 || st.Accepted != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestWriterCarryLostAtClose: a torn line whose rest never gets written is counted as failed.
func TestWriterCarryLostAtClose(t *testing.T) {
	dst := &flakySink{failures: 1 << 30, partial: 2}
	w := newTestWriter(t, dst)
	_, _ = io.WriteString(w, "abcdef\n")
	_ = w.Close()
	if st := w.Stats(); st.Written != 0 || st.Failed != 1 || st.Accepted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// shortSink writes at most 7 bytes per call, without error; zeroSink makes no progress.
type shortSink struct{ lineSink }

func (s *shortSink) Write(p []byte) (int, error) {
	return s.buf.Write(p[:min(7, len(p))])
}

type zeroSink struct{ calls int }

func (s *zeroSink) Write([]byte) (int, error) { s.calls++; return 0, nil }

type badCountSink struct{}

func (badCountSink) Write(p []byte) (int, error) { return len(p) + 1, nil }

func TestWriterShortWrites(t *testing.T) {
	dst := &shortSink{}
	w := newTestWriter(t, dst)
	var want bytes.Buffer
	for i := 0; i < 1000; i++ {
		l := fmt.Sprintf("line number %d with some text\n", i)
		want.WriteString(l)
		_, _ = io.WriteString(w, l)
	}
	_ = w.Close()
	if dst.buf.String() != want.String() {
		t.Fatal("short writes were not completed")
	}
	if st := w.Stats(); st.Written != 1000 || st.WriteErrors != 0 {
		t.Fatalf("stats %+v", st)
	}

	z := &zeroSink{}
	w = newTestWriter(t, z)
	_, _ = io.WriteString(w, "x\n")
	_ = w.Close()
	if st := w.Stats(); st.WriteErrors != 1 || st.Failed != 1 || z.calls != 1 {
		t.Fatalf("zero-progress destination: stats %+v, %d calls", st, z.calls)
	}

	var got error
	w = newTestWriter(t, badCountSink{}, WithReportInterval(0), WithErrorFunc(func(err error, _ uint64) { got = err }))
	_, _ = io.WriteString(w, "x\n")
	_ = w.Close()
	if st := w.Stats(); st.WriteErrors != 1 || st.Failed != 1 || !errors.Is(got, errBadCount) {
		t.Fatalf("invalid count: stats %+v, error %v", st, got)
	}
}

// TestWriterDevFull: writing to /dev/full fails with ENOSPC every time; every line is counted as
// failed, errors are reported, nothing blocks, Close works.
func TestWriterDevFull(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full on this system: %v", err)
	}
	var enospc atomic.Bool
	w := newTestWriter(t, f, WithCloseDestination(), WithReportInterval(0), WithErrorFunc(func(err error, _ uint64) {
		if errors.Is(err, syscall.ENOSPC) {
			enospc.Store(true)
		}
	}))
	for i := 0; i < 1000; i++ {
		if _, err := fmt.Fprintf(w, "line %d\n", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	if st.Accepted != 1000 || st.Failed != 1000 || st.Written != 0 || st.WriteErrors == 0 || st.WriteErrors != st.Batches {
		t.Fatalf("stats %+v", st)
	}
	if !enospc.Load() {
		t.Fatal("ENOSPC was not reported")
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("destination not closed: %v", err)
	}
}

// panicSink panics on every other Write.
type panicSink struct {
	lineSink
	calls int
}

func (s *panicSink) Write(p []byte) (int, error) {
	s.calls++
	if s.calls%2 == 1 {
		panic("destination exploded")
	}
	return s.lineSink.Write(p)
}

func TestWriterPanickingDestination(t *testing.T) {
	dst := &panicSink{}
	var pe *PanicError
	w := newTestWriter(t, dst, WithReportInterval(0), WithErrorFunc(func(err error, _ uint64) { errors.As(err, &pe) }))
	for i := 0; i < 10; i++ {
		_, _ = fmt.Fprintf(w, "0 %d\n", i)
		_ = w.Flush()
	}
	_ = w.Close()
	st := w.Stats()
	if st.Panics != 5 || st.WriteErrors != 5 || st.Failed != 5 || st.Written != 5 {
		t.Fatalf("stats %+v", st)
	}
	if pe == nil || pe.Op != "destination" || pe.Value != "destination exploded" {
		t.Fatalf("panic error %v", pe)
	}
	if got := dst.lines(); len(got) != 5 || got[0] != "0 1" {
		t.Fatalf("written %q", got)
	}
}

// TestWriterLongLines: lines longer than a slot, and batches larger than the batch cap, are
// written whole and in order.
func TestWriterLongLines(t *testing.T) {
	const producers, per = 2, 300
	dst := &lineSink{}
	w := newTestWriter(t, dst, WithSlotSize(16), WithMaxBatchBytes(1000), WithCapacity(8))
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				pad := bytes.Repeat([]byte{'a' + byte(i%26)}, []int{1, 40, 5000}[i%3])
				l := fmt.Sprintf("%d %d %s\n", p, i, pad)
				if _, err := io.WriteString(w, l); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	_ = w.Close()
	lines := dst.lines()
	counts := checkOrder(t, lines, producers)
	for p := range counts {
		if counts[p] != per {
			t.Errorf("producer %d: %d lines", p, counts[p])
		}
	}
	for _, l := range lines {
		var p, i int
		var pad string
		_, _ = fmt.Sscanf(l, "%d %d %s", &p, &i, &pad)
		if want := []int{1, 40, 5000}[i%3]; len(pad) != want || pad != string(bytes.Repeat([]byte{'a' + byte(i%26)}, want)) {
			t.Fatalf("line %d/%d mangled (len %d)", p, i, len(pad))
		}
	}
	if dst.torn != 0 {
		t.Fatalf("%d destination writes ended mid-line", dst.torn)
	}
}

type closeSink struct {
	lineSink
	closes int
}

func (c *closeSink) Close() error { c.closes++; return errors.New("close failed") }

func TestWriterCloseDestination(t *testing.T) {
	c := &closeSink{}
	w := newTestWriter(t, c, WithCloseDestination())
	_, _ = io.WriteString(w, "x\n")
	err1, err2 := w.Close(), w.Close()
	if err1 == nil || err1 != err2 || c.closes != 1 {
		t.Fatalf("Close: %v, %v, destination closed %d times", err1, err2, c.closes)
	}
	c = &closeSink{}
	w = newTestWriter(t, c)
	if err := w.Close(); err != nil || c.closes != 0 {
		t.Fatalf("destination closed without WithCloseDestination: %v %d", err, c.closes)
	}
}

func TestWriterMisc(t *testing.T) {
	if _, err := NewWriter(nil); err == nil {
		t.Error("nil destination accepted")
	}
	if _, err := NewWriter(io.Discard, WithMaxBatchBytes(0)); err == nil {
		t.Error("zero max batch accepted")
	}
	// The defaults: a Writer holds DefaultWriterCapacity lines in 512 KiB, a Ring DefaultCapacity.
	wd := newTestWriter(t, io.Discard)
	if wd.Capacity() != DefaultWriterCapacity || wd.bsize != 512<<10 || wd.runLines != DefaultWriterCapacity/2 {
		t.Errorf("default writer: %d lines, %d bytes, runs of %d lines", wd.Capacity(), wd.bsize, wd.runLines)
	}
	_ = wd.Close()
	dst := &lineSink{}
	w := newTestWriter(t, dst, WithCapacity(100))
	if w.Capacity() != 128 {
		t.Errorf("capacity %d", w.Capacity())
	}
	if n, err := w.Write(nil); n != 0 || err != nil {
		t.Errorf("empty Write: %d %v", n, err)
	}
	buf := []byte("reused\n")
	_, _ = w.Write(buf)
	copy(buf, "XXXXXX\n") // the writer has its own copy
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	if dst.buf.String() != "reused\n" {
		t.Errorf("destination %q", dst.buf.String())
	}
	_ = w.Close()
	if st := w.Stats(); st.Accepted != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestWriterZeroAllocs: a line that fits its slot costs no allocation.
func TestWriterZeroAllocs(t *testing.T) {
	w := newTestWriter(t, io.Discard)
	defer w.Close()
	line := bytes.Repeat([]byte("y"), 200)
	if a := testing.AllocsPerRun(10000, func() { _, _ = w.Write(line) }); a != 0 {
		t.Fatalf("%v allocations per Write", a)
	}
}

// TestOptionTypes: an option meant for one constructor is not an option of the other, so passing it
// there does not compile (before, WithSlotSize given to NewRing compiled and was ignored, and
// WithDiscardFunc given to NewWriter compiled and failed at run time). The options of both are both.
func TestOptionTypes(t *testing.T) {
	writerOnly := []any{WithSlotSize(1), WithMaxBatchBytes(1), WithCloseDestination(), WithLineDiscardFunc(nil)}
	for _, o := range writerOnly {
		if _, ok := o.(RingOption); ok {
			t.Errorf("%T is a RingOption", o)
		}
		if _, ok := o.(WriterOption); !ok {
			t.Errorf("%T is not a WriterOption", o)
		}
	}
	var ringOnly any = WithDiscardFunc(func(*int, uint64) {})
	if _, ok := ringOnly.(WriterOption); ok {
		t.Error("WithDiscardFunc is a WriterOption")
	}
	both := []any{WithCapacity(1), WithPolicy(Discard), WithWaitStrategy(WaitPark), WithReportInterval(0), WithErrorFunc(nil)}
	for _, o := range both {
		_, r := o.(RingOption)
		_, w := o.(WriterOption)
		if !r || !w {
			t.Errorf("%T: RingOption %v, WriterOption %v", o, r, w)
		}
	}
}

// TestOptionErrorsNameTheOption: a value out of range is an error naming the option.
func TestOptionErrorsNameTheOption(t *testing.T) {
	for want, opt := range map[string]WriterOption{
		"WithCapacity(-5)":                  WithCapacity(-5),
		"WithPolicy(Policy(9))":             WithPolicy(Policy(9)),
		"WithSlotSize(0)":                   WithSlotSize(0),
		"WithMaxBatchBytes(-1)":             WithMaxBatchBytes(-1),
		"WithReportInterval(-1s)":           WithReportInterval(-time.Second),
		"WithWaitStrategy(WaitStrategy(5))": WithWaitStrategy(WaitStrategy(5)),
	} {
		w, err := NewWriter(io.Discard, opt)
		if err == nil {
			_ = w.Close()
			t.Errorf("%s accepted", want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
}
