package zapmdc_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/internal/conformance"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/zapmdc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var own = []string{"ts", "level", "msg"}

// reserved are the other keys of zap.NewProductionEncoderConfig: zapmdc treats them as the logger's own.
var reserved = []string{"logger", "caller", "stacktrace"}

func jsonCore(w io.Writer, lvl zapcore.LevelEnabler) zapcore.Core {
	return zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(w), lvl)
}

func callFields(c conformance.Case) []zap.Field {
	var fs []zap.Field
	for _, p := range c.Call {
		fs = append(fs, zap.String(p.Key, p.Value))
	}
	return fs
}

func bind(l *zap.Logger, c conformance.Case) *zap.Logger {
	for _, p := range c.Bound {
		l = l.With(zap.String(p.Key, p.Value))
	}
	return l
}

// TestConformance runs the shared table with the carrier given in each supported way.
func TestConformance(t *testing.T) {
	t.Run("call site", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: reserved, Log: func(t *testing.T, c conformance.Case) []byte {
			var buf bytes.Buffer
			l := bind(zap.New(zapmdc.NewCore(jsonCore(&buf, zap.InfoLevel), zapmdc.WithNaming(c.Naming))), c)
			l.Info(conformance.Message, append([]zap.Field{zapmdc.Ctx(c.Ctx)}, callFields(c)...)...)
			return buf.Bytes()
		}})
	})
	t.Run("carrier last", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: reserved, Log: func(t *testing.T, c conformance.Case) []byte {
			var buf bytes.Buffer
			l := bind(zap.New(zapmdc.NewCore(jsonCore(&buf, zap.InfoLevel), zapmdc.WithNaming(c.Naming))), c)
			l.Info(conformance.Message, append(callFields(c), zapmdc.Ctx(c.Ctx))...)
			return buf.Bytes()
		}})
	})
	t.Run("bound with With", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: append(own, "logger"), Reserved: reserved[1:], Log: func(t *testing.T, c conformance.Case) []byte {
			var buf bytes.Buffer
			l := zap.New(zapmdc.NewCore(jsonCore(&buf, zap.InfoLevel), zapmdc.WithNaming(c.Naming)))
			l = bind(l.With(zapmdc.Ctx(c.Ctx)), c).Named("child")
			l.Info(conformance.Message, callFields(c)...)
			return buf.Bytes()
		}})
	})
	t.Run("sugared", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: reserved, Log: func(t *testing.T, c conformance.Case) []byte {
			var buf bytes.Buffer
			s := bind(zap.New(zapmdc.NewCore(jsonCore(&buf, zap.InfoLevel), zapmdc.WithNaming(c.Naming))), c).Sugar()
			kv := []any{zapmdc.Ctx(c.Ctx)}
			for _, p := range c.Call {
				kv = append(kv, p.Key, p.Value)
			}
			s.Infow(conformance.Message, kv...)
			return buf.Bytes()
		}})
	})
	t.Run("tee wrapped whole", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: reserved, Log: func(t *testing.T, c conformance.Case) []byte {
			var a, b bytes.Buffer
			tee := zapcore.NewTee(jsonCore(&a, zap.InfoLevel), jsonCore(&b, zap.InfoLevel))
			l := bind(zap.New(zapmdc.NewCore(tee, zapmdc.WithNaming(c.Naming))), c)
			l.Info(conformance.Message, append([]zap.Field{zapmdc.Ctx(c.Ctx)}, callFields(c)...)...)
			if a.String() != b.String() {
				t.Fatalf("tee cores differ:\n%s\n%s", a.String(), b.String())
			}
			return a.Bytes()
		}})
	})
	t.Run("tee of wrapped cores", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: reserved, Log: func(t *testing.T, c conformance.Case) []byte {
			var a, b bytes.Buffer
			tee := zapcore.NewTee(zapmdc.NewCore(jsonCore(&a, zap.InfoLevel), zapmdc.WithNaming(c.Naming)),
				zapmdc.NewCore(jsonCore(&b, zap.InfoLevel), zapmdc.WithNaming(c.Naming)))
			l := bind(zap.New(tee), c).With(zapmdc.Ctx(c.Ctx))
			l.Info(conformance.Message, callFields(c)...)
			if a.String() != b.String() {
				t.Fatalf("tee cores differ:\n%s\n%s", a.String(), b.String())
			}
			return a.Bytes()
		}})
	})
	t.Run("Fields helper", func(t *testing.T) {
		conformance.Run(t, conformance.Logger{Own: own, Reserved: reserved, Only: func(c conformance.Case) bool {
			// Fields cannot see the caller's fields: it leaves collisions to the caller, so only the
			// cases without caller fields apply (the other variants above run them all).
			return len(c.Bound)+len(c.Call) == 0
		}, Log: func(t *testing.T, c conformance.Case) []byte {
			var buf bytes.Buffer
			zap.New(jsonCore(&buf, zap.InfoLevel)).Info(conformance.Message, zapmdc.Fields(c.Ctx, c.Naming)...)
			return buf.Bytes()
		}})
	})
}

