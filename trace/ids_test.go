package trace

import (
	"context"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestIP8(t *testing.T) {
	if got := ip8(net.IPv4(10, 209, 52, 143).To4()); got != "0ad1348f" {
		t.Fatalf("ip8 = %q, want 0ad1348f", got)
	}
	if got := localIP8(); !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(got) || strings.HasPrefix(got, "7f") {
		t.Fatalf("localIP8 = %q: want 8 lowercase hex digits, not a loopback address", got)
	}
}

func TestSOFATraceIDFormat(t *testing.T) {
	g := newSOFAIDs("0ad1348f", "56696", func() int64 { return 1403169275002 })
	if got, want := g.TraceID(), "0ad1348f"+"1403169275002"+"1000"+"56696"; got != want {
		t.Fatalf("first id %q, want %q", got, want)
	}
	if got, want := g.TraceID(), "0ad1348f140316927500210015669"+"6"; got != want {
		t.Fatalf("second id %q, want %q", got, want)
	}

	// The real generator: IP8 + millis13 + counter4 + pid in decimal (as Java writes it, from the
	// runtime name pid@host), millis taken during the call.
	re := regexp.MustCompile(`^([0-9a-f]{8})([0-9]{13})([0-9]{4})([0-9]+)$`)
	before := time.Now().UnixMilli()
	id := SOFAIDGenerator().TraceID()
	after := time.Now().UnixMilli()
	m := re.FindStringSubmatch(id)
	if m == nil {
		t.Fatalf("trace id %q does not match %s", id, re)
	}
	pid := strconv.Itoa(os.Getpid())
	if m[4] != pid || len(id) != 25+len(pid) {
		t.Fatalf("trace id %q: pid part %q, want %q (decimal), length %d, want %d", id, m[4], pid, len(id), 25+len(pid))
	}
	ms, _ := strconv.ParseInt(m[2], 10, 64)
	// The millis part never lags the clock; it runs ahead only after a burst of more than 8001 ids
	// per millisecond (an earlier test), by at most one millisecond per 8001 ids.
	if ms < before || ms > after+1000 {
		t.Fatalf("trace id %q: millis %d outside [%d, %d]", id, ms, before, after)
	}
	if c, _ := strconv.Atoi(m[3]); c < 1000 || c > 9000 {
		t.Fatalf("counter %d outside 1000..9000", c)
	}
}

// TestSOFATraceIDFrozenClock takes more ids within one millisecond than the counter has values,
// from several goroutines, and after the clock steps back: every id stays unique and well formed.
func TestSOFATraceIDFrozenClock(t *testing.T) {
	var mu sync.Mutex
	clock := int64(1_700_000_000_000)
	now := func() int64 { mu.Lock(); defer mu.Unlock(); return clock }
	g := newSOFAIDs("c0a80001", "1f", now)
	const workers, per = 4, 6000 // 24000 ids > 8001 per millisecond
	ids := collect(t, workers, per, g.TraceID)
	mu.Lock()
	clock -= 60_000 // a step back of one minute
	mu.Unlock()
	ids = append(ids, collect(t, workers, per, g.TraceID)...)
	checkUnique(t, ids)
	re := regexp.MustCompile(`^c0a80001[0-9]{13}[0-9]{4}1f$`)
	for _, id := range ids {
		if !re.MatchString(id) {
			t.Fatalf("malformed id %q", id)
		}
		if c, _ := strconv.Atoi(id[21:25]); c < 1000 || c > 9000 {
			t.Fatalf("id %q: counter %d outside 1000..9000", id, c)
		}
	}
}

func TestSOFATraceIDUnique(t *testing.T) {
	g := SOFAIDGenerator()
	ids := collect(t, 4, 250_000, g.TraceID)
	checkUnique(t, ids)
}

func TestW3CIDs(t *testing.T) {
	g := W3CIDGenerator()
	tr := regexp.MustCompile(`^[0-9a-f]{32}$`)
	sp := regexp.MustCompile(`^[0-9a-f]{16}$`)
	ids := collect(t, 4, 10_000, g.TraceID)
	checkUnique(t, ids)
	for _, id := range ids {
		if !tr.MatchString(id) || id == strings.Repeat("0", 32) {
			t.Fatalf("bad W3C trace id %q", id)
		}
	}
	for _, id := range []string{g.RootSpanID(), g.ChildSpanID("00f067aa0ba902b7", 1)} {
		if !sp.MatchString(id) || id == strings.Repeat("0", 16) {
			t.Fatalf("bad W3C span id %q", id)
		}
	}
}

func TestChildSpanIDsUnique(t *testing.T) {
	tr := New("app", WithoutMDC())
	ctx, parent := tr.Start(context.Background(), "parent")
	defer parent.Finish()
	const workers, per = 4, 25_000
	ids := collect(t, workers, per, func() string {
		_, s := tr.Start(ctx, "child")
		s.Finish()
		return s.SpanID()
	})
	checkUnique(t, ids)
	// Exactly 0.1 … 0.100000: no gap, no repeat.
	ns := make([]int, 0, len(ids))
	for _, id := range ids {
		rest, ok := strings.CutPrefix(id, "0.")
		n, err := strconv.Atoi(rest)
		if !ok || err != nil {
			t.Fatalf("child id %q is not 0.<n>", id)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	for i, n := range ns {
		if n != i+1 {
			t.Fatalf("child numbers: position %d holds %d, want %d", i, n, i+1)
		}
	}
}

func collect(t *testing.T, workers, per int, gen func() string) []string {
	t.Helper()
	out := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]string, per)
			for i := range ids {
				ids[i] = gen()
			}
			out[w] = ids
		}()
	}
	wg.Wait()
	return slices.Concat(out...)
}

