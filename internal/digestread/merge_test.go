package digestread

import (
	"iter"
	"slices"
	"strconv"
	"testing"
	"time"
)

// stream yields a record per offset (milliseconds after a base time), named name.index, and counts
// what it handed out and whether it was stopped.
type stream struct {
	name    string
	ms      []int
	pulled  int
	stopped bool
}

var mergeBase = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func (s *stream) seq() iter.Seq[*Record] {
	return func(yield func(*Record) bool) {
		defer func() { s.stopped = true }()
		for i, ms := range s.ms {
			s.pulled++
			r := &Record{Time: mergeBase.Add(time.Duration(ms) * time.Millisecond), SpanID: s.name + "." + strconv.Itoa(i)}
			if !yield(r) {
				return
			}
		}
	}
}

func TestMergeByTime(t *testing.T) {
	backup := &stream{name: "backup", ms: []int{1, 5, 5}}
	live := &stream{name: "live", ms: []int{5, 6, 9}}
	other := &stream{name: "other", ms: []int{0, 7, 3, 8}} // 3 after 7: a stream slightly out of order
	empty := &stream{name: "empty"}
	var got []string
	for r := range MergeByTime(backup.seq(), live.seq(), empty.seq(), other.seq()) {
		got = append(got, r.SpanID)
	}
	want := []string{
		"other.0",                        // 0
		"backup.0",                       // 1
		"backup.1", "backup.2", "live.0", // 5: stream order, then each stream's own order
		"live.1",             // 6
		"other.1", "other.2", // 7, then 3: never taken before the 7 of its own stream
		"other.3", // 8
		"live.2",  // 9
	}
	if !slices.Equal(got, want) {
		t.Errorf("merged\n got %v\nwant %v", got, want)
	}
	for _, s := range []*stream{backup, live, other, empty} {
		if !s.stopped {
			t.Errorf("stream %s not finished", s.name)
		}
	}
	for range MergeByTime() {
		t.Error("merging no stream yielded a record")
	}
}

// TestMergeByTimeBounded: the merge reads each stream at most one record ahead of what it has
// yielded, so endless streams can be merged, and stopping early stops every stream.
func TestMergeByTimeBounded(t *testing.T) {
	endless := func(name string, step int) *stream {
		s := &stream{name: name}
		for i := range 1 << 20 {
			s.ms = append(s.ms, i*step)
		}
		return s
	}
	a, b := endless("a", 2), endless("b", 3)
	yielded := map[string]int{}
	n := 0
	for r := range MergeByTime(a.seq(), b.seq()) {
		yielded[r.SpanID[:1]]++
		for _, s := range []*stream{a, b} {
			if ahead := s.pulled - yielded[s.name]; ahead > 1 {
				t.Fatalf("stream %s read %d records ahead", s.name, ahead)
			}
		}
		if n++; n == 1000 {
			break
		}
	}
	if !a.stopped || !b.stopped {
		t.Errorf("streams not stopped after an early break: a %v, b %v", a.stopped, b.stopped)
	}
	if yielded["a"]+yielded["b"] != 1000 || yielded["a"] <= yielded["b"] {
		t.Errorf("yielded %v; want 1000 in all, more of the denser stream a", yielded)
	}
}