func ids() context.Context {
	return mdc.WithPairs(context.Background(), mdc.Pair{Key: mdc.KeyTraceID, Value: "t1"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
}

func noTimeCore(w io.Writer, lvl zapcore.LevelEnabler) zapcore.Core {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = ""
	return zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.AddSync(w), lvl)
}

func TestOtherCorePrintsNothing(t *testing.T) {
	var a, b bytes.Buffer
	l := zap.New(zapcore.NewTee(zapmdc.NewCore(noTimeCore(&a, zap.InfoLevel)), noTimeCore(&b, zap.InfoLevel)))
	l.Info("m", zapmdc.Ctx(ids()), zap.Int("n", 1))
	if got, want := a.String(), `{"level":"info","msg":"m","traceId":"t1","spanId":"0.1","n":1}`+"\n"; got != want {
		t.Fatalf("wrapped core: got %s want %s", got, want)
	}
	if got, want := b.String(), `{"level":"info","msg":"m","n":1}`+"\n"; got != want {
		t.Fatalf("plain core: got %s want %s", got, want)
	}
}

// TestTeeLevels checks that a wrapped tee still lets each core apply its own level.
func TestTeeLevels(t *testing.T) {
	var debug, errs bytes.Buffer
	l := zap.New(zapmdc.NewCore(zapcore.NewTee(noTimeCore(&debug, zap.DebugLevel), noTimeCore(&errs, zap.ErrorLevel))))
	l.Info("info", zapmdc.Ctx(ids()))
	l.Error("error", zapmdc.Ctx(ids()))
	if n := strings.Count(debug.String(), "\n"); n != 2 {
		t.Fatalf("debug core got %d lines: %s", n, debug.String())
	}
	if got, want := errs.String(), `{"level":"error","msg":"error","traceId":"t1","spanId":"0.1"}`+"\n"; got != want {
		t.Fatalf("error core: got %s want %s", got, want)
	}
	if zapcore.LevelOf(l.Core()) != zap.DebugLevel {
		t.Fatalf("Level = %v", zapcore.LevelOf(l.Core()))
	}
}

// TestSamplerStillSamples wraps a sampler that lets one line per hour through; the wrapper must not
// bypass its Check.
func TestSamplerStillSamples(t *testing.T) {
	var buf bytes.Buffer
	sampled := zapcore.NewSamplerWithOptions(noTimeCore(&buf, zap.InfoLevel), time.Hour, 1, 0)
	l := zap.New(zapmdc.NewCore(sampled))
	for range 10 {
		l.Info("same", zapmdc.Ctx(ids()))
	}
	if got, want := buf.String(), `{"level":"info","msg":"same","traceId":"t1","spanId":"0.1"}`+"\n"; got != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

// countingCtx counts lookups, to show that a disabled level never reads the MDC.
type countingCtx struct {
	context.Context
	n *int
}

func (c countingCtx) Value(k any) any { *c.n++; return c.Context.Value(k) }

func TestDisabledDoesNoMDCWork(t *testing.T) {
	var n int
	ctx := countingCtx{ids(), &n}
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.WarnLevel)))
	l.Info("off", zapmdc.Ctx(ctx))
	l.With(zapmdc.Ctx(ctx)).Sugar().Infow("off too")
	if n != 0 || buf.Len() != 0 {
		t.Fatalf("disabled line read the ctx %d times, wrote %q", n, buf.String())
	}
	l.Warn("on", zapmdc.Ctx(ctx))
	if n == 0 || !strings.Contains(buf.String(), `"traceId":"t1"`) {
		t.Fatalf("enabled line: %d lookups, %q", n, buf.String())
	}
}

