package mdc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func pairsOf(ctx context.Context) []Pair { return From(ctx).Pairs(nil) }

func eq(t *testing.T, got []Pair, want ...Pair) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestWithGetOrder(t *testing.T) {
	ctx := With(context.Background(), "a", "1")
	ctx = With(ctx, "b", "2")
	ctx = With(ctx, "c", "3")
	ctx = With(ctx, "a", "9") // replace keeps position
	eq(t, pairsOf(ctx), Pair{"a", "9"}, Pair{"b", "2"}, Pair{"c", "3"})
	if v, ok := Get(ctx, "b"); !ok || v != "2" {
		t.Fatalf("Get b = %q %v", v, ok)
	}
	if _, ok := Get(ctx, "zz"); ok {
		t.Fatal("Get of a missing key reported ok")
	}
	if From(ctx).Len() != 3 {
		t.Fatalf("Len = %d", From(ctx).Len())
	}
}

func TestImmutableParent(t *testing.T) {
	parent := With(context.Background(), KeyTraceID, "t1")
	parent = With(parent, KeySpanID, "0")
	child := With(parent, KeySpanID, "0.1")
	child = With(child, "extra", "x")
	eq(t, pairsOf(parent), Pair{KeyTraceID, "t1"}, Pair{KeySpanID, "0"})
	eq(t, pairsOf(child), Pair{KeyTraceID, "t1"}, Pair{KeySpanID, "0.1"}, Pair{"extra", "x"})
}

func TestSameValueReturnsSameContext(t *testing.T) {
	ctx := With(context.Background(), "a", "1")
	if With(ctx, "a", "1") != ctx {
		t.Fatal("setting an identical value derived a new context")
	}
}

func TestNilContextAndEmptyKey(t *testing.T) {
	//lint:ignore SA1012 a nil ctx is documented as accepted
	ctx := With(nil, "a", "1") //nolint:staticcheck
	if v, _ := Get(ctx, "a"); v != "1" {
		t.Fatal("With(nil) lost the value")
	}
	//lint:ignore SA1012 documented
	if _, ok := Get(nil, "a"); ok { //nolint:staticcheck
		t.Fatal("nil ctx has values")
	}
	//lint:ignore SA1012 documented
	if From(nil).Len() != 0 || len(From(nil).Pairs(nil)) != 0 { //nolint:staticcheck
		t.Fatal("nil ctx map not empty")
	}
	//lint:ignore SA1012 documented
	for _, c := range []context.Context{With(nil, "", "x"), WithPairs(nil), Without(nil, "a"), WithScope(nil), Detach(nil)} { //nolint:staticcheck
		if c == nil {
			t.Fatal("nil ctx in, nil ctx out")
		}
	}
	if With(ctx, "", "v") != ctx {
		t.Fatal("an empty key changed the context")
	}
	//lint:ignore SA1012 documented
	if Set(nil, "a", "b") { //nolint:staticcheck
		t.Fatal("Set on nil ctx reported a scope")
	}
}

func TestHugeAndInvalidValuesStoredAsIs(t *testing.T) {
	huge := strings.Repeat("x", 1<<20)
	bad := "a\xffb\n\"q\""
	ctx := WithPairs(context.Background(), Pair{"h", huge}, Pair{"bad", bad}, Pair{"", "ignored"})
	if v, _ := Get(ctx, "h"); v != huge {
		t.Fatal("huge value changed")
	}
	if v, _ := Get(ctx, "bad"); v != bad {
		t.Fatal("invalid UTF-8 value changed")
	}
	if From(ctx).Len() != 2 {
		t.Fatalf("empty key stored: %v", pairsOf(ctx))
	}
}

func TestWithPairs(t *testing.T) {
	ctx := With(context.Background(), "a", "1")
	ctx = WithPairs(ctx, Pair{"b", "2"}, Pair{"a", "3"}, Pair{"b", "4"})
	eq(t, pairsOf(ctx), Pair{"a", "3"}, Pair{"b", "4"})
	// Many pairs: past the inline sizes.
	var ps []Pair
	for i := 0; i < 20; i++ {
		ps = append(ps, Pair{fmt.Sprint("k", i), fmt.Sprint(i)})
	}
	big := WithPairs(ctx, ps...)
	if From(big).Len() != 22 {
		t.Fatalf("Len = %d", From(big).Len())
	}
	big = With(big, "k19", "x")
	if v, _ := Get(big, "k19"); v != "x" {
		t.Fatal("replace in a large map failed")
	}
}

