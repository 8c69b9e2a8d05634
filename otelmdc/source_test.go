package otelmdc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/logrusmdc"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/otelmdc"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/zapmdc"
)

// TestMain checks that no goroutine outlives the tests, except lumberjack's mill goroutine, which
// lumberjack (under the digest reporter's rolling files) starts per file and never stops, even on
// Close: a leak of the dependency by design.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// syncBuffer is a buffer several goroutines write lines into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimRight(s.b.String(), "\n"), "\n")
}

// loggers are the six logger setups whose every line must carry the current span's ids: slog JSON
// and text, zap JSON and console, logrus JSON and text, each through tracemdc's adapter.
type loggers struct {
	names []string
	outs  []*syncBuffer
	logs  []func(ctx context.Context, msg string)
	mu    sync.Mutex
	want  []string // per line: "traceId spanId" of the span current at that line
}

func newLoggers() *loggers {
	l := &loggers{}
	add := func(name string, f func(w io.Writer) func(ctx context.Context, msg string)) {
		b := &syncBuffer{}
		l.names, l.outs, l.logs = append(l.names, name), append(l.outs, b), append(l.logs, f(b))
	}
	add("slog json", func(w io.Writer) func(context.Context, string) {
		lg := slog.New(slogmdc.New(slog.NewJSONHandler(w, nil)))
		return func(ctx context.Context, msg string) { lg.InfoContext(ctx, msg, "n", 1) }
	})
	add("slog text", func(w io.Writer) func(context.Context, string) {
		lg := slog.New(slogmdc.New(slog.NewTextHandler(w, nil)))
		return func(ctx context.Context, msg string) { lg.InfoContext(ctx, msg) }
	})
	enc := zap.NewProductionEncoderConfig()
	add("zap json", func(w io.Writer) func(context.Context, string) {
		lg := zap.New(zapmdc.NewCore(zapcore.NewCore(zapcore.NewJSONEncoder(enc), zapcore.AddSync(w), zap.InfoLevel)))
		return func(ctx context.Context, msg string) { lg.Info(msg, zapmdc.Ctx(ctx), zap.Int("n", 1)) }
	})
	add("zap console", func(w io.Writer) func(context.Context, string) {
		lg := zap.New(zapmdc.NewCore(zapcore.NewCore(zapcore.NewConsoleEncoder(enc), zapcore.AddSync(w), zap.InfoLevel)))
		return func(ctx context.Context, msg string) { lg.Sugar().Infow(msg, zapmdc.Ctx(ctx)) }
	})
	for _, f := range []struct {
		name string
		f    logrus.Formatter
	}{{"logrus json", &logrus.JSONFormatter{}}, {"logrus text", &logrus.TextFormatter{DisableColors: true}}} {
		add(f.name, func(w io.Writer) func(context.Context, string) {
			lg := logrus.New()
			lg.Out, lg.Formatter = w, f.f
			lg.AddHook(logrusmdc.NewHook())
			return func(ctx context.Context, msg string) { lg.WithContext(ctx).Info(msg) }
		})
	}
	return l
}

