package asyncwriter

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// Tests of the Writer's byte ring: lines that skip the end of the ring, lines of the boundary
// sizes, lines too long for the ring, the packed counters' wrap-around.

// mkLine returns the line "<producer> <i> <pad>\n" with a pad of the given length made of one
// letter that depends on i, so that a mangled line is seen.
func mkLine(p, i, pad int) []byte {
	b := fmt.Appendf(nil, "%d %d ", p, i)
	b = append(b, bytes.Repeat([]byte{'a' + byte(i%26)}, pad)...)
	return append(b, '\n')
}

// checkLines checks that lines (as split by lineSink.lines) are the lines produced by mkLine
// with the pad lengths padOf(p, i), in order per producer, and returns the count per producer.
func checkLines(t *testing.T, lines []string, producers int, padOf func(p, i int) int) []int {
	t.Helper()
	next := make([]int, producers)
	for _, l := range lines {
		var p, i int
		if _, err := fmt.Sscanf(l, "%d %d", &p, &i); err != nil || p < 0 || p >= producers {
			t.Fatalf("bad line %.40q", l)
		}
		if i != next[p] {
			t.Fatalf("producer %d: got line %d, want %d", p, i, next[p])
		}
		if want := string(mkLine(p, i, padOf(p, i))); l+"\n" != want {
			t.Fatalf("producer %d line %d mangled: %d bytes, want %d", p, i, len(l)+1, len(want))
		}
		next[p]++
	}
	return next
}

// rnd is a small deterministic generator (xorshift) for line lengths.
type rnd uint64

func (r *rnd) intn(n int) int {
	*r ^= *r << 13
	*r ^= *r >> 7
	*r ^= *r << 17
	return int(uint64(*r) % uint64(n))
}

