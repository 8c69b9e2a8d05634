package mdc

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

type otherKey struct{}

func TestFrameWith(t *testing.T) {
	base := context.WithValue(context.Background(), otherKey{}, "v")
	parent := WithPairs(base, Pair{"traceId", "t1"}, Pair{"spanId", "0"})
	var f Frame
	ctx := f.With(parent, Pair{"traceId", "t1"}, Pair{"spanId", "0.1"})
	eq(t, pairsOf(ctx), Pair{"traceId", "t1"}, Pair{"spanId", "0.1"})
	eq(t, pairsOf(parent), Pair{"traceId", "t1"}, Pair{"spanId", "0"})
	if got := ctx.Value(otherKey{}); got != "v" {
		t.Fatalf("Value(otherKey) = %v, want v", got)
	}
	if From(ctx).Len() != 2 {
		t.Fatalf("Len = %d, want 2", From(ctx).Len())
	}
	// A derived context keeps working as a parent.
	eq(t, pairsOf(With(ctx, "x", "1")), Pair{"traceId", "t1"}, Pair{"spanId", "0.1"}, Pair{"x", "1"})
}

func TestFrameEdgeCases(t *testing.T) {
	var f Frame
	bg := context.Background()
	if got := f.With(bg); got != bg {
		t.Fatal("With without pairs must return the parent")
	}
	// A nil parent is Background; empty keys are ignored; a repeated key keeps the last value.
	//lint:ignore SA1012 a nil parent is documented to be treated as Background
	ctx := f.With(nil, Pair{"", "x"}, Pair{"a", "1"}, Pair{"a", "2"})
	eq(t, pairsOf(ctx), Pair{"a", "2"})
	var nf *Frame
	eq(t, pairsOf(nf.With(bg, Pair{"b", "1"})), Pair{"b", "1"})
}

func TestFrameReuseDoesNotCorrupt(t *testing.T) {
	var f Frame
	first := f.With(context.Background(), Pair{"a", "1"}, Pair{"b", "2"})
	second := f.With(context.Background(), Pair{"a", "x"}, Pair{"b", "y"})
	third := f.With(first, Pair{"b", "z"})
	eq(t, pairsOf(first), Pair{"a", "1"}, Pair{"b", "2"})
	eq(t, pairsOf(second), Pair{"a", "x"}, Pair{"b", "y"})
	eq(t, pairsOf(third), Pair{"a", "1"}, Pair{"b", "z"})
}

func TestFrameMoreThanInline(t *testing.T) {
	// The parent has more entries than the frame holds.
	big := WithPairs(context.Background(), Pair{"a", "1"}, Pair{"b", "2"}, Pair{"c", "3"}, Pair{"d", "4"})
	var f1 Frame
	eq(t, pairsOf(f1.With(big, Pair{"b", "9"})), Pair{"a", "1"}, Pair{"b", "9"}, Pair{"c", "3"}, Pair{"d", "4"})

	// The parent fits but the new keys do not: the frame is abandoned, never half-published.
	var f2 Frame
	small := With(context.Background(), "a", "1")
	ctx := f2.With(small, Pair{"b", "2"}, Pair{"c", "3"}, Pair{"d", "4"})
	eq(t, pairsOf(ctx), Pair{"a", "1"}, Pair{"b", "2"}, Pair{"c", "3"}, Pair{"d", "4"})
	eq(t, pairsOf(small), Pair{"a", "1"})
	if From(ctx).Len() != 4 {
		t.Fatalf("Len = %d, want 4", From(ctx).Len())
	}
	ctx2 := f2.With(small, Pair{"z", "0"})
	eq(t, pairsOf(ctx2), Pair{"a", "1"}, Pair{"z", "0"})
	eq(t, pairsOf(ctx), Pair{"a", "1"}, Pair{"b", "2"}, Pair{"c", "3"}, Pair{"d", "4"})
}

func TestFrameScopeAndTombstones(t *testing.T) {
	sc := WithScope(With(context.Background(), "traceId", "t"))
	Set(sc, "user", "u1")
	Set(sc, "spanId", "scoped")
	gone := Without(sc, "user") // tombstone: hides the scope's user

	var f Frame
	ctx := f.With(gone, Pair{"spanId", "0.1"})
	eq(t, pairsOf(ctx), Pair{"traceId", "t"}, Pair{"spanId", "0.1"})
	if _, ok := Get(ctx, "user"); ok {
		t.Fatal("the tombstone for user must still hide the scope's value")
	}
	if ScopeFrom(ctx) != ScopeFrom(sc) {
		t.Fatal("the derived context must keep the request scope")
	}
	Set(ctx, "later", "L") // written into the shared scope, seen by the derived context
	if v, _ := Get(ctx, "later"); v != "L" {
		t.Fatalf("Get(later) = %q, want L", v)
	}
	if n := From(ctx).Len(); n != 3 {
		t.Fatalf("Len = %d, want 3 (traceId, spanId, later)", n)
	}

	// Setting a key that has a tombstone brings it back.
	var g Frame
	back := g.With(gone, Pair{"user", "u2"})
	if v, ok := Get(back, "user"); !ok || v != "u2" {
		t.Fatalf("Get(user) = %q, %v; want u2, true", v, ok)
	}
	if n := From(back).Len(); n != 4 {
		t.Fatalf("Len = %d, want 4 (traceId, user, then spanId and later from the scope)", n)
	}
	if _, ok := Get(gone, "user"); ok {
		t.Fatal("the parent must keep its tombstone")
	}
}

