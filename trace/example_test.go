package trace_test

import (
	"context"
	"fmt"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/trace"
)

// printer is a Reporter that prints what a digest line would hold.
type printer struct{}

func (printer) Report(s *trace.FinishedSpan) {
	fmt.Printf("finished %s span %s (parent %q) kind=%s type=%s result=%s sampled=%v tags:",
		s.Operation(), s.SpanID(), s.ParentID(), s.Kind(), s.LogType(), s.ResultCode(), s.Sampled())
	for t := range s.Tags {
		fmt.Printf(" %s=%s", t.Key, t.Value)
	}
	fmt.Println()
}

func Example() {
	tracer := trace.New("shop", trace.WithReporter(printer{}))

	ctx, span := tracer.Start(context.Background(), "checkout", trace.WithKind(trace.KindServer), trace.WithLogType("http-server"))
	spanID, _ := mdc.Get(ctx, mdc.KeySpanID)
	fmt.Println("log lines under ctx show spanId", spanID)

	cctx, child := tracer.Start(ctx, "charge", trace.WithKind(trace.KindClient), trace.WithTag("method", "POST"))
	spanID, _ = mdc.Get(cctx, mdc.KeySpanID)
	fmt.Println("log lines under the child's ctx show spanId", spanID)
	child.SetResultCode("200")
	child.Finish()

	spanID, _ = mdc.Get(ctx, mdc.KeySpanID)
	fmt.Println("back in the parent: spanId", spanID)
	span.SetResultCode("200")
	span.Finish()
	// Output:
	// log lines under ctx show spanId 0
	// log lines under the child's ctx show spanId 0.1
	// finished charge span 0.1 (parent "0") kind=client type= result=200 sampled=true tags: method=POST
	// back in the parent: spanId 0
	// finished checkout span 0 (parent "") kind=server type=http-server result=200 sampled=true tags:
}

// A server span from an inbound request whose span id is 0.1: HTTP makes it a child, SOFARPC keeps
// the id.
func ExampleWithRemoteParent() {
	remote, err := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: "0ad1348f1403169275002100356696", SpanID: "0.1", ParentID: "0", Sampled: true,
		Biz: []trace.Pair{{Key: "mark", Value: "T"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	tracer := trace.New("orders", trace.WithoutMDC())

	_, http := tracer.Start(context.Background(), "GET /orders", trace.WithKind(trace.KindServer), trace.WithRemoteParent(remote))
	_, rpc := tracer.Start(context.Background(), "OrderService.get", trace.WithKind(trace.KindServer),
		trace.WithRemoteParent(remote), trace.WithServerSpanMode(trace.ServerSpanKeep))
	fmt.Println("http:", http.TraceID(), http.SpanID(), http.ParentID(), "load test:", http.IsLoadTest())
	fmt.Println("rpc: ", rpc.TraceID(), rpc.SpanID(), rpc.ParentID())
	// Output:
	// http: 0ad1348f1403169275002100356696 0.1.1 0.1 load test: true
	// rpc:  0ad1348f1403169275002100356696 0.1 0
}

func ExampleNewSpanContext() {
	_, err := trace.NewSpanContext(trace.SpanContextConfig{TraceID: "abc\n", SpanID: "0"})
	fmt.Println(err)

	big := make([]byte, 2000)
	for i := range big {
		big[i] = 'x'
	}
	sc, err := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: "abc", SpanID: "0",
		Biz: []trace.Pair{{Key: "user", Value: "u1"}, {Key: "blob", Value: string(big)}},
	})
	fmt.Println(sc.IsValid(), sc.BizBaggage().Len(), err)
	// Output:
	// trace: invalid traceId "abc\n": bad character
	// true 1 trace: biz baggage entry "blob" refused: size 2010 over limit 1024
}

func ExamplePercentageSampler() {
	s := trace.PercentageSampler(25)
	id := "0ad1348f1403169275002100356696"
	first := s.ShouldSample(trace.SamplingParameters{TraceID: id})
	// Every process, with the same percentage, decides the same for the same trace id.
	again := trace.PercentageSampler(25).ShouldSample(trace.SamplingParameters{TraceID: id})
	fmt.Println(first == again, first == (trace.TraceIDHash(id) < 1<<62))
	// Output:
	// true true
}

func ExampleSpan_SetBaggageItem() {
	tracer := trace.New("shop", trace.WithoutMDC(), trace.WithBaggageLimits(16, 0))
	ctx, span := tracer.Start(context.Background(), "op")
	span.SetBaggageItem("user", "u1")
	span.SetBaggageItem("comment", "far too long for the limit") // refused whole, counted
	_, child := tracer.Start(ctx, "child")
	fmt.Printf("child sees user=%q comment=%q; refused: %d\n", child.BaggageItem("user"), child.BaggageItem("comment"), tracer.Stats().BaggageRefused)
	// Output:
	// child sees user="u1" comment=""; refused: 1
}

func ExampleIsLoadTest() {
	tracer := trace.New("shop")
	ctx, span := tracer.Start(context.Background(), "op", trace.WithLoadTest())
	defer span.Finish()
	mark, _ := mdc.Get(ctx, mdc.KeyLoadTest)
	fmt.Println(trace.IsLoadTest(ctx), mark)
	// Output:
	// true T
}

// Biz baggage into the MDC: baggage entries and MDC entries are the same Pair type, so a span's
// baggage can be logged with every line of the request.
func ExampleBaggage_Pairs() {
	sc, err := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: "0ad1348f1403169275002100356696", SpanID: "0", Sampled: true,
		Biz: []trace.Pair{{Key: "tenant", Value: "t1"}, {Key: "mark", Value: "T"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := mdc.WithPairs(context.Background(), sc.BizBaggage().Pairs(nil)...)
	for k, v := range mdc.From(ctx).All() {
		fmt.Println(k, v)
	}
	// Output:
	// tenant t1
	// mark T
}