// log writes msg with every logger and notes the ids of the span current in ctx.
func (l *loggers) log(ctx context.Context, msg string) {
	sc := oteltrace.SpanContextFromContext(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.want = append(l.want, sc.TraceID().String()+" "+sc.SpanID().String())
	for _, f := range l.logs {
		f(ctx, msg)
	}
}

var (
	textTrace = regexp.MustCompile(`\btraceId=(\S+)`)
	textSpan  = regexp.MustCompile(`\bspanId=(\S+)`)
	jsonIDs   = regexp.MustCompile(`\{.*\}\s*$`) // zap console: the fields as a JSON object ending the line
)

// mismatches returns, for every logger, the lines that do not carry the ids of their span.
func (l *loggers) mismatches() []string {
	var bad []string
	for i, out := range l.outs {
		lines := out.lines()
		if len(lines) != len(l.want) {
			bad = append(bad, fmt.Sprintf("%s: %d lines, want %d", l.names[i], len(lines), len(l.want)))
			continue
		}
		for j, line := range lines {
			var got string
			switch {
			case strings.HasSuffix(l.names[i], "text"):
				if tm, sm := textTrace.FindStringSubmatch(line), textSpan.FindStringSubmatch(line); tm != nil && sm != nil {
					got = tm[1] + " " + sm[1]
				}
			default:
				var fields map[string]any
				if err := json.Unmarshal([]byte(jsonIDs.FindString(line)), &fields); err == nil {
					got = fmt.Sprint(fields["traceId"]) + " " + fmt.Sprint(fields["spanId"])
				}
			}
			if got != l.want[j] {
				bad = append(bad, fmt.Sprintf("%s line %d: ids %q, want %q: %s", l.names[i], j, got, l.want[j], line))
			}
		}
	}
	return bad
}

// helper is library code that knows nothing of tracemdc: it starts a span of its own and logs.
func helper(ctx context.Context, tp oteltrace.TracerProvider, log func(context.Context, string)) {
	ctx, span := tp.Tracer("lib").Start(ctx, "helper")
	defer span.End()
	log(ctx, "in helper")
}

// serve runs the scenario of the issue: an otelhttp client calls an otelhttp server whose handler
// logs, starts a manual child span, logs, calls helper (which starts its own span and logs), logs
// again under the child and once more under the server span. glue, when set, is the middleware users
// write today: it copies the server span's ids into the MDC once, at the start of the request.
func serve(t *testing.T, l *loggers, glue bool) {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	prop := otelhttp.WithPropagators(propagation.TraceContext{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		l.log(ctx, "handler start")
		cctx, child := tp.Tracer("app").Start(ctx, "load order")
		l.log(cctx, "in child")
		helper(cctx, tp, l.log)
		l.log(cctx, "back in child")
		child.End()
		l.log(ctx, "handler end")
		_, _ = io.WriteString(w, "ok")
	})
	var h http.Handler = mux
	if glue {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sc := oteltrace.SpanContextFromContext(r.Context())
			ctx := mdc.WithPairs(r.Context(), mdc.Pair{Key: mdc.KeyTraceID, Value: sc.TraceID().String()},
				mdc.Pair{Key: mdc.KeySpanID, Value: sc.SpanID().String()})
			mux.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	srv := httptest.NewServer(otelhttp.NewHandler(h, "server", otelhttp.WithTracerProvider(tp), prop))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: otelhttp.NewTransport(tr, otelhttp.WithTracerProvider(tp), prop)}
	for i := range 3 {
		ctx, root := tp.Tracer("client").Start(context.Background(), "checkout")
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/orders/%d", srv.URL, i), nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		l.log(ctx, "client done")
		root.End()
	}
}

// TestSourceEveryLineCarriesCurrentSpan: with the source registered, every line of the six loggers
// carries the trace and span id of the span current at that line: the server span otelhttp started,
// the handler's child span and the helper's own span. The same run without the source fails on every
// line, and the glue users write today fails on the helper's lines (they show the server span).
func TestSourceEveryLineCarriesCurrentSpan(t *testing.T) {
	remove := mdc.AddSource(otelmdc.NewSource())
	l := newLoggers()
	serve(t, l, false)
	remove()
	if bad := l.mismatches(); len(bad) > 0 {
		t.Fatalf("%d lines without the current span's ids:\n%s", len(bad), strings.Join(bad, "\n"))
	}
	if len(l.want) != 3*6 {
		t.Fatalf("%d lines logged", len(l.want))
	}

	without := newLoggers()
	serve(t, without, false)
	if bad := without.mismatches(); len(bad) != len(without.want)*len(without.outs) {
		t.Fatalf("without the source %d of %d lines mismatch; the check cannot tell", len(bad), len(without.want)*len(without.outs))
	}

	glue := newLoggers()
	serve(t, glue, true)
	bad := glue.mismatches()
	for _, b := range bad {
		if !strings.Contains(b, "in helper") && !strings.Contains(b, "child") && !strings.Contains(b, "client done") {
			t.Errorf("the glue got a line right that it should not: %s", b)
		}
	}
	if len(bad) == 0 {
		t.Fatal("the glue passed the check; the check cannot tell")
	}
}

// TestSourceOptions: sampled and parent ids, and nothing for a context without a span.
func TestSourceOptions(t *testing.T) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, parent := tp.Tracer("t").Start(context.Background(), "parent")
	ctx, child := tp.Tracer("t").Start(ctx, "child")
	defer parent.End()
	defer child.End()
	got := otelmdc.NewSource(otelmdc.WithSampled(), otelmdc.WithParentID()).Pairs(ctx)
	want := []mdc.Pair{
		{Key: mdc.KeyTraceID, Value: child.SpanContext().TraceID().String()},
		{Key: mdc.KeySpanID, Value: child.SpanContext().SpanID().String()},
		{Key: mdc.KeySampled, Value: "true"},
		{Key: mdc.KeyParentSpanID, Value: parent.SpanContext().SpanID().String()},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	// A root has no parent; a remote span context has a sampled flag but no parent to give.
	if got := otelmdc.NewSource(otelmdc.WithParentID()).Pairs(oteltrace.ContextWithSpanContext(context.Background(),
		oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: child.SpanContext().TraceID(), SpanID: child.SpanContext().SpanID(), Remote: true}))); len(got) != 2 {
		t.Fatalf("remote span context: %v", got)
	}
	if got := otelmdc.NewSource(otelmdc.WithSampled()).Pairs(context.Background()); got != nil {
		t.Fatalf("no span: %v", got)
	}
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	defer func() { _ = unsampled.Shutdown(context.Background()) }()
	uctx, us := unsampled.Tracer("t").Start(context.Background(), "u")
	defer us.End()
	if got := otelmdc.NewSource(otelmdc.WithSampled()).Pairs(uctx); len(got) != 3 || got[2].Value != "false" {
		t.Fatalf("an unsampled span: %v", got)
	}
}

