package slogmdc_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"
	"time"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/internal/conformance"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/slogmdc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func logOne(t *testing.T, c conformance.Case) []byte {
	var buf bytes.Buffer
	h := slogmdc.New(slog.NewJSONHandler(&buf, nil), slogmdc.WithNaming(c.Naming))
	l := slog.New(h)
	for _, p := range c.Bound {
		l = l.With(p.Key, p.Value)
	}
	var attrs []slog.Attr
	for _, p := range c.Call {
		attrs = append(attrs, slog.String(p.Key, p.Value))
	}
	l.LogAttrs(c.Ctx, slog.LevelInfo, conformance.Message, attrs...)
	return buf.Bytes()
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Logger{Own: []string{"time", "level", "msg"}, Reserved: []string{"source"}, Log: logOne})
}

// TestConformanceInsideGroup runs the cases without call-site fields on a logger with a group open
// (slow path): the MDC fields must come out exactly as without the group, and the empty group is
// dropped by the JSON handler.
func TestConformanceInsideGroup(t *testing.T) {
	conformance.Run(t, conformance.Logger{Own: []string{"time", "level", "msg"}, Reserved: []string{"source"}, Only: func(c conformance.Case) bool {
		return len(c.Call) == 0 // call-site fields would sit in the group; TestConformance has those cases
	}, Log: func(t *testing.T, c conformance.Case) []byte {
		var buf bytes.Buffer
		l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, nil), slogmdc.WithNaming(c.Naming)))
		for _, p := range c.Bound {
			l = l.With(p.Key, p.Value)
		}
		l.WithGroup("req").LogAttrs(c.Ctx, slog.LevelInfo, conformance.Message)
		return buf.Bytes()
	}})
}

func TestSlogtest(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return slogmdc.New(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		return m
	})
}

// withCtx makes every record arrive with an MDC, so slogtest exercises the MDC paths.
type withCtx struct {
	slog.Handler
	ctx context.Context
}

func (h withCtx) Handle(_ context.Context, r slog.Record) error { return h.Handler.Handle(h.ctx, r) }
func (h withCtx) WithAttrs(as []slog.Attr) slog.Handler {
	return withCtx{h.Handler.WithAttrs(as), h.ctx}
}
func (h withCtx) WithGroup(name string) slog.Handler {
	return withCtx{h.Handler.WithGroup(name), h.ctx}
}