// TestWriterRingWrapAround: producers write lines of random lengths up to the longest line the
// ring takes (half of it) through a small ring, so that lines often meet the ring's end and skip
// to its start; every line arrives whole and in order, and every destination Write ends at a
// line's end.
func TestWriterRingWrapAround(t *testing.T) {
	for _, producers := range []int{1, 3} {
		t.Run(fmt.Sprint(producers, "p"), func(t *testing.T) {
			const per = 3000
			dst := &lineSink{}
			// ring of 16 × 32 = 512 bytes: lines up to 256 bytes are copied into it.
			w := newTestWriter(t, dst, WithCapacity(16), WithSlotSize(32))
			if w.bsize != 512 || w.maxInline != 256 {
				t.Fatalf("ring of %d bytes, longest line %d", w.bsize, w.maxInline)
			}
			pads := make([][]int, producers)
			for p := range pads {
				r := rnd(p + 1)
				pads[p] = make([]int, per)
				for i := range pads[p] {
					pads[p][i] = r.intn(240) // line length up to 240 + len("2 2999 \n")
				}
			}
			var wg sync.WaitGroup
			for p := 0; p < producers; p++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						l := mkLine(p, i, pads[p][i])
						if uint64(len(l)) > w.maxInline {
							t.Errorf("line of %d bytes would go to the heap", len(l))
							return
						}
						if n, err := w.Write(l); n != len(l) || err != nil {
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
			counts := checkLines(t, dst.lines(), producers, func(p, i int) int { return pads[p][i] })
			for p, c := range counts {
				if c != per {
					t.Errorf("producer %d: %d lines written", p, c)
				}
			}
			st := w.Stats()
			if st.Accepted != uint64(producers*per) || st.Written != st.Accepted || st.Failed != 0 || dst.torn != 0 {
				t.Fatalf("stats %+v, %d torn writes", st, dst.torn)
			}
			if st.Bytes != uint64(dst.buf.Len()) || uint64(dst.writes) != st.Batches {
				t.Fatalf("stats %+v, destination got %d bytes in %d writes", st, dst.buf.Len(), dst.writes)
			}
		})
	}
}

// TestWriterRingRestart: a line claimed when the ring is empty goes back to the ring's start
// once the position is hotBytes into it (see hotBytes), if it fits before the old position.
func TestWriterRingRestart(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		dst := &lineSink{}
		w := newTestWriter(t, dst) // the default ring, much larger than hotBytes
		if w.bsize < 8*hotBytes {
			t.Fatalf("ring of %d bytes", w.bsize)
		}
		r := rnd(7)
		pads := make([]int, 2000)
		for i := range pads {
			if pads[i] = 100 + r.intn(900); i%50 == 49 {
				// A long line now and then; the rule's edges (a line longer than the position it
				// would restart from, say) are TestWriterRestartBoundaries'.
				pads[i] = 2 * hotBytes
			}
		}
		var farthest uint64
		for i, pad := range pads {
			if _, err := w.Write(mkLine(0, i, pad)); err != nil {
				t.Fatal(err)
			}
			// The line just written ends where the next begins; Flush empties the ring.
			farthest = max(farthest, w.word.Load()&posMask&w.bmask)
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		// Without the restart, 2000 lines of 100 to 1000 bytes (and the long ones) would
		// have gone around the whole ring.
		if limit := uint64(3*hotBytes + 1100); farthest > limit {
			t.Errorf("the ring was used up to %d bytes, want at most %d", farthest, limit)
		}
		if c := checkLines(t, dst.lines(), 1, func(_, i int) int { return pads[i] }); c[0] != len(pads) {
			t.Fatalf("%d lines written, want %d", c[0], len(pads))
		}
		if dst.torn != 0 {
			t.Fatalf("%d torn writes", dst.torn)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		// Producers that now and then flush (so the ring is often empty) and lines of all sizes
		// up to a quarter of the ring: restarts race with claims at the old position.
		const producers, per = 3, 3000
		dst := &lineSink{}
		w := newTestWriter(t, dst, WithCapacity(1024), WithSlotSize(128)) // a 128 KiB ring
		pads := make([][]int, producers)
		for p := range pads {
			r := rnd(p + 11)
			pads[p] = make([]int, per)
			for i := range pads[p] {
				if pads[p][i] = r.intn(600); i%97 == 0 {
					pads[p][i] = r.intn(int(w.bsize / 4))
				}
			}
		}
		writeFlushing(t, w, producers, per, func(p, i int) int { return pads[p][i] }, func(i int) bool { return i%13 == 0 })
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		counts := checkLines(t, dst.lines(), producers, func(p, i int) int { return pads[p][i] })
		for p, c := range counts {
			if c != per {
				t.Errorf("producer %d: %d lines written", p, c)
			}
		}
		if st := w.Stats(); st.Written != producers*per || st.Failed != 0 || dst.torn != 0 {
			t.Fatalf("stats %+v, %d torn writes", st, dst.torn)
		}
	})
}

// writeFlushing writes lines mkLine(p, i, padOf(p, i)), i < per, from producers goroutines p, each
// calling Flush after the lines for which flushAfter(i) holds, and returns when all are written.
func writeFlushing(t *testing.T, w *Writer, producers, per int, padOf func(p, i int) int, flushAfter func(i int) bool) {
	t.Helper()
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if _, err := w.Write(mkLine(p, i, padOf(p, i))); err != nil {
					t.Error(err)
					return
				}
				if flushAfter(i) {
					_ = w.Flush()
				}
			}
		}()
	}
	wg.Wait()
}

// gateSink blocks the Write whose bytes contain "GATE" until open is closed; entered is closed
// when that Write starts.
type gateSink struct {
	lineSink
	entered, open chan struct{}
	once          sync.Once
	sizes         []int // size of every Write
}

func (g *gateSink) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("GATE")) {
		g.once.Do(func() { close(g.entered) })
		<-g.open
	}
	g.mu.Lock()
	g.sizes = append(g.sizes, len(p))
	g.mu.Unlock()
	return g.lineSink.Write(p)
}

