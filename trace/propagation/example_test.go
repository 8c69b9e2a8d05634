package propagation_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// Extract a SOFATracer caller's context from request headers and continue its trace.
func Example() {
	h := http.Header{}
	h.Set("X-B3-TraceId", "0ad1348f1403169275002100356696")
	h.Set("X-B3-SpanId", "0.1")
	h.Set("baggage-mark", "T")

	p := propagation.Default()
	ctx, remote, err := p.Extract(context.Background(), propagation.HeaderCarrier(h))
	if err != nil {
		fmt.Println("rejected:", err) // count it (tracer.ReportError) and start a new root
	}
	tracer := trace.New("shop")
	_, span := tracer.Start(ctx, "GET /pay", trace.WithKind(trace.KindServer), trace.WithRemoteParent(remote))
	defer span.Finish()
	fmt.Println(span.TraceID(), span.SpanID(), span.ParentID(), span.IsLoadTest())
	// Output: 0ad1348f1403169275002100356696 0.1.1 0.1 true
}

func ExampleSofaHead() {
	sc, _ := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: "0ad1348f1403169275002100356696", SpanID: "0.1", ParentID: "0", Sampled: true,
		Biz: []trace.Pair{{Key: "mark", Value: "T"}, {Key: "q", Value: "a&b=c"}},
	})
	m := propagation.MapCarrier{}
	_ = propagation.SofaHead().Inject(context.Background(), sc, m)
	fmt.Println(m["sftc_head"])
	// Output: tcid=0ad1348f1403169275002100356696&spid=0.1&pspid=0&sample=true&mark=T&q=a%26b%3Dc&
}

func ExampleEscapeSOFA() {
	fmt.Println(propagation.EscapeSOFA("100%&a=b"))
	fmt.Println(propagation.UnescapeSOFA("100%25%26a%3Db"))
	// Output:
	// 100%25%26a%3Db
	// 100%&a=b
}