func TestWithout(t *testing.T) {
	ctx := WithPairs(context.Background(), Pair{"a", "1"}, Pair{"b", "2"}, Pair{"c", "3"})
	w := Without(ctx, "b")
	eq(t, pairsOf(w), Pair{"a", "1"}, Pair{"c", "3"})
	eq(t, pairsOf(ctx), Pair{"a", "1"}, Pair{"b", "2"}, Pair{"c", "3"})
	if Without(w, "b") != w || Without(w, "") != w || Without(context.Background(), "a") == nil {
		t.Fatal("no-op Without derived a context")
	}
	again := With(w, "b", "5")
	eq(t, pairsOf(again), Pair{"a", "1"}, Pair{"c", "3"}, Pair{"b", "5"})
}

func TestWithoutMasksScope(t *testing.T) {
	ctx := WithScope(With(context.Background(), "a", "1"))
	Set(ctx, "user", "u1")
	w := Without(ctx, "user")
	if _, ok := Get(w, "user"); ok {
		t.Fatal("Without did not hide the scope value")
	}
	Set(ctx, "user", "u2")
	if _, ok := Get(w, "user"); ok {
		t.Fatal("a later Set showed through the tombstone")
	}
	if v, _ := Get(ctx, "user"); v != "u2" {
		t.Fatal("the original context lost the scope value")
	}
	eq(t, pairsOf(w), Pair{"a", "1"})
	if From(w).Len() != 1 {
		t.Fatalf("Len counts the tombstone: %d", From(w).Len())
	}
	w2 := Without(w, "a")
	eq(t, pairsOf(w2))
	back := With(w2, "user", "mine")
	if v, _ := Get(back, "user"); v != "mine" {
		t.Fatal("With after Without did not set the key")
	}
}

func TestScope(t *testing.T) {
	base := With(context.Background(), KeyTraceID, "t")
	if Set(base, "x", "y") {
		t.Fatal("Set without a scope reported true")
	}
	req := WithScope(base)
	deeper := With(req, KeySpanID, "0.1") // derived before the Set
	if !Set(deeper, "user", "alice") {
		t.Fatal("Set with a scope reported false")
	}
	eq(t, pairsOf(req), Pair{KeyTraceID, "t"}, Pair{"user", "alice"})
	eq(t, pairsOf(deeper), Pair{KeyTraceID, "t"}, Pair{KeySpanID, "0.1"}, Pair{"user", "alice"})
	// Own pairs win over the scope, and the scope value is not repeated.
	own := With(deeper, "user", "bob")
	eq(t, pairsOf(own), Pair{KeyTraceID, "t"}, Pair{KeySpanID, "0.1"}, Pair{"user", "bob"})
	if From(own).Len() != 3 {
		t.Fatalf("Len = %d", From(own).Len())
	}
	// Nested scope shadows.
	inner := WithScope(deeper)
	Set(inner, "user", "carol")
	if v, _ := Get(inner, "user"); v != "carol" {
		t.Fatal("inner scope not used")
	}
	if v, _ := Get(deeper, "user"); v != "alice" {
		t.Fatal("inner Set leaked into the outer scope")
	}
	ScopeFrom(req).Delete("user")
	if _, ok := Get(deeper, "user"); ok {
		t.Fatal("Delete kept the value")
	}
	if Set(req, "", "v") {
		t.Fatal("empty key reported written")
	}
}

func TestScopeConcurrent(t *testing.T) {
	ctx := WithScope(context.Background())
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				Set(ctx, fmt.Sprint("g", g), fmt.Sprint(i))
				From(ctx).Range(func(k, v string) bool { return k != "" && v != "" })
				_ = From(ctx).Len()
			}
		}(g)
	}
	wg.Wait()
	if From(ctx).Len() != 4 {
		t.Fatalf("Len = %d", From(ctx).Len())
	}
	for g := 0; g < 4; g++ {
		if v, _ := Get(ctx, fmt.Sprint("g", g)); v != "499" {
			t.Fatalf("g%d = %q", g, v)
		}
	}
}

func TestAllStopsEarly(t *testing.T) {
	ctx := WithScope(WithPairs(context.Background(), Pair{"a", "1"}, Pair{"b", "2"}))
	Set(ctx, "c", "3")
	n := 0
	for range From(ctx).All() {
		n++
		if n == 1 {
			break
		}
	}
	if n != 1 {
		t.Fatal("break ignored")
	}
	n = 0
	From(ctx).Range(func(k, _ string) bool { n++; return k != "c" })
	if n != 3 {
		t.Fatalf("visited %d", n)
	}
}

