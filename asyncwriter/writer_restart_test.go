package asyncwriter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Tests of the restart (a line claimed when the ring is empty goes back to the ring's start, see
// hotBytes) together with the rest of the Writer: the packed counters' wrap-around, torn lines
// kept across failed writes, the Discard policy, Close. TestWriterRingRestart covers the restart
// alone.

// restartRing is the options of a 64 KiB ring (256 lines of 256 bytes): lines up to 32 KiB are
// copied into it, and a position is often hotBytes (16 KiB) in or more.
func restartRing(more ...WriterOption) []WriterOption {
	return append([]WriterOption{WithCapacity(256), WithSlotSize(256)}, more...)
}

// nextOffset is the placement rule, written out for the tests: the offset in the ring of the
// next free byte after a line of n bytes (n at most half the ring) is put into an empty ring at
// offset off, and whether the line went back to the ring's start although it fitted before its
// end.
func nextOffset(off, n, bsize uint64) (uint64, bool) {
	switch {
	case off+n > bsize: // skips the ring's end
		return n, false
	case off >= hotBytes && n <= off: // the restart
		return n, true
	}
	return off + n, false
}

// writeEmpty writes l to w, whose ring must be empty (every line handled, none in flight: the
// caller is the only producer and has flushed), checks that l was accepted and placed as
// nextOffset says, and flushes. It reports whether l went back to the ring's start. It must be
// called from the test's goroutine.
func writeEmpty(t *testing.T, w *Writer, l []byte) bool {
	t.Helper()
	word := w.word.Load()
	if f := uint64(w.freed.Load()) & posMask; f != word&posMask {
		t.Fatalf("ring not empty: freed %d, claimed %d", f, word&posMask)
	}
	off := word & posMask & w.bmask
	want, restart := nextOffset(off, uint64(len(l)), w.bsize)
	if n, err := w.Write(l); n != len(l) || err != nil {
		t.Fatalf("Write of %d bytes at offset %d of an empty ring: %d, %v", len(l), off, n, err)
	}
	if got := w.word.Load() & posMask & w.bmask; got != want {
		t.Fatalf("a line of %d bytes at offset %d of an empty ring left the position at offset %d, want %d",
			len(l), off, got, want)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return restart
}

// lineOf returns mkLine(p, i, pad) with the pad that makes it exactly n bytes long.
func lineOf(p, i, n int) []byte {
	return mkLine(p, i, n-len(mkLine(p, i, 0)))
}

// TestWriterRestartBoundaries: the placement in an empty ring at the edges of the rule, with the
// Discard policy (which would refuse a line it found no room for): a line exactly as long as the
// offset goes to the ring's start (its end is then exactly a ring after the freed position, the
// most room there is) and one byte longer stays; offset exactly hotBytes restarts, one less does
// not; a line that ends exactly at the ring's end restarts rather than stay.
func TestWriterRestartBoundaries(t *testing.T) {
	dst := &lineSink{}
	w := newTestWriter(t, dst, restartRing(WithPolicy(Discard))...)
	const o = 20000
	var want bytes.Buffer
	steps := []struct {
		n       int  // line length
		off     int  // offset before it
		restart bool // whether it goes to the ring's start
	}{
		{o, 0, false},                       // -> o
		{o, o, true},                        // n == off: -> o
		{o + 1, o, false},                   // n == off+1: -> 2o+1
		{64<<10 - (2*o + 1), 2*o + 1, true}, // ends exactly at the ring's end: -> 25535
		{hotBytes, 64<<10 - (2*o + 1), true},
		{hotBytes, hotBytes, true}, // off == hotBytes
		{100, hotBytes, true},
		{hotBytes - 1 - 100, 100, false}, // -> hotBytes-1
		{100, hotBytes - 1, false},       // off == hotBytes-1: -> hotBytes+99
	}
	for i, s := range steps {
		if off := int(w.word.Load() & posMask & w.bmask); off != s.off {
			t.Fatalf("step %d: at offset %d, want %d", i, off, s.off)
		}
		l := lineOf(0, i, s.n)
		want.Write(l)
		if got := writeEmpty(t, w, l); got != s.restart {
			t.Fatalf("step %d: restart %v, want %v", i, got, s.restart)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Accepted != uint64(len(steps)) || st.Written != st.Accepted || st.Discarded != 0 {
		t.Fatalf("stats %+v", st)
	}
	if !bytes.Equal(dst.buf.Bytes(), want.Bytes()) {
		t.Fatal("the destination holds other bytes than the lines written")
	}
}

// TestWriterRestartCounterWrap: restarts on both sides of the packed position's wrap-around
// (2^posBits) and concurrent writes with flushes through the line number's wrap-around
// (2^seqBits): the restart still happens after the wrap, and every line arrives whole, in order.
func TestWriterRestartCounterWrap(t *testing.T) {
	const ring = 64 << 10
	dst := &lineSink{}
	// The position starts 2.5 rings before its wrap (at offset 32 KiB, beyond hotBytes); the
	// line number 1000 before its wrap.
	seq0, pos0 := int64(seqMask+1-1000), int64(posMask+1-5*ring/2)
	w, err := newWriter(dst, seq0, pos0, restartRing())
	if err != nil {
		t.Fatal(err)
	}
	if w.bsize != ring {
		t.Fatalf("ring of %d bytes", w.bsize)
	}
	// Producer 2 alone, flushing after every line: each line's placement is checked; a restart
	// moves the absolute position on by about a ring, so the position wraps early.
	const seqLines = 400
	r := rnd(3)
	pads2 := make([]int, seqLines)
	before, after := 0, 0 // restarts before and after the position's wrap
	for i := range pads2 {
		if pads2[i] = 100 + r.intn(3000); i%10 == 9 {
			pads2[i] = 20000 // longer than hotBytes: restarts only from farther in
		}
		wrapped := w.freed.Load() > posMask
		if writeEmpty(t, w, mkLine(2, i, pads2[i])) {
			if wrapped {
				after++
			} else {
				before++
			}
		}
	}
	if before == 0 || after < 10 {
		t.Fatalf("%d restarts before the position's wrap-around, %d after", before, after)
	}
	if w.handled.Load() > seqMask {
		t.Fatal("the line number wrapped already: the concurrent part would not pass it")
	}
	// Producers 0 and 1 together, flushing now and then (so the ring is often empty), through
	// the line number's wrap-around.
	const producers, per = 2, 1500
	pads := make([][]int, producers)
	for p := range pads {
		r := rnd(p + 21)
		pads[p] = make([]int, per)
		for i := range pads[p] {
			if pads[p][i] = r.intn(2500); i%50 == 0 {
				pads[p][i] = 20000
			}
		}
	}
	writeFlushing(t, w, producers, per, func(p, i int) int { return pads[p][i] }, func(i int) bool { return i%4 == 3 })
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	counts := checkLines(t, dst.lines(), 3, func(p, i int) int {
		if p == 2 {
			return pads2[i]
		}
		return pads[p][i]
	})
	if counts[0] != per || counts[1] != per || counts[2] != seqLines {
		t.Fatalf("lines written per producer: %v", counts)
	}
	st := w.Stats()
	if st.Accepted != producers*per+seqLines || st.Written != st.Accepted || st.Failed != 0 || dst.torn != 0 {
		t.Fatalf("stats %+v, %d torn writes", st, dst.torn)
	}
	if w.handled.Load() <= seqMask || w.freed.Load() <= posMask {
		t.Fatalf("counters did not wrap: line %d, byte %d", w.handled.Load(), w.freed.Load())
	}
}

// windowSink fails its Writes numbered from to to (counting from 1), each after writing partial
// bytes of p; the others work.
type windowSink struct {
	lineSink
	from, to, partial int
	calls             int
}

func (s *windowSink) Write(p []byte) (int, error) {
	s.calls++
	if s.calls >= s.from && s.calls <= s.to {
		n := min(s.partial, len(p))
		_, _ = s.lineSink.Write(p[:n])
		return n, errFlaky
	}
	return s.lineSink.Write(p)
}

// TestWriterRestartCarry: a line put at the ring's start by a restart is torn by a failing
// destination; while the destination keeps failing, the next lines restart onto the ring bytes
// the torn line came from. When the destination recovers, the rest of the torn line is written
// first, whole (it was kept apart from the ring), then the lines after the failures.
func TestWriterRestartCarry(t *testing.T) {
	// Write 1 and 2 work, 3 to 8 fail (each writing 3 bytes), the rest work.
	dst := &windowSink{from: 3, to: 8, partial: 3}
	w := newTestWriter(t, dst, restartRing()...)
	r := rnd(9)
	pads := make([]int, 40)
	for i := range pads {
		pads[i] = 100 + r.intn(15000)
	}
	pads[0], pads[1], pads[2] = 12000, 12000, 20000
	var lines [][]byte
	var restarted []int
	for i, pad := range pads {
		l := mkLine(0, i, pad)
		lines = append(lines, l)
		if writeEmpty(t, w, l) {
			restarted = append(restarted, i)
		}
	}
	// Lines 0 and 1 end beyond hotBytes; line 2 (shorter than that position) goes to the ring's
	// start and is torn by write 3; line 3 goes to the ring's start too, over line 2's bytes.
	if len(restarted) < 2 || restarted[0] != 2 || restarted[1] != 3 {
		t.Fatalf("lines put at the ring's start: %v", restarted)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Write 3 tore line 2; writes 4 to 8 (one per line 3 to 7) went to its rest and failed, so
	// lines 3 to 7 were lost; write 9 finished line 2, write 10 was line 8.
	want := append(bytes.Join(lines[:3], nil), bytes.Join(lines[8:], nil)...)
	if got := dst.buf.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("destination holds %d bytes (%.60q...), want %d", len(got), got, len(want))
	}
	st := w.Stats()
	if st.Accepted != 40 || st.Written != 35 || st.Failed != 5 || st.WriteErrors != 6 {
		t.Fatalf("stats %+v", st)
	}
}

// runFailSink: a Write holding "GATE" waits for open (entered is closed when it starts); Write
// number failCall (counting from 1) writes partial bytes and fails; the others work.
type runFailSink struct {
	lineSink
	entered, open     chan struct{}
	failCall, partial int
	calls             int
}

func (s *runFailSink) Write(p []byte) (int, error) {
	s.calls++
	if bytes.Contains(p, []byte("GATE")) {
		close(s.entered)
		<-s.open
	}
	if s.calls == s.failCall {
		_, _ = s.lineSink.Write(p[:s.partial])
		return s.partial, errFlaky
	}
	return s.lineSink.Write(p)
}

// TestWriterRestartFailedRun: a run of several lines whose first went back to the ring's start
// fails in its second line: the line ends worked out from the descriptors must not count the
// restart flag as length, so the first line is counted written, the second's rest is kept and
// written once the destination works, and the third is lost.
func TestWriterRestartFailedRun(t *testing.T) {
	dst := &runFailSink{entered: make(chan struct{}), open: make(chan struct{}), failCall: 4}
	w := newTestWriter(t, dst, restartRing()...)
	a, b := mkLine(0, 0, 12000), mkLine(0, 1, 12000)
	writeEmpty(t, w, a) // write 1
	writeEmpty(t, w, b) // write 2; the position is now beyond hotBytes, the ring empty
	// Write 3, a line too long for the ring (written from its heap copy), waits at the gate.
	// It takes no ring bytes: the ring stays empty while it waits.
	gate := mkLine(0, 2, int(w.maxInline))
	copy(gate[len(gate)-10:], "GATE")
	if _, err := w.Write(gate); err != nil {
		t.Fatal(err)
	}
	<-dst.entered
	off := w.word.Load() & posMask & w.bmask
	x, y, z := mkLine(0, 3, 1000), mkLine(0, 4, 500), mkLine(0, 5, 300)
	for _, l := range [][]byte{x, y, z} {
		if _, err := w.Write(l); err != nil {
			t.Fatal(err)
		}
	}
	// x went to the ring's start (y and z follow it): the consumer takes x, y, z in one Write
	// (write 4), which writes x and part of y, and fails.
	if got := w.word.Load() & posMask & w.bmask; off < hotBytes || got != uint64(len(x)+len(y)+len(z)) {
		t.Fatalf("x, y, z claimed from offset %d to %d", off, got)
	}
	dst.partial = len(x) + 10
	close(dst.open)
	_ = w.Flush()
	u := mkLine(0, 6, 50)
	if _, err := w.Write(u); err != nil { // write 5: the rest of y; write 6: u
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := bytes.Join([][]byte{a, b, gate, x, y, u}, nil)
	if got := dst.buf.Bytes(); !bytes.Equal(got, want) {
		t.Fatalf("destination holds %d bytes, want %d", len(got), len(want))
	}
	st := w.Stats()
	if st.Accepted != 7 || st.Written != 6 || st.Failed != 1 || st.WriteErrors != 1 || st.Batches != 6 {
		t.Fatalf("stats %+v", st)
	}
}

// switchSink fails every third Write, after writing a few of its bytes, while failing is set.
type switchSink struct {
	lineSink
	failing atomic.Bool
	calls   int
}

func (s *switchSink) Write(p []byte) (int, error) {
	s.calls++
	if s.failing.Load() && s.calls%3 == 0 {
		n := min(s.calls%11*7, len(p))
		_, _ = s.lineSink.Write(p[:n])
		return n, errFlaky
	}
	return s.lineSink.Write(p)
}

// TestWriterRestartCarryConcurrent: producers that flush now and then (so that lines often go
// back to the ring's start) write into a destination that tears every third Write; once it
// works again, the destination holds only whole lines, in order per producer, and every accepted
// line is counted written or failed.
func TestWriterRestartCarryConcurrent(t *testing.T) {
	const producers, per = 2, 2000
	dst := &switchSink{}
	dst.failing.Store(true)
	w := newTestWriter(t, dst, restartRing()...)
	padOf := func(p, i int) int {
		if i%40 == 0 {
			return 20000
		}
		return (i*7919 + p*104729) % 3000
	}
	writeFlushing(t, w, producers, per, padOf, func(i int) bool { return i%3 == 2 })
	// The destination works again: the next Write finishes a torn line, if one is kept.
	dst.failing.Store(false)
	if _, err := w.Write(mkLine(producers, 0, 10)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	last := make([]int, producers+1)
	for p := range last {
		last[p] = -1
	}
	lines := dst.lines()
	for _, l := range lines {
		var p, i int
		if _, err := fmt.Sscanf(l, "%d %d", &p, &i); err != nil || p < 0 || p > producers {
			t.Fatalf("bad line %.40q", l)
		}
		if i <= last[p] {
			t.Fatalf("producer %d: line %d after line %d", p, i, last[p])
		}
		if p < producers && l+"\n" != string(mkLine(p, i, padOf(p, i))) || p == producers && l+"\n" != string(mkLine(p, 0, 10)) {
			t.Fatalf("producer %d line %d mangled (%d bytes)", p, i, len(l)+1)
		}
		last[p] = i
	}
	if !bytes.HasSuffix(dst.buf.Bytes(), mkLine(producers, 0, 10)) {
		t.Fatal("the last line is not the last written")
	}
	st := w.Stats()
	if st.Accepted != producers*per+1 || st.Written+st.Failed != st.Accepted || st.Written != uint64(len(lines)) {
		t.Fatalf("stats %+v, %d lines written", st, len(lines))
	}
	if st.WriteErrors == 0 || st.Failed == 0 {
		t.Fatalf("no failed write: stats %+v", st)
	}
}

// valveSink makes every Write wait while it is shut.
type valveSink struct {
	lineSink
	vmu  sync.Mutex
	gate chan struct{} // nil or closed: open
}

func (s *valveSink) shut() {
	s.vmu.Lock()
	s.gate = make(chan struct{})
	s.vmu.Unlock()
}

func (s *valveSink) open() {
	s.vmu.Lock()
	close(s.gate)
	s.vmu.Unlock()
}

func (s *valveSink) Write(p []byte) (int, error) {
	s.vmu.Lock()
	g := s.gate
	s.vmu.Unlock()
	if g != nil {
		<-g
	}
	return s.lineSink.Write(p)
}

// TestWriterRestartDiscard: with the Discard policy, rounds in which producers write into a
// stalled destination (the ring fills, lines are discarded) alternate with rounds in which it
// drains; then, the ring empty, a line longer than the position's offset is accepted (an empty
// ring never discards) and a line that fits before it goes to the ring's start. In the end
// accepted + discarded == produced and every accepted line is written, whole, in order.
func TestWriterRestartDiscard(t *testing.T) {
	const producers, per, rounds = 2, 400, 12
	dst := &valveSink{}
	w := newTestWriter(t, dst, restartRing(WithPolicy(Discard))...)
	padOf := func(p, i int) int { return 50 + (i*7919+p*104729)%950 }
	accepted := make([][]bool, producers)
	var probes [][]byte // producer 2's lines, all written with the ring empty
	restarts := 0
	for round := 0; round < rounds; round++ {
		dst.shut()
		var wg sync.WaitGroup
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < per; k++ {
					i := len(accepted[p])
					_, err := w.Write(mkLine(p, i, padOf(p, i)))
					if err != nil && err != ErrFull {
						t.Error(err)
						return
					}
					accepted[p] = append(accepted[p], err == nil)
				}
			}()
		}
		wg.Wait()
		dst.open()
		_ = w.Flush()
		// The ring is empty: one line longer than the offset, if that fits before the ring's
		// end, else one that reaches it exactly; then one that fits before the offset.
		off := int(w.word.Load() & posMask & w.bmask)
		n := off + 1
		if 2*off+1 > int(w.bsize) {
			n = int(w.bsize) - off
		}
		for _, n := range []int{max(n, 64), max(off/2, 64)} {
			l := mkLine(producers, len(probes), 0)
			l = mkLine(producers, len(probes), n-len(l))
			probes = append(probes, l)
			if writeEmpty(t, w, l) {
				restarts++
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st := w.Stats()
	var ok, full int
	for p := range accepted {
		for _, a := range accepted[p] {
			if a {
				ok++
			} else {
				full++
			}
		}
	}
	ok += len(probes)
	if st.Accepted != uint64(ok) || st.Discarded != uint64(full) || ok+full != producers*per*rounds+len(probes) {
		t.Fatalf("stats %+v; producers saw %d accepted, %d discarded", st, ok, full)
	}
	if full == 0 || restarts == 0 {
		t.Fatalf("%d lines discarded, %d lines put at the ring's start", full, restarts)
	}
	if st.Written != st.Accepted || st.Failed != 0 || dst.torn != 0 {
		t.Fatalf("stats %+v, %d torn writes", st, dst.torn)
	}
	var want, got [producers + 1]strings.Builder
	for p := range accepted {
		for i, a := range accepted[p] {
			if a {
				want[p].Write(mkLine(p, i, padOf(p, i)))
			}
		}
	}
	for _, l := range probes {
		want[producers].Write(l)
	}
	for _, l := range dst.lines() {
		var p int
		if _, err := fmt.Sscanf(l, "%d", &p); err != nil || p < 0 || p > producers {
			t.Fatalf("bad line %.40q", l)
		}
		got[p].WriteString(l + "\n")
	}
	for p := range got {
		if got[p].String() != want[p].String() {
			t.Errorf("producer %d: the lines written differ from the lines accepted", p)
		}
	}
}

// TestWriterRestartCloseRace: Close (two of them) while producers write lines of all sizes (some
// longer than hotBytes, some for the heap) and flush often, so that claims that go back to the
// ring's start race with the closed bit: no deadlock, and exactly the accepted lines are written,
// whole and in order.
func TestWriterRestartCloseRace(t *testing.T) {
	padOf := func(p, i int) int {
		switch {
		case i%89 == 88:
			return 40000 // on the heap
		case i%61 == 60:
			return 20000
		}
		return (i*7919 + p*104729) % 4000
	}
	for _, pol := range []Policy{Block, Discard} {
		for _, ws := range []WaitStrategy{WaitPark, WaitYield, WaitBackoff} {
			for round := 0; round < 3; round++ {
				t.Run(fmt.Sprint(pol, "_", ws, "_", round), func(t *testing.T) {
					testRestartCloseRace(t, padOf, 300+100*round, restartRing(WithPolicy(pol), WithWaitStrategy(ws)))
				})
			}
		}
	}
}

// testRestartCloseRace is one round of TestWriterRestartCloseRace on a Writer made with opts;
// each producer makes warmup attempts before the closers start.
func testRestartCloseRace(t *testing.T, padOf func(p, i int) int, warmup int, opts []WriterOption) {
	const producers = 3
	dst := &lineSink{}
	w := newTestWriter(t, dst, opts...)
	ok := closeWhileWriting(t, w, producers, 2, warmup, true, func(p, i, _ int) []byte {
		if i%5 == 4 {
			_ = w.Flush() // the ring is often empty when the line is claimed
		}
		return mkLine(p, i, padOf(p, i))
	})
	checkAcceptedWritten(t, w, dst, ok, padOf)
}