func TestNamespaceBoundKeepsMDCAtTopLevel(t *testing.T) {
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.InfoLevel)))
	l = l.With(zap.String("app", "a"), zapmdc.Ctx(ids()), zap.Namespace("req"), zap.String("x", "1")).With(zap.String("traceId", "inner"))
	l.Info("m", zap.String("y", "2"))
	want := `{"level":"info","msg":"m","traceId":"t1","spanId":"0.1","app":"a","req":{"x":"1","traceId":"inner","y":"2"}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestNamespaceNameWinsOverMDCField(t *testing.T) {
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.InfoLevel))).With(zap.Namespace("spanId"))
	l.Info("m", zapmdc.Ctx(ids()), zap.Int("a", 1))
	want := `{"level":"info","msg":"m","traceId":"t1","spanId":{"a":1}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestNamespaceAtCallSite(t *testing.T) {
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.InfoLevel)))
	l.Info("m", zap.Namespace("ns"), zap.String("traceId", "x"), zapmdc.Ctx(ids()))
	want := `{"level":"info","msg":"m","traceId":"t1","spanId":"0.1","ns":{"traceId":"x"}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

// The name of a Namespace opened at the call site is a top-level key, so it wins over the MDC field
// of that name, as a bound Namespace does; the keys inside it do not.
func TestNamespaceNameAtCallSiteWinsOverMDCField(t *testing.T) {
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.InfoLevel)))
	l.Info("m", zapmdc.Ctx(ids()), zap.Namespace("spanId"), zap.String("traceId", "x"), zap.Namespace("inner"))
	want := `{"level":"info","msg":"m","traceId":"t1","spanId":{"traceId":"x","inner":{}}}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