func TestSlogtestWithMDC(t *testing.T) {
	ctx := mdc.WithPairs(context.Background(), mdc.Pair{Key: mdc.KeyTraceID, Value: "t1"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
	for _, n := range []*mdc.Naming{nil, mdc.NewNaming(mdc.PresetOTel, mdc.Group("mdc"))} {
		var buf bytes.Buffer
		slogtest.Run(t, func(*testing.T) slog.Handler {
			buf.Reset()
			return withCtx{slogmdc.New(slog.NewJSONHandler(&buf, nil), slogmdc.WithNaming(n)), ctx}
		}, func(t *testing.T) map[string]any {
			var m map[string]any
			if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
				t.Fatal(err)
			}
			// Every line, whatever groups the case opened, carries the ids at the top level.
			if n == nil && (m["traceId"] != "t1" || m["spanId"] != "0.1") {
				t.Errorf("ids missing at the top level: %s", buf.Bytes())
			}
			if g, _ := m["mdc"].(map[string]any); n != nil && (g["trace_id"] != "t1" || g["span_id"] != "0.1") {
				t.Errorf("ids missing in group mdc: %s", buf.Bytes())
			}
			delete(m, "traceId")
			delete(m, "spanId")
			delete(m, "mdc")
			return m
		})
	}
}

func ids() context.Context {
	return mdc.WithPairs(context.Background(), mdc.Pair{Key: mdc.KeyTraceID, Value: "t1"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
}

func TestTopLevelAfterWithGroup(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	l = l.With("app", "a").WithGroup("g").With("b", 1).WithGroup("h")
	l.InfoContext(ids(), "m", "traceId", "inner")
	want := `{"level":"INFO","msg":"m","app":"a","traceId":"t1","spanId":"0.1","g":{"b":1,"h":{"traceId":"inner"}}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestGroupNameWinsOverMDCField(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	l.WithGroup("spanId").InfoContext(ids(), "m", "a", 1)
	want := `{"level":"INFO","msg":"m","traceId":"t1","spanId":{"a":1}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestBoundTopLevelKeyWinsAfterGroup(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	l = l.With(slog.Group("", slog.String("traceId", "bound"))).WithGroup("g")
	l.InfoContext(ids(), "m")
	want := `{"level":"INFO","msg":"m","traceId":"bound","spanId":"0.1"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestInlineGroupAtCallSiteCollides(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime})))
	l.InfoContext(ids(), "m", slog.Group("", slog.String("spanId", "mine")))
	want := `{"level":"INFO","msg":"m","spanId":"mine","traceId":"t1"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

// TestRecordCopyNotCorrupted adds the MDC to a record that already holds more than the five inline
// attributes; a copy of the record kept by the caller must not see the added fields.
func TestRecordCopyNotCorrupted(t *testing.T) {
	var seen []slog.Record
	rec := recorder{fn: func(r slog.Record) { seen = append(seen, r) }}
	h := slogmdc.New(rec)
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "m", 0)
	for i := range 7 {
		r.AddAttrs(slog.Int(strings.Repeat("k", i+1), i))
	}
	orig := r.Clone()
	if err := h.Handle(ids(), r); err != nil {
		t.Fatal(err)
	}
	orig.AddAttrs(slog.String("after", "x"))
	if len(seen) != 1 || seen[0].NumAttrs() != 9 {
		t.Fatalf("handled record has %d attrs, want 9", seen[0].NumAttrs())
	}
	seen[0].Attrs(func(a slog.Attr) bool {
		if a.Key == "after" || strings.HasPrefix(a.Key, "!BUG") {
			t.Fatalf("records share storage: %v", a)
		}
		return true
	})
}

type recorder struct{ fn func(slog.Record) }

func (recorder) Enabled(context.Context, slog.Level) bool          { return true }
func (r recorder) Handle(_ context.Context, rec slog.Record) error { r.fn(rec); return nil }
func (r recorder) WithAttrs([]slog.Attr) slog.Handler              { return r }
func (r recorder) WithGroup(string) slog.Handler                   { return r }

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func TestNilHandlerAndNilOption(t *testing.T) {
	h := slogmdc.New(nil, nil)
	if h == nil || !h.Enabled(context.Background(), slog.LevelError) {
		t.Fatal("nil next not replaced by the default handler")
	}
}

func TestBadInput(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, nil)))
	//lint:ignore SA1012 a nil ctx is accepted
	l.InfoContext(nil, "nil ctx") //nolint:staticcheck
	ctx := mdc.WithPairs(context.Background(), mdc.Pair{Key: "", Value: "empty key"},
		mdc.Pair{Key: "bad", Value: "\xff\xfe"}, mdc.Pair{Key: "huge", Value: strings.Repeat("é", 1<<20)})
	l.InfoContext(ctx, "bad")
	l.WithGroup("g").InfoContext(ctx, "bad in group")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %d", len(lines))
	}
	for _, line := range lines[1:] {
		m, err := conformance.Parse([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if m["bad"] != "\ufffd\ufffd" || m["huge"] != strings.Repeat("é", 1<<20) {
			t.Fatalf("bad=%q len(huge)=%d", m["bad"], len(m["huge"].(string)))
		}
	}
}

func TestConcurrent(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) })
	base := slog.New(slogmdc.New(slog.NewJSONHandler(w, nil))).With("svc", "s")
	ctx := mdc.WithScope(ids())
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := base.WithGroup("g")
			for i := range 200 {
				mdc.Set(ctx, "k", "v")
				l.InfoContext(mdc.With(ctx, "gr", string(rune('a'+g))), "m", "i", i)
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4*200 {
		t.Fatalf("%d lines, want %d", len(lines), 4*200)
	}
	for _, line := range lines {
		m, err := conformance.Parse([]byte(line))
		if err != nil || m["traceId"] != "t1" || m["k"] != "v" || m["gr"] == nil {
			t.Fatalf("%v: %s", err, line)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func BenchmarkHandler(b *testing.B) {
	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1.2"})
	traceID, spanID := "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0.1.2"
	b.Run("manual", func(b *testing.B) {
		l := slog.New(slog.NewJSONHandler(io.Discard, nil))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled",
				slog.String("traceId", traceID), slog.String("spanId", spanID), slog.Int("n", i))
		}
	})
	b.Run("mdc", func(b *testing.B) {
		l := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, nil)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled", slog.Int("n", i))
		}
	})
	b.Run("disabled", func(b *testing.B) {
		l := slog.New(slogmdc.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn})))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled", slog.Int("n", i))
		}
	})
}

