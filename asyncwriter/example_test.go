package asyncwriter_test

import (
	"fmt"
	"os"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
)

func ExampleWriter() {
	w, err := asyncwriter.NewWriter(os.Stdout)
	if err != nil {
		panic(err)
	}
	for i := 1; i <= 3; i++ {
		fmt.Fprintf(w, "line %d\n", i)
	}
	_ = w.Close() // drains: every accepted line is written
	st := w.Stats()
	fmt.Println("accepted", st.Accepted, "written", st.Written)
	// Output:
	// line 1
	// line 2
	// line 3
	// accepted 3 written 3
}

type event struct {
	traceID string
	cost    int
}

func ExampleRing() {
	total := 0
	r, err := asyncwriter.NewRing[event](asyncwriter.HandlerFunc[event](func(ev *event, seq int64, endOfBatch bool) {
		total += ev.cost // runs on the consumer goroutine
	}), asyncwriter.WithCapacity(8))
	if err != nil {
		panic(err)
	}
	for i := 1; i <= 10; i++ {
		_ = r.Publish(func(ev *event) {
			ev.traceID = "0ad1348f1403169275002100356696"
			ev.cost = i
		})
	}
	_ = r.Close()
	fmt.Println("total cost", total, "handled", r.Stats().Written)
	// Output:
	// total cost 55 handled 10
}

func ExampleWithDiscardFunc() {
	block := make(chan struct{})
	r, err := asyncwriter.NewRing[event](asyncwriter.HandlerFunc[event](func(*event, int64, bool) { <-block }),
		asyncwriter.WithCapacity(1),
		asyncwriter.WithPolicy(asyncwriter.Discard),
		asyncwriter.WithReportInterval(time.Hour), // at most one report per hour, plus one at Close
		asyncwriter.WithDiscardFunc(func(dropped *event, total uint64) {
			if dropped != nil {
				fmt.Println("dropped trace", dropped.traceID, "total", total)
			} else {
				fmt.Println("at close: total dropped", total)
			}
		}))
	if err != nil {
		panic(err)
	}
	// "a" takes the only slot, which stays taken while the handler blocks: "b" and "c" are refused.
	for _, id := range []string{"a", "b", "c"} {
		err := r.Publish(func(ev *event) { ev.traceID = id })
		fmt.Println(id, err)
	}
	close(block)
	_ = r.Close()
	// Output:
	// a <nil>
	// dropped trace b total 1
	// b asyncwriter: ring full, item discarded
	// c asyncwriter: ring full, item discarded
	// at close: total dropped 2
}
