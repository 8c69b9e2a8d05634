package propagation_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestUnreadBaggageCounted: baggage entries that are not read at all (past the first 8192 bytes of an
// sftc_head or baggage header, or B3 baggage headers past the first 4*MaxBaggageEntries) are counted
// in Stats.BaggageRefused as the refused ones are, so an operator watching the stats sees them. They
// stand in the error tree as one *trace.BaggageError whose Count is their number, so a hostile header
// cannot make the tree, and every errors.Is or errors.As walk over it, grow with it.
func TestUnreadBaggageCounted(t *testing.T) {
	members := func(sep string, from, n int) string {
		var b strings.Builder
		for i := from; i < from+n; i++ {
			fmt.Fprintf(&b, "k%05d=v%s", i, sep)
		}
		return b.String()
	}
	const entry = len("k00000=v&") // 9 bytes a member, separator included
	headPrefix := "tcid=" + sofaTrace + "&spid=0.1&pspid=0&sample=true&"
	b3 := http.Header{"X-B3-Traceid": {sofaTrace}, "X-B3-Spanid": {"0.1"}}
	for i := 0; i < 4*trace.MaxBaggageEntries+40; i++ {
		b3.Set(fmt.Sprintf("baggage-k%05d", i), "v")
	}
	tp := "00-" + w3cTrace + "-" + w3cSpan + "-01"
	cases := []struct {
		name       string
		p          propagation.Propagator
		h          http.Header
		unread     int // want de.Unread
		counted    int // want unread entries counted in Stats (= unread)
		reason     string
		size       int
		sentinelIs error
	}{
		{"sftc_head", propagation.SofaHead(), http.Header{"Sftc_head": {headPrefix + members("&", 0, 1000)}},
			1000 - (8192-len(headPrefix))/entry, 1000 - (8192-len(headPrefix))/entry, "size", len(headPrefix) + 1000*entry,
			propagation.ErrBaggageTooLarge},
		{"w3c", propagation.W3C(), http.Header{"Traceparent": {tp}, "Baggage": {members(",", 0, 1000)}},
			1000 - 8192/entry, 1000 - 8192/entry, "size", 1000 * entry, propagation.ErrBaggageTooLarge},
		{"b3 headers", propagation.B3(), b3, 40, 40, "entries", 0, propagation.ErrTooManyBaggage},
		{"w3c past the cap", propagation.W3C(), http.Header{"Traceparent": {tp}, "Baggage": {members(",", 0, 6000)}},
			6000 - 8192/entry, 6000 - 8192/entry, "size", 6000 * entry, propagation.ErrBaggageTooLarge},
	}
	for _, c := range cases {
		_, sc, err := c.p.Extract(context.Background(), propagation.HeaderCarrier(c.h))
		var de *propagation.BaggageDropError
		if !sc.IsValid() || !errors.As(err, &de) || !errors.Is(err, c.sentinelIs) {
			t.Fatalf("%s: valid %v err %v", c.name, sc.IsValid(), err)
		}
		if de.Unread != c.unread {
			t.Errorf("%s: Unread %d, want %d", c.name, de.Unread, c.unread)
		}
		// The unread entries stand in the tree as one *trace.BaggageError without a key.
		n, holders := 0, 0
		tree := de.Unwrap()
		for _, e := range tree {
			var be *trace.BaggageError
			if errors.As(e, &be) && be.Key == "" {
				n += be.Count
				holders++
				if be.Reason != c.reason || be.Size != c.size || be.Sys {
					t.Fatalf("%s: unread entries as %+v", c.name, *be)
				}
			}
		}
		if n != c.counted || holders != 1 {
			t.Errorf("%s: %d unread entries in %d errors of the tree, want %d in 1", c.name, n, holders, c.counted)
		}
		if len(tree) > 6+len(de.Refused) {
			t.Errorf("%s: the error tree has %d errors for %d refused entries", c.name, len(tree), len(de.Refused))
		}
		tr := trace.New("go", trace.WithoutMDC())
		tr.ReportError(err)
		if st := tr.Stats(); st.BaggageRefused != uint64(len(de.Refused)+c.counted) || st.Errors != 1 {
			t.Errorf("%s: stats %+v, want BaggageRefused %d (refused %d + unread %d), Errors 1",
				c.name, st, len(de.Refused)+c.counted, len(de.Refused), c.counted)
		}
	}
}
