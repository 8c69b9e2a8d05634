package digestread

import (
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// largeSize is the size of the generated digest stream: ~50 MB in the normal run, 1 GiB with
// TRACEMDC_STRESS=1.
func largeSize() int64 {
	if os.Getenv("TRACEMDC_STRESS") == "1" {
		return 1 << 30
	}
	return 50 << 20
}

const (
	genTrace    = "0ad1348f1714564800000100012345"
	genEvery    = 1000    // every genEvery-th line belongs to genTrace
	genOverlong = 30000   // every genOverlong-th line is overlong
	genLongSize = 8 << 20 // bytes of an overlong line
	genMalEvery = 7919    // every genMalEvery-th line is garbage
)

// genReader produces a digest stream of about size bytes without holding it: normal JSON lines,
// garbage lines and 8 MiB lines, and counts what it produced. It allocates nothing per line.
type genReader struct {
	size, written int64
	n             int // lines started
	line          []byte
	pos           int
	longLeft      int // bytes of the current overlong line still to produce
	matches       int
	malformed     int
	overlong      int
	lines         int
}

func (g *genReader) next() {
	g.n++
	g.line, g.pos = g.line[:0], 0
	switch {
	case g.n%genOverlong == 0:
		g.overlong++
		g.longLeft = genLongSize
		return
	case g.n%genMalEvery == 0:
		g.malformed++
		g.lines++
		g.line = append(g.line, "not a digest line "...)
		g.line = strconv.AppendInt(g.line, int64(g.n), 10)
		g.line = append(g.line, '\n')
		return
	}
	g.lines++
	trace := "0ad1348f1714564800000100099999"
	if g.n%genEvery == 0 {
		trace = genTrace
		g.matches++
	}
	g.line = append(g.line, `{"time":"2024-05-01 12:00:00.400","local.app":"frontend","traceId":"`...)
	g.line = append(g.line, trace...)
	g.line = append(g.line, `","spanId":"0.`...)
	g.line = strconv.AppendInt(g.line, int64(g.n), 10)
	g.line = append(g.line, `","span.kind":"client","result.code":"200","current.thread.name":"main","time.cost.milliseconds":"3ms","request.url":"http://127.0.0.1:8081/api/orders","method":"POST","req.size.bytes":64,"resp.size.bytes":128,"remote.app":"orders","sys.baggage":"","biz.baggage":""}`...)
	g.line = append(g.line, '\n')
}

func (g *genReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if g.longLeft > 0 {
			k := min(g.longLeft, len(p)-n)
			for i := range k {
				p[n+i] = 'x'
			}
			g.longLeft -= k
			n += k
			if g.longLeft == 0 && n < len(p) {
				p[n] = '\n'
				n++
			} else if g.longLeft == 0 {
				g.line = append(g.line[:0], '\n') // the newline goes out with the next read
				g.pos = 0
			}
			continue
		}
		if g.pos == len(g.line) {
			if g.written+int64(n) >= g.size {
				break
			}
			g.next()
			continue
		}
		k := copy(p[n:], g.line[g.pos:])
		g.pos += k
		n += k
	}
	g.written += int64(n)
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// TestScanLinesBoundedMemory proves that no buffer grows with the stream or with an overlong line:
// reading ~50 MB (1 GiB under stress) holding 8 MiB lines allocates less than one such line in all.
func TestScanLinesBoundedMemory(t *testing.T) {
	g := &genReader{size: largeSize()}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	lines := 0
	over, err := ScanLines(g, 64<<10, func([]byte) error { lines++; return nil })
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if lines != g.lines || over != int64(g.overlong) || g.overlong == 0 {
		t.Errorf("lines %d overlong %d; generated %d and %d", lines, over, g.lines, g.overlong)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("scanning %d MiB allocated %d bytes; want < 2 MiB (read buffer + max line)", g.written>>20, alloc)
	}
}

// TestScanRecordsLargeStream filters a large stream by trace id in bounded memory: the heap in use,
// sampled while the scan runs, stays far below the size of the stream and of its overlong lines.
func TestScanRecordsLargeStream(t *testing.T) {
	g := &genReader{size: largeSize()}
	var ms runtime.MemStats
	var maxInuse uint64
	found := 0
	opts := ReadOptions{Location: time.UTC, MaxLine: 64 << 10, Filter: &Filter{TraceID: genTrace}}
	st, err := ScanRecords(g, DigestFile{LogType: "httpclient"}, opts, func(r *Record) error {
		found++
		if r.TraceID != genTrace || r.LogType != "httpclient" {
			t.Fatalf("record %+v", r)
		}
		if found%20 == 0 {
			runtime.ReadMemStats(&ms)
			maxInuse = max(maxInuse, ms.HeapInuse)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found != g.matches || st.Malformed != int64(g.malformed) || st.Overlong != int64(g.overlong) ||
		st.Lines != int64(g.lines) || st.Records != int64(g.lines-g.malformed) {
		t.Errorf("found %d, stats %+v; generated %d matches, %d lines, %d malformed, %d overlong",
			found, st, g.matches, g.lines, g.malformed, g.overlong)
	}
	t.Logf("scanned %d MiB, %d lines; max heap in use %d KiB", g.written>>20, g.lines, maxInuse>>10)
	if maxInuse > 32<<20 {
		t.Errorf("heap in use reached %d MiB while streaming", maxInuse>>20)
	}
}