func TestCallSiteCarrierWinsOverBound(t *testing.T) {
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.InfoLevel))).With(zapmdc.Ctx(ids()))
	l.Info("m", zapmdc.Ctx(mdc.With(context.Background(), mdc.KeyTraceID, "t2")))
	//lint:ignore SA1012 a nil ctx is accepted
	l.Info("nil carrier keeps the bound one", zapmdc.Ctx(nil)) //nolint:staticcheck
	want := `{"level":"info","msg":"m","traceId":"t2"}` + "\n" +
		`{"level":"info","msg":"nil carrier keeps the bound one","traceId":"t1","spanId":"0.1"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrorsReported(t *testing.T) {
	// A zapcore.NewCore core: its error returns through Write to the logger's ErrorOutput.
	var loggerOut, wrapperOut bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(failWriter{}, zap.InfoLevel), zapmdc.WithErrorOutput(zapcore.AddSync(&wrapperOut))),
		zap.ErrorOutput(zapcore.AddSync(&loggerOut)))
	l.Info("m", zapmdc.Ctx(ids()))
	if !strings.Contains(loggerOut.String(), "disk full") || wrapperOut.Len() != 0 {
		t.Fatalf("logger error output %q, wrapper error output %q", loggerOut.String(), wrapperOut.String())
	}
	// Any other core (here a tee) checks and writes on its own: the error goes to WithErrorOutput.
	loggerOut.Reset()
	tee := zapcore.NewTee(noTimeCore(failWriter{}, zap.InfoLevel), noTimeCore(io.Discard, zap.InfoLevel))
	l = zap.New(zapmdc.NewCore(tee, zapmdc.WithErrorOutput(zapcore.AddSync(&wrapperOut))), zap.ErrorOutput(zapcore.AddSync(&loggerOut)))
	l.Info("m", zapmdc.Ctx(ids()))
	if !strings.Contains(wrapperOut.String(), "disk full") || loggerOut.Len() != 0 {
		t.Fatalf("logger error output %q, wrapper error output %q", loggerOut.String(), wrapperOut.String())
	}
}

func TestNilCoreAndOptions(t *testing.T) {
	c := zapmdc.NewCore(nil, nil, zapmdc.WithNaming(nil), zapmdc.WithErrorOutput(nil))
	l := zap.New(c)
	l.Info("m", zapmdc.Ctx(ids())) // a no-op core: nothing to see, nothing to panic about
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1012 a nil ctx is accepted
	if zapmdc.Fields(nil, nil) != nil { //nolint:staticcheck
		t.Fatal("Fields(nil) not nil")
	}
}

func TestBadInput(t *testing.T) {
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.InfoLevel)))
	huge := strings.Repeat("é", 1<<20)
	ctx := mdc.WithPairs(ids(), mdc.Pair{Key: "", Value: "empty key"}, mdc.Pair{Key: "bad\xff", Value: "\xff\xfe"}, mdc.Pair{Key: "huge", Value: huge})
	l.Info("m", zapmdc.Ctx(ctx), zap.String("", "empty call key"))
	m, err := conformance.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if m["bad\ufffd"] != "\ufffd\ufffd" || m["huge"] != huge || m[""] != "empty call key" {
		t.Fatalf("bad=%q len(huge)=%d", m["bad\ufffd"], len(m["huge"].(string)))
	}
}

func TestFieldsHelper(t *testing.T) {
	var buf bytes.Buffer
	l := zap.New(noTimeCore(&buf, zap.InfoLevel))
	n := mdc.NewNaming(mdc.PresetECS, mdc.Group("mdc"))
	l.With(zapmdc.Fields(ids(), n)...).Info("m")
	if got, want := buf.String(), `{"level":"info","msg":"m","mdc":{"trace.id":"t1","span.id":"0.1"}}`+"\n"; got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestConcurrent(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	w := zapcore.AddSync(writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return buf.Write(p) }))
	ctx := mdc.WithScope(ids())
	base := zap.New(zapmdc.NewCore(noTimeCore(w, zap.InfoLevel))).With(zapmdc.Ctx(ctx))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := base.With(zap.Int("g", g))
			for i := range 200 {
				mdc.Set(ctx, "k", "v")
				l.Info("m", zap.Int("i", i), zapmdc.Ctx(mdc.With(ctx, "gr", "x")))
			}
		}()
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines", len(lines))
	}
	for _, line := range lines {
		m, err := conformance.Parse([]byte(line))
		if err != nil || m["traceId"] != "t1" || m["k"] != "v" || m["gr"] != "x" {
			t.Fatalf("%v: %s", err, line)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func BenchmarkCore(b *testing.B) {
	traceID, spanID := "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "0.1.2"
	ctx := mdc.WithPairs(context.Background(), mdc.Pair{Key: mdc.KeyTraceID, Value: traceID}, mdc.Pair{Key: mdc.KeySpanID, Value: spanID})
	b.Run("manual", func(b *testing.B) {
		l := zap.New(jsonCore(io.Discard, zap.InfoLevel))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Info("request handled", zap.String("traceId", traceID), zap.String("spanId", spanID), zap.Int("n", i))
		}
	})
	b.Run("mdc", func(b *testing.B) {
		l := zap.New(zapmdc.NewCore(jsonCore(io.Discard, zap.InfoLevel)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Info("request handled", zapmdc.Ctx(ctx), zap.Int("n", i))
		}
	})
	// Check is zap's allocation-free form for a level that may be off: Info(msg, fields...) would
	// allocate its variadic slice (zap's cost, wrapper or not; see TestAllocs).
	b.Run("disabled", func(b *testing.B) {
		l := zap.New(zapmdc.NewCore(jsonCore(io.Discard, zap.WarnLevel)))
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if ce := l.Check(zap.InfoLevel, "request handled"); ce != nil {
				ce.Write(zapmdc.Ctx(ctx), zap.Int("n", i))
			}
		}
	})
}

// TestDisabledLevelSkipsSource: a line below the level never asks a source; a written one asks once.
func TestDisabledLevelSkipsSource(t *testing.T) {
	src := &conformance.CountingSource{}
	defer mdc.AddSource(src)()
	var buf bytes.Buffer
	l := zap.New(zapmdc.NewCore(noTimeCore(&buf, zap.WarnLevel)))
	l.Info("off", zapmdc.Ctx(ids()))
	l.With(zapmdc.Ctx(ids())).Sugar().Infow("off too")
	if src.N.Load() != 0 || buf.Len() != 0 {
		t.Fatalf("disabled line: %d source calls, %q written", src.N.Load(), buf.String())
	}
	l.Warn("on", zapmdc.Ctx(context.Background()))
	if src.N.Load() != 1 || !strings.Contains(buf.String(), `"spanId":"from-source"`) {
		t.Fatalf("written line: %d source calls, %q", src.N.Load(), buf.String())
	}
	buf.Reset()
	l.Warn("no carrier") // no context: nothing to ask the source about
	if src.N.Load() != 1 || strings.Contains(buf.String(), "spanId") {
		t.Fatalf("line without carrier: %d source calls, %q", src.N.Load(), buf.String())
	}
}

// TestEncoderConfigKeys: with WithEncoderConfig the own keys are the config's, so a development
// config's M is renamed and msg (no longer the encoder's) is not.
func TestEncoderConfigKeys(t *testing.T) {
	cfg := zap.NewDevelopmentEncoderConfig()
	var buf bytes.Buffer
	core := zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.AddSync(&buf), zap.InfoLevel)
	l := zap.New(zapmdc.NewCore(core, zapmdc.WithEncoderConfig(cfg))).Named("n")
	l.Info("m", zapmdc.Ctx(mdc.WithPairs(context.Background(), mdc.Pair{Key: "M", Value: "a"}, mdc.Pair{Key: "msg", Value: "b"},
		mdc.Pair{Key: "N", Value: "c"})))
	m, err := conformance.Parse(buf.Bytes())
	if err != nil || m["fields.M"] != "a" || m["msg"] != "b" || m["fields.N"] != "c" || m["M"] != "m" || m["N"] != "n" {
		t.Fatalf("%v %s", err, buf.String())
	}
}