func TestDetach(t *testing.T) {
	parent, cancel := context.WithCancel(With(context.Background(), "a", "1"))
	d := Detach(parent)
	cancel()
	if d.Err() != nil {
		t.Fatal("detached ctx canceled")
	}
	if v, _ := Get(d, "a"); v != "1" {
		t.Fatal("detached ctx lost the MDC")
	}
}

func TestValueThroughOtherContexts(t *testing.T) {
	type k struct{}
	ctx := With(context.Background(), "a", "1")
	ctx = context.WithValue(ctx, k{}, "v")
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx = With(ctx, "b", "2")
	eq(t, pairsOf(ctx), Pair{"a", "1"}, Pair{"b", "2"})
	if ctx.Value(k{}) != "v" {
		t.Fatal("other values hidden")
	}
	if fmt.Sprint(ctx) == "" {
		t.Fatal("no String")
	}
}

func TestAllocs(t *testing.T) {
	ctx := WithPairs(context.Background(), Pair{KeyTraceID, "t"}, Pair{KeySpanID, "0"})
	if a := testing.AllocsPerRun(100, func() { _ = With(ctx, "k", "v") }); a > 1 {
		t.Fatalf("With allocs = %v, want <= 1", a)
	}
	n := NewNaming(PresetSOFA)
	if a := testing.AllocsPerRun(100, func() {
		n.Range(From(ctx), func(f, v string) bool { return true })
	}); a != 0 {
		t.Fatalf("From+Range allocs = %v", a)
	}
}

func BenchmarkWith(b *testing.B) {
	ctx := WithPairs(context.Background(), Pair{KeyTraceID, "0ad1348f1403169275002100356696"}, Pair{KeySpanID, "0.1"})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = With(ctx, "user", "alice")
	}
}

func BenchmarkFrom(b *testing.B) {
	ctx := WithPairs(context.Background(), Pair{KeyTraceID, "0ad1348f1403169275002100356696"}, Pair{KeySpanID, "0.1"})
	ctx, cancel := context.WithCancel(ctx) // one unrelated layer, as in a request
	defer cancel()
	b.ReportAllocs()
	n := 0
	for i := 0; i < b.N; i++ {
		From(ctx).Range(func(k, v string) bool { n += len(v); return true })
	}
	_ = n
}

// TestTombstoneValueNotHandedOut: Get on a key hidden by Without returns "", so a caller that copies
// the value it got into another key cannot make that key look removed.
func TestTombstoneValueNotHandedOut(t *testing.T) {
	ctx := WithScope(With(context.Background(), "a", "1"))
	hidden := Without(ctx, "a")
	v, ok := Get(hidden, "a")
	if ok || v != "" {
		t.Fatalf("Get of a removed key = %q, %v", v, ok)
	}
	copied := With(hidden, "b", v+"-") // any value built from what Get returned
	copied = With(copied, "c", v)
	if got, ok := Get(copied, "b"); !ok || got != "-" {
		t.Fatalf("b = %q, %v", got, ok)
	}
	if _, ok := Get(copied, "c"); !ok {
		t.Fatal("an empty value copied from a removed key was taken for a tombstone")
	}
}

// TestPairs: Pairs yields what All yields, in the same order (tombstones left out, scope values
// after the context's own pairs, a scope value shadowed by an own pair left out), appends to dst,
// and allocates nothing when dst has room.
func TestPairs(t *testing.T) {
	ctx := WithScope(WithPairs(context.Background(), Pair{"a", "1"}, Pair{"b", "2"}))
	Set(ctx, "s1", "x")
	Set(ctx, "a", "scope-a") // shadowed by the own pair
	Set(ctx, "s2", "y")
	ctx = Without(With(ctx, "c", "3"), "b")
	m := From(ctx)
	var all []Pair
	for k, v := range m.All() {
		all = append(all, Pair{k, v})
	}
	eq(t, all, Pair{"a", "1"}, Pair{"c", "3"}, Pair{"s1", "x"}, Pair{"s2", "y"})
	eq(t, m.Pairs([]Pair{{"pre", "0"}}), append([]Pair{{"pre", "0"}}, all...)...)
	if m.Len() != len(all) {
		t.Fatalf("Len = %d, want %d", m.Len(), len(all))
	}
	var buf [8]Pair
	if a := testing.AllocsPerRun(100, func() { _ = m.Pairs(buf[:0]) }); a != 0 {
		t.Fatalf("Pairs into an array with room: %v allocs", a)
	}
	eq(t, Map{}.Pairs(nil))
}
