package mdc

import (
	"context"
	"sync/atomic"
	"unsafe"
)

// frameEntries is the number of MDC entries a Frame holds without allocating: a span's trace and
// span ids plus one key of the caller's.
const frameEntries = 3

// Frame is room for one derived MDC context, meant to be embedded in a value that is allocated
// anyway (the tracer embeds one in each span), so that deriving that context allocates nothing of
// its own. It holds up to three entries (the MDC of the parent included). The zero Frame is ready
// to use; it must not be copied once With has been called.
//
// A Frame is single use: the first With stores the derived context in the frame, and the frame is
// never written again, so that context stays immutable like any other. Later calls, and a call
// whose MDC would have more entries than fit in the frame, allocate as WithPairs does. With is
// safe for concurrent use.
//
//	type request struct {
//		mdc mdc.Frame
//		// ...
//	}
//	ctx = r.mdc.With(ctx, mdc.Pair{Key: "userId", Value: "42"})
type Frame struct {
	nd   node
	arr  [frameEntries]entry
	used atomic.Bool
}

// With returns a context whose MDC is the MDC of parent with pairs set, exactly as
// WithPairs(parent, pairs...) does, stored in the frame when it is unused and the entries fit.
// A nil parent is treated as context.Background(); without pairs, parent is returned as is. A nil
// *Frame is a frame already used.
func (f *Frame) With(parent context.Context, pairs ...Pair) context.Context {
	parent = background(parent)
	if len(pairs) == 0 {
		return parent
	}
	on := lookup(parent)
	old, scope := on.parts()
	if f == nil || len(old) > len(f.arr) || !f.used.CompareAndSwap(false, true) {
		return WithPairs(parent, pairs...)
	}
	// The frame is this call's own from here on; if the entries turn out not to fit, it is left
	// unused (and never published) and the context is allocated instead.
	nd := &f.nd
	if k := len(old) - len(pairs); k >= 0 {
		// The usual case for a span's MDC: the pairs set the parent's last keys, in their order
		// (the keys the tracer wrote for the parent span), none of them a tombstone. Each entry is
		// written once. Keys of a node are distinct and never empty, so the pairs' are too.
		j := 0
		for ; j < len(pairs); j++ {
			e := &old[k+j]
			if !sameString(e.Key, pairs[j].Key) || e.gone() {
				break // not the usual case: the loop below writes every entry again
			}
			f.arr[k+j] = entry{Key: e.Key, Value: pairs[j].Value}
		}
		if j == len(pairs) {
			for i := range old[:k] {
				f.arr[i] = old[i]
			}
			nd.pairs = f.arr[:len(old):len(f.arr)]
			nd.live = on.live
			nd.Context = parent
			nd.scope = scope
			return nd
		}
	}
	//lint:ignore S1001 for at most three entries a loop is cheaper than copy's call (and, during a GC, its bulk write barrier)
	for i := range old {
		f.arr[i] = old[i]
	}
	nd.pairs = f.arr[:len(old):len(f.arr)]
	if on != nil {
		nd.live = on.live
	}
	for j := range pairs {
		p := &pairs[j]
		if p.Key == "" {
			continue
		}
		if i := indexOf(nd.pairs, p.Key); i >= 0 {
			e := &nd.pairs[i]
			if e.gone() {
				nd.live++
			} else if sameString(e.Value, p.Value) {
				continue // already set: spare the write
			}
			e.Value = p.Value
		} else if len(nd.pairs) < cap(nd.pairs) {
			nd.pairs = append(nd.pairs, entry(*p))
			nd.live++
		} else {
			nd.pairs, nd.live = nil, 0
			return WithPairs(parent, pairs...)
		}
	}
	nd.Context = parent
	nd.scope = scope
	return nd
}

// indexOf returns the index of key in es, or -1. Keys are compared by their bytes only when they do
// not share them: the well-known keys (KeyTraceID, ...) the tracer writes for a span and finds again
// in its parent's MDC are the same strings.
func indexOf(es []entry, key string) int {
	for i := range es {
		if sameString(es[i].Key, key) {
			return i
		}
	}
	return -1
}

// sameString reports whether a == b, without comparing bytes when both share them.
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}