// fixed returns a line of exactly n bytes (n >= 2): a letter, dots and a newline.
func fixed(c byte, n int) []byte {
	b := bytes.Repeat([]byte{'.'}, n)
	b[0] = c
	b[n-1] = '\n'
	return b
}

// TestWriterRingBoundaries: a line that ends exactly at the ring's end, the lines after it (at
// the ring's start), a line that would cross the end by one byte, and lines of exactly half the
// ring (the longest copied into it) and one byte more (the shortest copied to the heap), all taken
// by the consumer in one go: each Write holds contiguous ring memory, in order.
func TestWriterRingBoundaries(t *testing.T) {
	g := &gateSink{entered: make(chan struct{}), open: make(chan struct{})}
	w := newTestWriter(t, g, WithCapacity(16), WithSlotSize(64)) // 1024 bytes, lines up to 512 inline
	if w.bsize != 1024 || w.maxInline != 512 {
		t.Fatalf("ring of %d bytes, longest line %d", w.bsize, w.maxInline)
	}
	var want bytes.Buffer
	put := func(l []byte) {
		t.Helper()
		if _, err := w.Write(l); err != nil {
			t.Fatal(err)
		}
		want.Write(l)
	}
	// Bytes 0..624 are written and freed.
	put(fixed('a', 300))
	put(fixed('b', 324))
	_ = w.Flush()
	// The consumer takes the gate line [624, 824) alone and waits in Write.
	gate := fixed('g', 200)
	copy(gate[1:], "GATE")
	put(gate)
	<-g.entered
	// While it waits: h ends exactly at the ring's end [824, 1024); i and j follow at its start
	// [1024, 1224); k [1224, 1625) (room: 1625 - 624 <= 1024).
	put(fixed('h', 200))
	put(fixed('i', 100))
	put(fixed('j', 100))
	put(fixed('k', 401))
	close(g.open)
	_ = w.Flush()
	// Now at 1625 (offset 601): l, 424 bytes, would end one byte past the ring's end: it skips
	// to the start (2048). Then m, exactly half the ring (copied into it), and n, one byte more
	// (on the heap), o and p (on the heap too).
	put(fixed('l', 424))
	put(fixed('m', 512))
	put(fixed('n', 513))
	put(fixed('o', 5000))
	put(fixed('p', 1024))
	_ = w.Flush()
	// The gate; h alone (a Write never goes past the ring's end); i and j; k (i+j+k would pass
	// half the ring, the most one Write carries); l; m; and each heap line by itself.
	if len(g.sizes) < 9 || fmt.Sprint(g.sizes[len(g.sizes)-9:]) != "[200 200 200 401 424 512 513 5000 1024]" {
		t.Fatalf("writes: %v", g.sizes)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if g.buf.String() != want.String() {
		t.Fatalf("destination holds %d bytes, want %d (or different bytes)", g.buf.Len(), want.Len())
	}
	st := w.Stats()
	if st.Accepted != 12 || st.Written != 12 || g.torn != 0 {
		t.Fatalf("stats %+v, %d torn", st, g.torn)
	}
	// After the skip: the position of l is 2048 (after the skipped 423 bytes of the ring's end).
	if w.cpos != 2048+424+512 || w.cseq != 12 {
		t.Fatalf("consumer at byte %d, line %d", w.cpos, w.cseq)
	}
}

// TestWriterRunHalfLines: a Write carries at most half the ring's lines, even when their bytes
// are few, so that producers can fill the other half while the destination takes it.
func TestWriterRunHalfLines(t *testing.T) {
	g := &gateSink{entered: make(chan struct{}), open: make(chan struct{})}
	w := newTestWriter(t, g, WithCapacity(8), WithSlotSize(64)) // 8 lines, 512 bytes
	gate := fixed('g', 20)
	copy(gate[1:], "GATE")
	var want bytes.Buffer
	put := func(l []byte) {
		t.Helper()
		if _, err := w.Write(l); err != nil {
			t.Fatal(err)
		}
		want.Write(l)
	}
	put(gate)
	<-g.entered
	// While the consumer waits in Write, the 7 free line numbers fill (70 bytes of 512).
	for c := byte('a'); c < 'h'; c++ {
		put(fixed(c, 10))
	}
	close(g.open)
	_ = w.Flush()
	if fmt.Sprint(g.sizes) != "[20 40 30]" {
		t.Fatalf("writes: %v, want the gate, then 4 lines, then 3", g.sizes)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if g.buf.String() != want.String() || g.torn != 0 {
		t.Fatalf("destination holds %q, want %q", g.buf.String(), want.String())
	}
}

// TestWriterHugeLines: lines longer than half the ring go to the heap and are written whole, by
// themselves, in order with the short lines around them, from several producers; with Discard a
// full ring drops them like any line.
func TestWriterHugeLines(t *testing.T) {
	const producers, per = 3, 200
	padOf := func(p, i int) int { return []int{3, 100, 300, 20000, 511}[(p+i)%5] }
	for _, pol := range []Policy{Block, Discard} {
		t.Run(pol.String(), func(t *testing.T) {
			dst := &lineSink{}
			w := newTestWriter(t, dst, WithCapacity(8), WithSlotSize(64), WithPolicy(pol)) // 512 bytes
			var wg sync.WaitGroup
			var accepted [producers][]bool
			for p := 0; p < producers; p++ {
				wg.Add(1)
				accepted[p] = make([]bool, per)
				go func() {
					defer wg.Done()
					for i := 0; i < per; i++ {
						_, err := w.Write(mkLine(p, i, padOf(p, i)))
						if err != nil && (pol == Block || err != ErrFull) {
							t.Error(err)
							return
						}
						accepted[p][i] = err == nil
					}
				}()
			}
			wg.Wait()
			_ = w.Close()
			if dst.torn != 0 {
				t.Fatalf("%d destination writes ended mid-line", dst.torn)
			}
			next := make([]int, producers)
			for _, l := range dst.lines() {
				var p, i int
				if _, err := fmt.Sscanf(l, "%d %d", &p, &i); err != nil || p < 0 || p >= producers {
					t.Fatalf("bad line %.40q", l)
				}
				for next[p] < per && !accepted[p][next[p]] {
					next[p]++
				}
				if i != next[p] || l+"\n" != string(mkLine(p, i, padOf(p, i))) {
					t.Fatalf("producer %d: got line %d (%d bytes), want line %d", p, i, len(l), next[p])
				}
				next[p]++
			}
			st := w.Stats()
			if st.Written != st.Accepted || st.Accepted+st.Discarded != producers*per {
				t.Fatalf("stats %+v", st)
			}
			if pol == Block && st.Accepted != producers*per {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// TestWriterCloseDuringMixedWrites: Close while producers write lines of every kind (short, long
// enough to skip the ring's end, on the heap) through a tiny ring: no panic, no deadlock, every
// accepted line written whole and in order.
func TestWriterCloseDuringMixedWrites(t *testing.T) {
	padOf := func(p, i int) int { return []int{1, 60, 120, 200, 700}[(i*7+p)%5] }
	for _, pol := range []Policy{Block, Discard} {
		t.Run(pol.String(), func(t *testing.T) {
			const producers = 4
			dst := &lineSink{}
			w := newTestWriter(t, dst, WithCapacity(8), WithSlotSize(32), WithPolicy(pol)) // 256 bytes
			ok := closeWhileWriting(t, w, producers, 2, 500, false, func(p, i, _ int) []byte {
				return mkLine(p, i, padOf(p, i))
			}) // indexes of accepted lines
			checkAcceptedWritten(t, w, dst, ok, padOf)
		})
	}
}

// TestWriterCounterWrapAround: the packed line number and byte position pass their moduli
// (2^26 and 2^37) while lines flow; nothing is lost and Stats and Flush keep working.
func TestWriterCounterWrapAround(t *testing.T) {
	const producers, per = 2, 5000
	dst := &lineSink{}
	w, err := newWriter(dst, seqMask+1-3000, posMask+1-100000, []WriterOption{WithCapacity(64), WithSlotSize(64)})
	if err != nil {
		t.Fatal(err)
	}
	padOf := func(p, i int) int { return (i * 37) % 150 }
	writeFlushing(t, w, producers, per, padOf, func(i int) bool { return i%1000 == 999 })
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Accepted != producers*per || st.Written != producers*per {
		t.Fatalf("stats after Flush %+v", st)
	}
	_ = w.Close()
	counts := checkLines(t, dst.lines(), producers, padOf)
	for p, c := range counts {
		if c != per {
			t.Errorf("producer %d: %d lines", p, c)
		}
	}
	if w.cseq <= seqMask || w.cpos <= posMask {
		t.Fatalf("counters did not wrap: line %d, byte %d", w.cseq, w.cpos)
	}
	if st := w.Stats(); st.Accepted != producers*per || st.Written != producers*per || dst.torn != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// tornGateSink writes 3 bytes of the first Write and fails; it makes the second Write wait until
// open is closed (entered is closed when it starts); then it works.
type tornGateSink struct {
	lineSink
	calls         int
	entered, open chan struct{}
}

func (s *tornGateSink) Write(p []byte) (int, error) {
	s.calls++
	switch s.calls {
	case 1:
		_, _ = s.lineSink.Write(p[:3])
		return 3, errFlaky
	case 2:
		close(s.entered)
		<-s.open
	}
	return s.lineSink.Write(p)
}

// TestWriterTornLineOutlivesRing: the rest of a line torn by an error is kept apart from the
// ring: producers overwrite the ring bytes it came from while the destination is being handed it.
func TestWriterTornLineOutlivesRing(t *testing.T) {
	dst := &tornGateSink{entered: make(chan struct{}), open: make(chan struct{})}
	w := newTestWriter(t, dst, WithCapacity(4), WithSlotSize(16)) // 64 bytes
	lines := []string{
		"0 0 the first line, torn\n", // [0, 25): "0 0" written, then an error
		"0 1 the second line ....\n", // [25, 50): taken with the rest of the first (call 2)
		"0 2 the third\n",            // [50, 64)
		"0 3 the fourth line ....\n", // [64, 89): over bytes 0..24 of the ring
	}
	_, _ = io.WriteString(w, lines[0])
	_ = w.Flush()
	_, _ = io.WriteString(w, lines[1])
	<-dst.entered // the consumer hands the rest of line 0 to the destination, which waits
	_, _ = io.WriteString(w, lines[2])
	_, _ = io.WriteString(w, lines[3])
	close(dst.open)
	_ = w.Close()
	if got, want := dst.buf.String(), strings.Join(lines, ""); got != want {
		t.Fatalf("destination holds %q, want %q", got, want)
	}
	if st := w.Stats(); st.Written != 4 || st.Failed != 0 || st.WriteErrors != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWriterRingTooLarge(t *testing.T) {
	if _, err := NewWriter(io.Discard, WithCapacity(1<<24), WithSlotSize(1<<20)); err == nil {
		t.Fatal("a 16 TiB ring was accepted")
	}
}

// TestWriterZeroAllocsLongest: the longest line copied into the ring costs no allocation.
func TestWriterZeroAllocsLongest(t *testing.T) {
	w := newTestWriter(t, io.Discard)
	defer w.Close()
	line := bytes.Repeat([]byte("y"), int(w.maxInline))
	if a := testing.AllocsPerRun(1000, func() { _, _ = w.Write(line) }); a != 0 {
		t.Fatalf("%v allocations per Write", a)
	}
}