// TestSourceCache: spans whose ids share a cache slot, and a remote context with the ids of an SDK
// span, each get their own ids, also when goroutines ask at once (run with -race).
func TestSourceCache(t *testing.T) {
	src := otelmdc.NewSource(otelmdc.WithSampled(), otelmdc.WithParentID())
	mk := func(tid byte, sid byte, last byte, sampled bool) (context.Context, string) {
		var flags oteltrace.TraceFlags
		if sampled {
			flags = oteltrace.FlagsSampled
		}
		sc := oteltrace.NewSpanContext(oteltrace.SpanContextConfig{TraceID: oteltrace.TraceID{tid, 1}, SpanID: oteltrace.SpanID{sid, 0, 0, 0, 0, 0, 0, last}, TraceFlags: flags})
		return oteltrace.ContextWithSpanContext(context.Background(), sc), fmt.Sprint([]mdc.Pair{
			{Key: mdc.KeyTraceID, Value: sc.TraceID().String()}, {Key: mdc.KeySpanID, Value: sc.SpanID().String()},
			{Key: mdc.KeySampled, Value: fmt.Sprint(sampled)}})
	}
	type c struct {
		ctx  context.Context
		want string
	}
	var cases []c
	for i := range 8 {
		ctx, want := mk(byte(i%2), byte(i+1), 7, i%3 == 0) // one slot (last byte 7) for all
		cases = append(cases, c{ctx, want})
		ctx, want = mk(1, byte(i+1), byte(i), true)
		cases = append(cases, c{ctx, want})
	}
	// Same ids, sampled flag differs.
	a, wa := mk(9, 9, 9, true)
	b, wb := mk(9, 9, 9, false)
	// Same span id, trace ids differ.
	x, wx := mk(5, 1, 7, true)
	y, wy := mk(6, 1, 7, true)
	cases = append(cases, c{a, wa}, c{b, wb}, c{x, wx}, c{y, wy})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				cs := cases[(i*7+g)%len(cases)]
				if got := fmt.Sprint(src.Pairs(cs.ctx)); got != cs.want {
					t.Errorf("got %s, want %s", got, cs.want)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestSourceVendorFormats: the ids of an OpenTelemetry span in Google Cloud's and Datadog's fields,
// as the vendors document them, through the source and slog.
func TestSourceVendorFormats(t *testing.T) {
	defer mdc.AddSource(otelmdc.NewSource(otelmdc.WithSampled()))()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, span := tp.Tracer("t").Start(context.Background(), "op")
	defer span.End()
	tid, sid := span.SpanContext().TraceID(), span.SpanContext().SpanID()
	for _, tc := range []struct {
		naming *mdc.Naming
		want   map[string]any
	}{
		{mdc.NewNaming(mdc.PresetDefault, mdc.GoogleCloud("my-project")), map[string]any{
			"logging.googleapis.com/trace":         "projects/my-project/traces/" + tid.String(),
			"logging.googleapis.com/spanId":        sid.String(),
			"logging.googleapis.com/trace_sampled": true}},
		{mdc.NewNaming(mdc.PresetDefault, mdc.Datadog()), map[string]any{
			"dd.trace_id": fmt.Sprint(binary.BigEndian.Uint64(tid[8:])),
			"dd.span_id":  fmt.Sprint(binary.BigEndian.Uint64(sid[:])),
			"sampled":     "true"}},
	} {
		var buf bytes.Buffer
		slog.New(slogmdc.New(slog.NewJSONHandler(&buf, nil), slogmdc.WithNaming(tc.naming))).InfoContext(ctx, "m")
		var got map[string]any
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%s = %#v, want %#v in %s", k, got[k], v, buf.String())
			}
		}
	}
}
