package logrusmdc_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/internal/conformance"
	"github.com/tracemdc/tracemdc/logrusmdc"
	"github.com/tracemdc/tracemdc/mdc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var own = []string{"time", "level", "msg"}

func newLogger(w io.Writer, n *mdc.Naming) *logrus.Logger {
	l := logrus.New()
	l.Out = w
	l.Formatter = &logrus.JSONFormatter{}
	l.Level = logrus.TraceLevel
	l.AddHook(logrusmdc.NewHook(logrusmdc.WithNaming(n)))
	return l
}

func fields(ps []mdc.Pair) logrus.Fields {
	f := logrus.Fields{}
	for _, p := range ps {
		f[p.Key] = p.Value
	}
	return f
}

func TestConformance(t *testing.T) {
	t.Run("bound, context, call", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: []string{"logrus_error"}, Log: func(t *testing.T, c conformance.Case) []byte {
			var buf bytes.Buffer
			l := newLogger(&buf, c.Naming)
			l.WithFields(fields(c.Bound)).WithContext(c.Ctx).WithFields(fields(c.Call)).Info(conformance.Message)
			return buf.Bytes()
		}})
	})
	t.Run("context first", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: []string{"logrus_error"}, Log: func(t *testing.T, c conformance.Case) []byte {
			var buf bytes.Buffer
			l := newLogger(&buf, c.Naming)
			l.WithContext(c.Ctx).WithFields(fields(c.Bound)).WithFields(fields(c.Call)).Log(logrus.InfoLevel, conformance.Message)
			return buf.Bytes()
		}})
	})
}

func ids() context.Context {
	return mdc.WithPairs(context.Background(), mdc.Pair{Key: mdc.KeyTraceID, Value: "t1"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
}

func TestAllLevels(t *testing.T) {
	var buf bytes.Buffer
	l := newLogger(&buf, nil)
	exits := 0
	l.ExitFunc = func(int) { exits++ }
	e := l.WithContext(ids())
	e.Trace("trace")
	e.Debug("debug")
	e.Info("info")
	e.Warn("warn")
	e.Error("error")
	e.Fatal("fatal")
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Panic did not panic")
			}
		}()
		e.Panic("panic")
	}()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(logrus.AllLevels) || exits != 1 {
		t.Fatalf("%d lines, %d exits", len(lines), exits)
	}
	for _, line := range lines {
		m, err := conformance.Parse([]byte(line))
		if err != nil || m["traceId"] != "t1" || m["spanId"] != "0.1" {
			t.Fatalf("%v: %s", err, line)
		}
	}
}

