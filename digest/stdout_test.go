package digest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/trace"
)

// stdoutChildEnv makes the test binary run stdoutChild instead of the tests (see TestMain).
const stdoutChildEnv = "TRACEMDC_DIGEST_STDOUT_CHILD"

// The child's work: childG goroutines, each finishing childPerPhase[p] spans in phase p and logging
// one slog line inside each.
const childG = 8

var childPerPhase = [2]int{400, 120}

// childPad is the length of the padding of span j of goroutine g in phase p. Phase 0 keeps every
// line under PIPE_BUF (4096 bytes on Linux): its lines go through two descriptors of the pipe. Phase
// 1 writes lines of up to 16 KB, all through os.Stdout.
func childPad(p, g, j int) int {
	if p == 0 {
		return (g*131 + j*37) % 2500
	}
	return 2000 + (g*977+j*1319)%14000
}

// childSummary is what the child tells the parent on stderr when it is done.
type childSummary struct {
	Stats Stats
	Slog  int // slog lines logged
}

// stdoutChild is the child process of TestStdoutSharedWithSlog: a reporter writing to os.Stdout only
// and slog loggers writing to the same pipe, from 8 goroutines at once. It returns the exit code.
func stdoutChild() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "child:", err); return 2 }
	r, err := New(Config{Output: os.Stdout, OutputOnly: true, Policy: Block, QueueCapacity: 64,
		StatInterval: 20 * time.Millisecond, MaxValueBytes: 32 << 10})
	if err != nil {
		return fail(err)
	}
	// A second open file description of the same pipe, as another program or library writing to
	// it would have: Go's lock on os.Stdout does not cover it, only the kernel's PIPE_BUF rule does.
	other, err := os.OpenFile("/dev/stdout", os.O_WRONLY, 0)
	if err != nil {
		return fail(err)
	}
	defer other.Close()
	loggers := []*slog.Logger{
		slog.New(slogmdc.New(slog.NewJSONHandler(os.Stdout, nil))),
		slog.New(slogmdc.New(slog.NewJSONHandler(other, nil))),
	}
	tr := trace.New("child", trace.WithReporter(r))
	var slogLines sync.Map
	for p := range childPerPhase {
		var wg sync.WaitGroup
		for g := 0; g < childG; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				logger := loggers[0]
				if p == 0 && g%2 == 1 {
					logger = loggers[1]
				}
				n := 0
				for j := 0; j < childPerPhase[p]; j++ {
					ctx, s := tr.Start(context.Background(), "step-"+strconv.Itoa(p), trace.WithLogType("job"))
					pad := strings.Repeat("x", childPad(p, g, j))
					s.SetTagInt("g", int64(g))
					s.SetTagInt("j", int64(j))
					s.SetTagInt("phase", int64(p))
					s.SetTag("pad", pad)
					logger.InfoContext(ctx, "step", "g", g, "j", j, "phase", p, "pad", pad)
					n++
					s.Finish()
				}
				r.ReportError(fmt.Errorf("child goroutine %d done with phase %d", g, p)) // self lines
				slogLines.Store([2]int{p, g}, n)
			}()
		}
		wg.Wait()
	}
	if err := r.Close(); err != nil {
		return fail(err)
	}
	sum := childSummary{Stats: r.Stats()}
	slogLines.Range(func(_, v any) bool { sum.Slog += v.(int); return true })
	b, _ := json.Marshal(sum)
	fmt.Fprintf(os.Stderr, "%s\n", b)
	return 0
}

// TestStdoutSharedWithSlog: a child process writes digest, stat and self lines (Config.Output =
// os.Stdout) and slog lines to one stdout from 8 goroutines, the slog lines of half of them through a
// second descriptor of the pipe; the parent reads the pipe, pausing now and then so that it fills.
// Every line parses as JSON, none is torn or merged, the counts per kind are exact, and each slog
// line finds the digest line of its span by trace id with its content whole.
func TestStdoutSharedWithSlog(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the child reopens its stdout as /dev/stdout")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), stdoutChildEnv+"=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	type span struct{ p, g, j int }
	digestIDs := map[span]string{}
	slogIDs := map[span]string{}
	var digests, stats, selfs, slogs, statCount int
	br := bufio.NewReaderSize(stdout, 4<<10)
	var readErr error
	for n := 0; ; n++ {
		if n%400 == 399 {
			time.Sleep(5 * time.Millisecond) // let the pipe fill: writers block mid-stream
		}
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			break
		}
		if err != nil {
			readErr = fmt.Errorf("line %d %.200q: %v", n, line, err)
			break
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			readErr = fmt.Errorf("line %d is not JSON (torn or merged?): %v\n%.300s", n, err, line)
			break
		}
		id := func(k string) int { f, _ := m[k].(float64); return int(f) }
		pad, _ := m["pad"].(string)
		sp := span{id("phase"), id("g"), id("j")}
		switch m[layout.FieldLogKind] {
		case layout.LogKindDigest:
			digests++
			if m[layout.FieldLogType] != "job" || len(pad) != childPad(sp.p, sp.g, sp.j) || digestIDs[sp] != "" {
				readErr = fmt.Errorf("digest line %v: type %v, pad %d, seen before: %v", sp, m[layout.FieldLogType], len(pad), digestIDs[sp] != "")
			}
			digestIDs[sp], _ = m[layout.FieldTraceID].(string)
		case layout.LogKindStat:
			stats++
			statCount += id(layout.StatFieldCount)
		case layout.LogKindSelf:
			selfs++
		case nil:
			if m["msg"] != "step" || len(pad) != childPad(sp.p, sp.g, sp.j) || slogIDs[sp] != "" {
				readErr = fmt.Errorf("slog line %v: %.200q", sp, line)
			}
			slogs++
			slogIDs[sp], _ = m["traceId"].(string)
		default:
			readErr = fmt.Errorf("unknown kind: %.200q", line)
		}
		if readErr != nil {
			break
		}
	}
	_, _ = io.Copy(io.Discard, stdout) // after an error: let the child finish
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v\n%s", err, stderr.String())
	}
	if readErr != nil {
		t.Fatal(readErr)
	}
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	var sum childSummary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("child's summary: %v\n%s", err, stderr.String())
	}
	st := sum.Stats
	spans := childG * (childPerPhase[0] + childPerPhase[1])
	if digests != spans || uint64(digests) != st.OutputWritten || st.OutputLost != 0 || st.OutputErrors != 0 {
		t.Fatalf("%d digest lines read, %d spans; child's stats %+v", digests, spans, st)
	}
	if slogs != spans || sum.Slog != spans {
		t.Fatalf("%d slog lines read, child logged %d, %d spans", slogs, sum.Slog, spans)
	}
	if statCount != spans || uint64(stats) != st.StatLines || stats == 0 {
		t.Fatalf("%d stat lines counting %d spans; child's stats %+v", stats, statCount, st)
	}
	if uint64(selfs) != st.SelfLogLines || selfs == 0 || uint64(digests+stats+selfs) != st.OutputLines {
		t.Fatalf("%d self lines read; child's stats %+v", selfs, st)
	}
	for sp, id := range slogIDs {
		if id == "" || digestIDs[sp] != id {
			t.Fatalf("slog line %v has trace id %q, its digest line %q", sp, id, digestIDs[sp])
		}
	}
}
