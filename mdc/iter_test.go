package mdc

import (
	"context"
	"fmt"
	"testing"
)

func iterPairs(m Map) []Pair {
	var out []Pair
	for it := m.Iter(); it.Next(); {
		out = append(out, Pair{it.Key(), it.Value()})
	}
	return out
}

// TestIterMatchesRange checks that Iter yields exactly what Range yields, in the same order, over
// maps with tombstones, request scopes and keys that both the context and the scope have.
func TestIterMatchesRange(t *testing.T) {
	bg := context.Background()
	scoped := WithScope(With(bg, "a", "1"))
	Set(scoped, "s1", "x")
	Set(scoped, "a", "hidden by the context's own pair")
	Set(scoped, "s2", "y")
	cases := map[string]context.Context{
		"nil":           nil,
		"background":    bg,
		"one":           With(bg, "a", "1"),
		"nine":          WithPairs(bg, Pair{"1", "a"}, Pair{"2", "b"}, Pair{"3", "c"}, Pair{"4", "d"}, Pair{"5", "e"}, Pair{"6", "f"}, Pair{"7", "g"}, Pair{"8", "h"}, Pair{"9", "i"}),
		"without first": Without(WithPairs(bg, Pair{"a", "1"}, Pair{"b", "2"}), "a"),
		"scope":         scoped,
		"scope, tomb":   Without(scoped, "s1"),
		"scope, tomb a": Without(scoped, "a"),
		"scope only":    WithScope(bg),
		"all tombs":     Without(Without(With(scoped, "b", "2"), "b"), "s2"),
	}
	for name, ctx := range cases {
		m := From(ctx)
		want := m.Pairs(nil)
		got := iterPairs(m)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: Iter gave %v, Range gave %v", name, got, want)
		}
		if len(got) != m.Len() {
			t.Errorf("%s: Iter gave %d pairs, Len is %d", name, len(got), m.Len())
		}
	}
	var zero Iter
	if zero.Next() {
		t.Fatal("the zero Iter yielded an entry")
	}
}

// TestIterAfterEnd checks that Next keeps reporting false once the entries are exhausted.
func TestIterAfterEnd(t *testing.T) {
	ctx := WithScope(With(context.Background(), "a", "1"))
	Set(ctx, "b", "2")
	it := From(ctx).Iter()
	n := 0
	for it.Next() {
		n++
	}
	if n != 2 || it.Next() || it.Next() {
		t.Fatalf("yielded %d entries, or more after the end", n)
	}
}

func TestIterNoAlloc(t *testing.T) {
	ctx := WithScope(WithPairs(context.Background(), Pair{KeyTraceID, "t"}, Pair{KeySpanID, "0.1"}))
	Set(ctx, "user", "u")
	m := From(ctx)
	var n int
	if a := testing.AllocsPerRun(100, func() {
		for it := m.Iter(); it.Next(); {
			n += len(it.Key()) + len(it.Value())
		}
	}); a != 0 {
		t.Fatalf("Iter allocated %.1f times per walk", a)
	}
	if n == 0 {
		t.Fatal("Iter yielded nothing")
	}
}

func TestIterKeyBeforeNext(t *testing.T) {
	it := From(With(context.Background(), "a", "1")).Iter()
	if it.Key() != "" || it.Value() != "" {
		t.Fatalf("before Next: %q=%q", it.Key(), it.Value())
	}
	var zero Iter
	if zero.Key() != "" || zero.Value() != "" {
		t.Fatal("the zero Iter has a current entry")
	}
}