func checkUnique(t *testing.T, ids []string) {
	t.Helper()
	s := slices.Clone(ids)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			t.Fatalf("duplicate id %q among %d", s[i], len(s))
		}
	}
}

// TestChildIDInline checks the ids Start builds in the span's own buffer against the generator's
// ChildSpanID, on both sides of the buffer's length and for child numbers of every width.
func TestChildIDInline(t *testing.T) {
	tr := New("app", WithoutMDC())
	g := SOFAIDGenerator()
	parents := []string{"0", "0.1", "0.12.3.45.6", "0.12.3.45.6.7", "0.12.3.45.6.78", "0.12.3.45.6.789", "0.1.1.1.1.1.1.1.1.1"}
	ns := []uint64{1, 9, 10, 11, 99, 100, 12345, 999_999_999, 1 << 32, 1<<64 - 1}
	for _, p := range parents {
		for _, n := range ns {
			s := &Span{}
			got, want := tr.childID(s, p, n), g.ChildSpanID(p, n)
			if got != want {
				t.Errorf("childID(%q, %d) = %q, want %q", p, n, got, want)
			}
		}
	}
}

func TestDecimalLen(t *testing.T) {
	for _, n := range []uint64{0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 1 << 32, 1e18 - 1, 1e18, 1e19 - 1, 1e19, 1<<64 - 1} {
		if got, want := decimalLen(n), len(strconv.FormatUint(n, 10)); got != want {
			t.Errorf("decimalLen(%d) = %d, want %d", n, got, want)
		}
	}
	for n := uint64(1); n < 1<<62; n *= 3 {
		for _, m := range []uint64{n - 1, n, n + 1} {
			if got, want := decimalLen(m), len(strconv.FormatUint(m, 10)); got != want {
				t.Fatalf("decimalLen(%d) = %d, want %d", m, got, want)
			}
		}
	}
}

// TestSOFAChildOfW3CParent: under a W3C parent (a trace from an OpenTelemetry peer) the default
// generator, and the tracer with it, continue with W3C span ids; SOFA parents keep rpcId children.
func TestSOFAChildOfW3CParent(t *testing.T) {
	g := SOFAIDGenerator()
	const parent = "7e6d834938c0c893"
	c1, c2 := g.ChildSpanID(parent, 1), g.ChildSpanID(parent, 2)
	if !isW3CSpanID(c1) || !isW3CSpanID(c2) || c1 == c2 || c1 == parent {
		t.Fatalf("children of %s: %q, %q", parent, c1, c2)
	}
	for _, p := range []string{"0.1", "0.1.2.3.4.5.6.78", "7E6D834938C0C893", "7e6d834938c0c89"} {
		if got, want := g.ChildSpanID(p, 3), p+".3"; got != want {
			t.Errorf("child of %q: %q, want %q", p, got, want)
		}
	}

	tr := New("w3c-in", WithReporter(ReporterFunc(func(*FinishedSpan) {})))
	remote, err := NewSpanContext(SpanContextConfig{TraceID: "160c2d1f9d1a4bb8a7e3e55f0b6adc59", SpanID: parent, Sampled: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []ServerSpanMode{ServerSpanChild, ServerSpanKeep} {
		ctx, srv := tr.Start(context.Background(), "in", WithKind(KindServer), WithRemoteParent(remote), WithServerSpanMode(mode))
		_, out := tr.Start(ctx, "out", WithKind(KindClient))
		if srv.TraceID() != remote.TraceID() || out.TraceID() != remote.TraceID() {
			t.Fatalf("mode %v: trace ids %s, %s", mode, srv.TraceID(), out.TraceID())
		}
		if mode == ServerSpanKeep && srv.SpanID() != parent || mode == ServerSpanChild && (!isW3CSpanID(srv.SpanID()) || srv.ParentID() != parent) {
			t.Fatalf("mode %v: server span %s, parent %s", mode, srv.SpanID(), srv.ParentID())
		}
		if !isW3CSpanID(out.SpanID()) || out.ParentID() != srv.SpanID() {
			t.Fatalf("mode %v: client span %s, parent %s", mode, out.SpanID(), out.ParentID())
		}
		out.Finish()
		srv.Finish()
	}
}
