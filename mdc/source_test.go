package mdc

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

type ctxPairs struct{}

// fromCtx is a source that returns the pairs kept in the context under ctxPairs, as another tracer
// keeps its span.
var fromCtx = SourceFunc(func(ctx context.Context) []Pair {
	ps, _ := ctx.Value(ctxPairs{}).([]Pair)
	return ps
})

func TestSourcesOrderAndRemove(t *testing.T) {
	if HasSources() {
		t.Fatal("a source is registered before the test")
	}
	a := SourceFunc(func(context.Context) []Pair { return []Pair{{"a", "1"}} })
	b := SourceFunc(func(context.Context) []Pair { return []Pair{{"b", "2"}} })
	ctx := With(context.Background(), "m", "0")
	removeA := AddSource(a)
	removeB := AddSource(b)
	removeA2 := AddSource(a) // the same source twice: two registrations
	if !HasSources() {
		t.Fatal("HasSources false")
	}
	eq(t, Pairs(ctx, nil), Pair{"m", "0"}, Pair{"a", "1"}, Pair{"b", "2"}, Pair{"a", "1"})
	removeA()
	removeA() // idempotent: must not remove the second registration
	eq(t, Pairs(ctx, nil), Pair{"m", "0"}, Pair{"b", "2"}, Pair{"a", "1"})
	removeA2()
	removeB()
	if HasSources() {
		t.Fatal("sources left after every removal")
	}
	eq(t, Pairs(ctx, nil), Pair{"m", "0"})
	AddSource(nil)() // ignored
	if HasSources() {
		t.Fatal("nil source registered")
	}
	//lint:ignore SA1012 a nil ctx is part of the contract
	if got := SourcePairs(nil, []Pair{{"x", "y"}}); !slices.Equal(got, []Pair{{"x", "y"}}) {
		t.Fatal(got)
	}
}

func TestSourcePanicCounted(t *testing.T) {
	defer AddSource(SourceFunc(func(context.Context) []Pair { panic("boom") }))()
	defer AddSource(SourceFunc(func(context.Context) []Pair { panic(nil) }))()
	defer AddSource(fromCtx)()
	before := SourcePanics()
	ctx := context.WithValue(context.Background(), ctxPairs{}, []Pair{{KeySpanID, "s"}})
	eq(t, Pairs(ctx, nil), Pair{KeySpanID, "s"})
	if got := SourcePanics() - before; got != 2 {
		t.Fatalf("panics counted %d, want 2", got)
	}
}

// TestSourcePairsNoSourceFree: without a registered source, asking for source pairs costs no
// allocation (and, inlined, no call).
func TestSourcePairsNoSourceFree(t *testing.T) {
	ctx := With(context.Background(), KeyTraceID, "t")
	var buf [4]Pair
	if n := testing.AllocsPerRun(100, func() { _ = SourcePairs(ctx, From(ctx).Pairs(buf[:0])) }); n != 0 {
		t.Fatalf("allocs %v", n)
	}
}

// TestSourcesConcurrent adds and removes sources while other goroutines read pairs (run with -race).
func TestSourcesConcurrent(t *testing.T) {
	ctx := context.WithValue(With(context.Background(), "m", "0"), ctxPairs{}, []Pair{{"s", "1"}})
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				ps := Pairs(ctx, nil)
				if len(ps) == 0 || ps[0] != (Pair{"m", "0"}) {
					t.Errorf("pairs %v", ps)
					return
				}
				for _, p := range ps[1:] {
					if p != (Pair{"s", "1"}) {
						t.Errorf("pairs %v", ps)
						return
					}
				}
			}
		}()
	}
	for range 500 {
		AddSource(fromCtx)()
	}
	stop.Store(true)
	wg.Wait()
	if HasSources() {
		t.Fatal("sources left")
	}
}
