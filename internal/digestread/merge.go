package digestread

import (
	"container/heap"
	"iter"
)

// MergeByTime merges streams of records, each in time order, into one stream in time order (by
// Record.Time, the span end), the way `sort -m` merges sorted files: it holds one record per stream,
// so memory does not grow with the length of the streams. Records of the same time come in the order
// of the streams (put rolled backups before the file they were rolled from), and the records of one
// stream always keep their own order, even where that stream is not in time order.
//
// Each stream is read through iter.Pull: all of them are open at once while the merge runs, and all
// are stopped when the merge ends or its consumer stops early.
func MergeByTime(streams ...iter.Seq[*Record]) iter.Seq[*Record] {
	return func(yield func(*Record) bool) {
		h := &mergeHeap{}
		for i, s := range streams {
			next, stop := iter.Pull(s)
			defer stop()
			if r, ok := next(); ok {
				h.heads = append(h.heads, mergeHead{r: r, i: i, next: next})
			}
		}
		heap.Init(h)
		for len(h.heads) > 0 {
			top := &h.heads[0]
			if !yield(top.r) {
				return
			}
			if r, ok := top.next(); ok {
				top.r = r
				heap.Fix(h, 0)
			} else {
				heap.Pop(h)
			}
		}
	}
}

type mergeHead struct {
	r    *Record
	i    int // index of the stream: the order of records of the same time
	next func() (*Record, bool)
}

type mergeHeap struct{ heads []mergeHead }

func (h *mergeHeap) Len() int { return len(h.heads) }
func (h *mergeHeap) Less(a, b int) bool {
	if c := h.heads[a].r.Time.Compare(h.heads[b].r.Time); c != 0 {
		return c < 0
	}
	return h.heads[a].i < h.heads[b].i
}
func (h *mergeHeap) Swap(a, b int) { h.heads[a], h.heads[b] = h.heads[b], h.heads[a] }
func (h *mergeHeap) Push(x any)    { h.heads = append(h.heads, x.(mergeHead)) }
func (h *mergeHeap) Pop() any {
	last := h.heads[len(h.heads)-1]
	h.heads = h.heads[:len(h.heads)-1]
	return last
}