// sink is a handler that only counts attributes: BenchmarkOverhead measures what the wrapper
// itself costs, apart from the JSON encoding that dominates BenchmarkHandler.
type sink struct{ n *int }

func (sink) Enabled(context.Context, slog.Level) bool { return true }
func (s sink) Handle(_ context.Context, r slog.Record) error {
	*s.n += r.NumAttrs()
	return nil
}
func (s sink) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s sink) WithGroup(string) slog.Handler      { return s }

func BenchmarkOverhead(b *testing.B) {
	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0a1b2c3d4e5f60718293a4b5c6d7e8f9"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1.2"})
	traceID, spanID := "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0.1.2"
	var n int
	b.Run("manual", func(b *testing.B) {
		l := slog.New(sink{&n})
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled",
				slog.String("traceId", traceID), slog.String("spanId", spanID), slog.Int("n", i))
		}
	})
	b.Run("mdc", func(b *testing.B) {
		l := slog.New(slogmdc.New(sink{&n}))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.LogAttrs(ctx, slog.LevelInfo, "request handled", slog.Int("n", i))
		}
	})
	if n == 0 {
		b.Fatal("sink saw no attributes")
	}
}

// TestDisabledLevelSkipsSource: a line below the level never asks a source; a written one asks once.
func TestDisabledLevelSkipsSource(t *testing.T) {
	src := &conformance.CountingSource{}
	defer mdc.AddSource(src)()
	var buf bytes.Buffer
	l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn})))
	ctx := ids()
	l.InfoContext(ctx, "dropped")
	if src.N.Load() != 0 || buf.Len() != 0 {
		t.Fatalf("disabled line: %d source calls, %q written", src.N.Load(), buf.String())
	}
	l.WarnContext(context.Background(), "written")
	if src.N.Load() != 1 || !strings.Contains(buf.String(), `"spanId":"from-source"`) {
		t.Fatalf("written line: %d source calls, %q", src.N.Load(), buf.String())
	}
}

// TestLoggerKeys: WithLoggerKeys replaces slog's keys, for a handler whose ReplaceAttr renames them.
func TestLoggerKeys(t *testing.T) {
	var buf bytes.Buffer
	rename := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.MessageKey {
			a.Key = "message"
		}
		return a
	}
	l := slog.New(slogmdc.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{ReplaceAttr: rename}),
		slogmdc.WithLoggerKeys("time", "level", "message")))
	l.InfoContext(mdc.WithPairs(context.Background(), mdc.Pair{Key: "message", Value: "a"}, mdc.Pair{Key: "source", Value: "b"}), "m")
	m, err := conformance.Parse(buf.Bytes())
	if err != nil || m["fields.message"] != "a" || m["source"] != "b" || m["message"] != "m" {
		t.Fatalf("%v %s", err, buf.String())
	}
}