// TestSharedEntryNotModified logs concurrently through one entry (and entries derived from it) that
// many goroutines share; run with -race. The shared entry's Data must stay as it was.
func TestSharedEntryNotModified(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	l := newLogger(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) }), nil)
	ctx := mdc.WithScope(ids())
	shared := l.WithFields(logrus.Fields{"svc": "s"}).WithContext(ctx)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				mdc.Set(ctx, "k", "v")
				shared.Info("shared")
				shared.WithField("g", g).Warn("derived")
				shared.WithContext(mdc.With(ctx, "i", "x")).Error("other ctx")
				_ = i
			}
		}()
	}
	wg.Wait()
	if len(shared.Data) != 1 || shared.Data["svc"] != "s" {
		t.Fatalf("shared entry changed: %v", shared.Data)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1200 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, line := range lines {
		m, err := conformance.Parse([]byte(line))
		if err != nil || m["traceId"] != "t1" || m["k"] != "v" || m["svc"] != "s" {
			t.Fatalf("%v: %s", err, line)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func TestBadInput(t *testing.T) {
	h := logrusmdc.NewHook(nil)
	if err := h.Fire(nil); err != nil {
		t.Fatal(err)
	}
	e := &logrus.Entry{Context: mdc.With(ids(), "bad\xff", "\xfe")} // no Logger, nil Data
	if err := h.Fire(e); err != nil || e.Data["traceId"] != "t1" || e.Data["bad\xff"] != "\xfe" {
		t.Fatalf("%v %v", err, e.Data)
	}
	g := logrusmdc.NewHook(logrusmdc.WithNaming(mdc.NewNaming(mdc.PresetDefault, mdc.Group("mdc"))))
	e = &logrus.Entry{Context: ids()}
	if err := g.Fire(e); err != nil || e.Data["mdc"].(logrus.Fields)["spanId"] != "0.1" {
		t.Fatalf("%v %v", err, e.Data)
	}

	var buf bytes.Buffer
	l := newLogger(&buf, nil)
	//lint:ignore SA1012 a nil ctx is accepted
	l.WithContext(nil).Info("nil ctx") //nolint:staticcheck
	huge := strings.Repeat("é", 1<<20)
	l.WithContext(mdc.With(context.Background(), "huge", huge)).Info("huge")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	m, err := conformance.Parse([]byte(lines[1]))
	if err != nil || m["huge"] != huge {
		t.Fatalf("%v", err)
	}
}

func BenchmarkHook(b *testing.B) {
	traceID, spanID := "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0.1.2"
	ctx := mdc.WithPairs(context.Background(), mdc.Pair{Key: mdc.KeyTraceID, Value: traceID}, mdc.Pair{Key: mdc.KeySpanID, Value: spanID})
	newL := func() *logrus.Logger {
		l := logrus.New()
		l.Out = io.Discard
		l.Formatter = &logrus.JSONFormatter{}
		return l
	}
	b.Run("manual", func(b *testing.B) {
		l := newL()
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.WithFields(logrus.Fields{"traceId": traceID, "spanId": spanID, "n": i}).Info("request handled")
		}
	})
	b.Run("mdc", func(b *testing.B) {
		l := newL()
		l.AddHook(logrusmdc.NewHook())
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.WithContext(ctx).WithField("n", i).Info("request handled")
		}
	})
}

// TestDisabledLevelSkipsSource: a line below the level never asks a source; a written one asks once.
func TestDisabledLevelSkipsSource(t *testing.T) {
	src := &conformance.CountingSource{}
	defer mdc.AddSource(src)()
	var buf bytes.Buffer
	l := newLogger(&buf, nil)
	l.Level = logrus.WarnLevel
	l.WithContext(ids()).Info("off")
	if src.N.Load() != 0 || buf.Len() != 0 {
		t.Fatalf("disabled line: %d source calls, %q written", src.N.Load(), buf.String())
	}
	l.WithContext(context.Background()).Warn("on")
	if src.N.Load() != 1 || !strings.Contains(buf.String(), `"spanId":"from-source"`) {
		t.Fatalf("written line: %d source calls, %q", src.N.Load(), buf.String())
	}
}

// TestLoggerKeysFromFormatter: the hook reads the formatter's own keys, FieldMap included, so an MDC
// field named like a renamed key is renamed, and one named like the default key (now free) is not.
func TestLoggerKeysFromFormatter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(l *logrus.Logger)
		mdcKey string
		want   string
	}{
		{"field map", func(l *logrus.Logger) {
			l.Formatter = &logrus.JSONFormatter{FieldMap: logrus.FieldMap{logrus.FieldKeyMsg: "message"}}
		}, "message", "fields.message"},
		{"field map frees msg", func(l *logrus.Logger) {
			l.Formatter = &logrus.JSONFormatter{FieldMap: logrus.FieldMap{logrus.FieldKeyMsg: "message"}}
		}, "msg", "msg"},
		{"report caller", func(l *logrus.Logger) { l.ReportCaller = true }, "func", "fields.func"},
		{"no caller", func(l *logrus.Logger) {}, "func", "func"},
		{"data key nests fields", func(l *logrus.Logger) { l.Formatter = &logrus.JSONFormatter{DataKey: "data"} }, "msg", "data.msg"},
	} {
		var buf bytes.Buffer
		l := newLogger(&buf, nil)
		tc.setup(l)
		l.WithContext(mdc.With(context.Background(), tc.mdcKey, "v")).Info("m")
		m, err := conformance.Parse(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: %v in %s", tc.name, err, buf.String())
		}
		var got any = m
		for _, part := range strings.SplitN(tc.want, ".", 2) {
			if strings.HasPrefix(tc.want, "fields.") {
				got = m[tc.want]
				break
			}
			got = got.(map[string]any)[part]
		}
		if got != "v" {
			t.Errorf("%s: %q not at %q in %s", tc.name, tc.mdcKey, tc.want, buf.String())
		}
	}
	// WithLoggerKeys, for another formatter, replaces what the hook reads.
	var buf bytes.Buffer
	l := newLogger(&buf, nil)
	l.ReplaceHooks(logrus.LevelHooks{})
	l.AddHook(logrusmdc.NewHook(logrusmdc.WithLoggerKeys("@message")))
	l.WithContext(mdc.WithPairs(context.Background(), mdc.Pair{Key: "@message", Value: "a"}, mdc.Pair{Key: "msg", Value: "b"})).Info("m")
	m, err := conformance.Parse(buf.Bytes())
	if err != nil || m["fields.@message"] != "a" || m["fields.msg"] != "b" { // logrus itself renames msg
		t.Fatalf("%v %s", err, buf.String())
	}
}
