package mdc

// Iter walks a Map without a callback, for code on a hot path where a function literal per entry
// costs more than the work it does (the logging adapters):
//
//	for it := mdc.From(ctx).Iter(); it.Next(); {
//		use(it.Key(), it.Value())
//	}
//
// It yields what Map.All yields, in the same order, and does not allocate. The zero Iter yields
// nothing. An Iter is a value for one goroutine; the Map it came from may be shared. It is kept to
// four words, as it is copied where it is made.
type Iter struct {
	n     *node   // nil once the walk is over
	cur   *entry  // the current entry; a scope pair is viewed as an entry (same layout)
	scope *[]Pair // the scope's pairs, loaded once the context's own entries are done
	i     int     // the next index into n.pairs, then into *scope
}

// Iter returns an iterator positioned before the first entry of m.
func (m Map) Iter() Iter {
	return Iter{n: m.n}
}

// Next advances to the next entry and reports whether there is one.
func (it *Iter) Next() bool {
	n := it.n
	if n == nil {
		return false
	}
	if it.scope == nil {
		for it.i < len(n.pairs) {
			e := &n.pairs[it.i]
			it.i++
			if !e.gone() {
				it.cur = e
				return true
			}
		}
		if n.scope != nil {
			it.scope = n.scope.pairs.Load()
		}
		if it.scope == nil {
			it.n = nil
			return false
		}
		it.i = 0
	}
	for it.i < len(*it.scope) {
		p := &(*it.scope)[it.i]
		it.i++
		if n.index(p.Key) < 0 {
			it.cur = (*entry)(p)
			return true
		}
	}
	it.n = nil
	return false
}

// Key returns the key of the entry Next moved to ("" before the first call).
func (it *Iter) Key() string {
	if it.cur == nil {
		return ""
	}
	return it.cur.Key
}

// Value returns the value of the entry Next moved to ("" before the first call).
func (it *Iter) Value() string {
	if it.cur == nil {
		return ""
	}
	return it.cur.Value
}
