package slogmdc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/internal/conformance"
	"github.com/tracemdc/tracemdc/mdc"
)

type valuer string

func (v valuer) LogValue() slog.Value { return slog.StringValue(string(v)) }

// TestFastPathMatchesGeneral renders many record, MDC, naming and bound-attribute shapes through
// Handle (which takes the fast path where it can) and through the general path handle, half of them
// with pairs from a registered source, and
// requires byte-equal lines: the fast path is an optimization, never a different answer.
func TestFastPathMatchesGeneral(t *testing.T) {
	keys := []string{"traceId", "spanId", "u", "v", "w", "SOFA-TraceId", "f", "x", "msg", "fields.msg", "level"}
	namings := []*mdc.Naming{
		nil,
		mdc.NewNaming(mdc.PresetSOFA),
		mdc.NewNaming(mdc.PresetDefault, mdc.Rename("u", "f"), mdc.Rename("v", "f")),
		mdc.NewNaming(mdc.PresetDefault, mdc.Allow("traceId", "u", "w")),
		mdc.NewNaming(mdc.PresetDefault, mdc.Deny("spanId", "v")),
		mdc.NewNaming(mdc.PresetDefault, mdc.Rename("traceId", "spanId")),
		mdc.NewNaming(mdc.PresetDefault, mdc.Rename("u", "time"), mdc.Rename("w", "fields.level")),
	}
	defer mdc.AddSource(conformance.TestSource)() // half the contexts carry source pairs
	rng := rand.New(rand.NewPCG(1, 2))
	pick := func() string { return keys[rng.IntN(len(keys))] }
	for i := range 20000 {
		ctx := context.Background()
		if rng.IntN(2) == 0 {
			ctx = mdc.WithScope(ctx)
		}
		var desc bytes.Buffer
		for range rng.IntN(8) {
			k := pick()
			switch rng.IntN(4) {
			case 0:
				if mdc.Set(ctx, k, "s"+k) {
					fmt.Fprintf(&desc, "set(%s) ", k)
				}
			case 1:
				ctx = mdc.Without(ctx, k)
				fmt.Fprintf(&desc, "without(%s) ", k)
			default:
				ctx = mdc.With(ctx, k, "m"+k)
				fmt.Fprintf(&desc, "with(%s) ", k)
			}
		}
		if rng.IntN(2) == 0 {
			var sp []mdc.Pair
			for range rng.IntN(4) {
				k := pick()
				sp = append(sp, mdc.Pair{Key: k, Value: "src" + k})
				fmt.Fprintf(&desc, "source(%s) ", k)
			}
			ctx = conformance.WithSourcePairs(ctx, sp...)
		}
		var args []slog.Attr
		for j := range rng.IntN(8) {
			k := pick()
			switch rng.IntN(6) {
			case 0:
				args = append(args, slog.Group("", slog.String(k, "g")))
				fmt.Fprintf(&desc, "arg(inline %s) ", k)
			case 1:
				args = append(args, slog.Any(k, valuer("lv")))
				fmt.Fprintf(&desc, "arg(valuer %s) ", k)
			default:
				args = append(args, slog.Int(k, j))
				fmt.Fprintf(&desc, "arg(%s) ", k)
			}
		}
		nm := namings[rng.IntN(len(namings))]
		var fast, general bytes.Buffer
		mk := func(w *bytes.Buffer) *handler {
			var h slog.Handler = New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: noTime}), WithNaming(nm))
			if rng.IntN(3) == 0 {
				h = h.WithAttrs([]slog.Attr{slog.String(keys[i%len(keys)], "bound")})
			}
			return h.(*handler)
		}
		seed := rng.Uint64()
		rng = rand.New(rand.NewPCG(seed, 0))
		hf := mk(&fast)
		rng = rand.New(rand.NewPCG(seed, 0))
		hg := mk(&general)
		r := slog.NewRecord(testTime, slog.LevelInfo, "m", 0)
		r.AddAttrs(args...)
		if err := hf.Handle(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := hg.handle(ctx, r, mdc.Pairs(ctx, nil)); err != nil {
			t.Fatal(err)
		}
		if fast.String() != general.String() {
			t.Fatalf("case %d %s naming %d:\nfast    %s\ngeneral %s", i, desc.String(), slicesIndex(namings, nm), fast.String(), general.String())
		}
		rng = rand.New(rand.NewPCG(seed, 1))
	}
}

var testTime time.Time

func slicesIndex(ns []*mdc.Naming, n *mdc.Naming) int {
	for i := range ns {
		if ns[i] == n {
			return i
		}
	}
	return -1
}

func noTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// TestFastPathScopeGrowsDuringHandle: a request scope that gains and loses keys while records are
// handled (Set racing with Handle, so Len and Pairs may see different scopes) never gives a line a
// duplicate field, loses the ids, or more fields than the fast path has room for without the
// general path; run with -race.
func TestFastPathScopeGrowsDuringHandle(t *testing.T) {
	ctx := mdc.WithScope(mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "t1"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"}))
	var mu sync.Mutex
	var out bytes.Buffer
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(p) })
	l := slog.New(New(slog.NewJSONHandler(w, &slog.HandlerOptions{ReplaceAttr: noTime})))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s := mdc.ScopeFrom(ctx)
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			k := fmt.Sprintf("s%d", i%7)
			if i%14 < 7 {
				s.Set(k, "v")
			} else {
				s.Delete(k)
			}
		}
	}()
	const lines = 2000
	for i := range lines {
		l.InfoContext(ctx, "m", "a", i, "s3", "call")
	}
	close(done)
	wg.Wait()
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var kv map[string]any
		if err := json.Unmarshal([]byte(line), &kv); err != nil || kv["traceId"] != "t1" || kv["spanId"] != "0.1" || kv["s3"] != "call" {
			t.Fatalf("%v: %s", err, line)
		}
		for k := range kv {
			if n := strings.Count(line, `"`+k+`":`); n != 1 {
				t.Fatalf("field %q %d times: %s", k, n, line)
			}
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
