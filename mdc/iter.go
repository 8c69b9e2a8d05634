package mdc

// Iter walks a Map without a callback, for code on a hot path where a function literal per entry
// costs more than the work it does (the logging adapters):
//
//	for it := mdc.From(ctx).Iter(); it.Next(); {
//		use(it.Key(), it.Value())
//	}
//
// It yields what Map.All yields, in the same order, and does not allocate. The zero Iter yields
// nothing. An Iter is a value for one goroutine; the Map it came from may be shared.
type Iter struct {
	n          *node
	own        []entry // the context's own entries
	i          int     // the next of own to visit
	scope      []Pair  // the scope's pairs not yet visited, once own is done
	inScope    bool
	key, value string
}

// Iter returns an iterator positioned before the first entry of m.
func (m Map) Iter() Iter {
	if m.n == nil {
		return Iter{}
	}
	return Iter{n: m.n, own: m.n.pairs}
}

// Next advances to the next entry and reports whether there is one.
func (it *Iter) Next() bool {
	for it.i < len(it.own) {
		e := &it.own[it.i]
		it.i++
		if !e.gone() {
			it.key, it.value = e.Key, e.Value
			return true
		}
	}
	if it.n == nil || it.n.scope == nil {
		return false
	}
	if !it.inScope {
		it.inScope = true
		it.scope = it.n.scope.load()
	}
	for len(it.scope) > 0 {
		p := it.scope[0]
		it.scope = it.scope[1:]
		if it.n.index(p.Key) < 0 {
			it.key, it.value = p.Key, p.Value
			return true
		}
	}
	return false
}

// Key returns the key of the current entry.
func (it *Iter) Key() string { return it.key }

// Value returns the value of the current entry.
func (it *Iter) Value() string { return it.value }
