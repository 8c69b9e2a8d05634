package trace

import (
	"iter"

	"github.com/tracemdc/tracemdc/mdc"
)

// Baggage limits.
const (
	// DefaultBaggageLimit is the default size limit, in bytes, of the biz baggage and, separately, of
	// the sys baggage of a span: the sum of len(key)+len(value) over its entries (for ASCII text,
	// the 1024 characters SOFATracer declares).
	DefaultBaggageLimit = 1024
	// MaxBaggageEntries is the most entries a biz or a sys baggage holds.
	MaxBaggageEntries = 64
	// BaggageKeyLoadTest is the biz baggage key of the load-test (pressure test) mark; the value
	// "T" marks a load-test request.
	BaggageKeyLoadTest = "mark"
)

// Pair is one key/value entry of a baggage. It is mdc.Pair, the one key/value type of the module, so
// baggage entries can be put into the MDC as they are: mdc.WithPairs(ctx, b.Pairs(nil)...).
type Pair = mdc.Pair

// Baggage is an immutable, ordered set of key/value entries carried by a span context from span to
// span and across processes: the biz baggage (the application's own items, such as the load-test
// mark) or the sys baggage (the middleware's). The zero Baggage is empty. Entries keep the order in
// which they were first set.
type Baggage struct {
	b *bag
}

// bag is never modified once published: a change makes a new bag.
type bag struct {
	items []Pair
	size  int
}

// Get returns the value of key.
func (b Baggage) Get(key string) (string, bool) {
	if b.b == nil {
		return "", false
	}
	for _, it := range b.b.items {
		if it.Key == key {
			return it.Value, true
		}
	}
	return "", false
}

// Len returns the number of entries.
func (b Baggage) Len() int {
	if b.b == nil {
		return 0
	}
	return len(b.b.items)
}

// Size returns the size counted against the limit: len(key)+len(value) summed over the entries.
func (b Baggage) Size() int {
	if b.b == nil {
		return 0
	}
	return b.b.size
}

// Range calls fn for every entry in order until fn returns false. It does not allocate; use it
// directly in a range loop: for k, v := range b.Range { ... }.
func (b Baggage) Range(fn func(key, value string) bool) {
	if b.b == nil {
		return
	}
	for _, it := range b.b.items {
		if !fn(it.Key, it.Value) {
			return
		}
	}
}

// All returns an iterator over the entries in order.
func (b Baggage) All() iter.Seq2[string, string] {
	return b.Range
}

// Pairs appends the entries, in order, to dst and returns it (mdc.Map.Pairs does the same for an
// MDC).
func (b Baggage) Pairs(dst []Pair) []Pair {
	if b.b == nil {
		return dst
	}
	return append(dst, b.b.items...)
}

// set returns the baggage with key set to value (an empty value deletes key), or a *BaggageError
// and the baggage unchanged when the entry does not fit. An empty key returns b unchanged.
func (b Baggage) set(key, value string, limit int, sys bool) (Baggage, *BaggageError) {
	if key == "" {
		return b, nil
	}
	var items []Pair
	size := 0
	if b.b != nil {
		items, size = b.b.items, b.b.size
	}
	idx := -1
	for i := range items {
		if items[i].Key == key {
			idx = i
			break
		}
	}
	if value == "" {
		if idx < 0 {
			return b, nil
		}
		n := make([]Pair, 0, len(items)-1)
		n = append(n, items[:idx]...)
		n = append(n, items[idx+1:]...)
		if len(n) == 0 {
			return Baggage{}, nil
		}
		return Baggage{&bag{items: n, size: size - len(key) - len(items[idx].Value)}}, nil
	}
	if idx >= 0 {
		if items[idx].Value == value {
			return b, nil
		}
		ns := size - len(items[idx].Value) + len(value)
		if ns > limit {
			return b, &BaggageError{Sys: sys, Key: cut(key), Size: ns, Limit: limit, Reason: "size"}
		}
		n := append([]Pair(nil), items...)
		n[idx].Value = value
		return Baggage{&bag{items: n, size: ns}}, nil
	}
	ns := size + len(key) + len(value)
	if ns > limit {
		return b, &BaggageError{Sys: sys, Key: cut(key), Size: ns, Limit: limit, Reason: "size"}
	}
	if len(items) >= MaxBaggageEntries {
		return b, &BaggageError{Sys: sys, Key: cut(key), Size: ns, Limit: limit, Reason: "entries"}
	}
	n := make([]Pair, len(items), len(items)+1)
	copy(n, items)
	n = append(n, Pair{Key: key, Value: value})
	return Baggage{&bag{items: n, size: ns}}, nil
}

// build makes a baggage from items in one pass: empty keys and values are skipped, a repeated key
// replaces the earlier value in place, and an entry that does not fit is refused (and returned as an
// error) while later ones may still fit.
func buildBaggage(items []Pair, limit int, sys bool) (Baggage, []error) {
	if len(items) == 0 {
		return Baggage{}, nil
	}
	var errs []error
	bg := &bag{items: make([]Pair, 0, min(len(items), MaxBaggageEntries))}
	for _, it := range items {
		if it.Key == "" || it.Value == "" {
			continue
		}
		idx := -1
		for i := range bg.items {
			if bg.items[i].Key == it.Key {
				idx = i
				break
			}
		}
		if idx >= 0 {
			ns := bg.size - len(bg.items[idx].Value) + len(it.Value)
			if ns > limit {
				errs = append(errs, &BaggageError{Sys: sys, Key: cut(it.Key), Size: ns, Limit: limit, Reason: "size"})
				continue
			}
			bg.items[idx].Value = it.Value
			bg.size = ns
			continue
		}
		ns := bg.size + len(it.Key) + len(it.Value)
		switch {
		case ns > limit:
			errs = append(errs, &BaggageError{Sys: sys, Key: cut(it.Key), Size: ns, Limit: limit, Reason: "size"})
		case len(bg.items) >= MaxBaggageEntries:
			errs = append(errs, &BaggageError{Sys: sys, Key: cut(it.Key), Size: ns, Limit: limit, Reason: "entries"})
		default:
			bg.items = append(bg.items, it)
			bg.size = ns
		}
	}
	if len(bg.items) == 0 {
		return Baggage{}, errs
	}
	return Baggage{bg}, errs
}