func TestFrameConcurrent(t *testing.T) {
	parent := WithPairs(context.Background(), Pair{"traceId", "t"}, Pair{"spanId", "0"})
	var f Frame
	const n = 16
	ctxs := make([]context.Context, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctxs[i] = f.With(parent, Pair{"spanId", fmt.Sprint("0.", i)})
			for range 100 {
				_ = pairsOf(ctxs[i])
			}
		}()
	}
	wg.Wait()
	inFrame := 0
	for i, ctx := range ctxs {
		eq(t, pairsOf(ctx), Pair{"traceId", "t"}, Pair{"spanId", fmt.Sprint("0.", i)})
		if ctx == context.Context(&f.nd) {
			inFrame++
		}
	}
	if inFrame != 1 {
		t.Fatalf("%d contexts live in the frame, want exactly 1", inFrame)
	}
	eq(t, pairsOf(parent), Pair{"traceId", "t"}, Pair{"spanId", "0"})
}

func TestFrameAllocs(t *testing.T) {
	parent := WithPairs(context.Background(), Pair{"traceId", "t"}, Pair{"spanId", "0"})
	frames := make([]Frame, 200)
	i := 0
	got := testing.AllocsPerRun(100, func() {
		_ = frames[i].With(parent, Pair{"traceId", "t"}, Pair{"spanId", "0.1"})
		i++
	})
	if got != 0 {
		t.Fatalf("Frame.With allocates %v times, want 0", got)
	}
}

// A tombstone is marked by the address of its value, so a caller's value with the same text is an
// ordinary value.
func TestTombstoneLookalikeValue(t *testing.T) {
	sc := WithScope(context.Background())
	Set(sc, "k", "scoped")
	ctx := Without(sc, "k")
	if _, ok := Get(ctx, "k"); ok {
		t.Fatal("Without must hide the scope's value")
	}
	ctx = With(ctx, "k", string([]byte{'-'}))
	ctx = With(ctx, "j", "-")
	if v, ok := Get(ctx, "k"); !ok || v != "-" {
		t.Fatalf("Get(k) = %q, %v; want -, true", v, ok)
	}
	eq(t, pairsOf(ctx), Pair{"k", "-"}, Pair{"j", "-"})
	if n := From(ctx).Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
}

// TestFrameMatchesWithPairs derives contexts from random parents (with and without a request
// scope and tombstones) and random pairs (empty and repeated keys included), and checks that a
// Frame gives the same MDC as WithPairs, whether or not the entries fit in the frame.
func TestFrameMatchesWithPairs(t *testing.T) {
	keys := []string{"", "a", "b", "c", "d"}
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 5000 {
		parent := context.Background()
		if rng.IntN(3) == 0 {
			parent = WithScope(parent)
			Set(parent, keys[1+rng.IntN(4)], "s")
		}
		for range rng.IntN(4) {
			k := keys[1+rng.IntN(4)]
			if rng.IntN(4) == 0 {
				parent = Without(parent, k)
			} else {
				parent = With(parent, k, fmt.Sprint("p", rng.IntN(3)))
			}
		}
		pairs := make([]Pair, rng.IntN(5))
		for i := range pairs {
			pairs[i] = Pair{keys[rng.IntN(len(keys))], fmt.Sprint("v", rng.IntN(3))}
		}
		var f Frame
		got, want := f.With(parent, pairs...), WithPairs(parent, pairs...)
		if g, w := pairsOf(got), pairsOf(want); fmt.Sprint(g) != fmt.Sprint(w) {
			t.Fatalf("iteration %d: parent %v, pairs %v: Frame gives %v, WithPairs %v", iter, pairsOf(parent), pairs, g, w)
		}
		if g, w := From(got).Len(), From(want).Len(); g != w {
			t.Fatalf("iteration %d: Len %d, want %d", iter, g, w)
		}
		for _, k := range keys[1:] {
			gv, gok := Get(got, k)
			wv, wok := Get(want, k)
			if gv != wv || gok != wok {
				t.Fatalf("iteration %d: Get(%q) = %q, %v; want %q, %v", iter, k, gv, gok, wv, wok)
			}
		}
	}
}
