package mdc_test

import (
	"context"
	"fmt"

	"github.com/tracemdc/tracemdc/mdc"
)

func ExampleWith() {
	ctx := mdc.With(context.Background(), mdc.KeyTraceID, "0ad1348f1403169275002100356696")
	child := mdc.With(ctx, mdc.KeySpanID, "0.1")

	for k, v := range mdc.From(child).All() {
		fmt.Println(k, v)
	}
	_, parentHasSpan := mdc.Get(ctx, mdc.KeySpanID)
	fmt.Println("parent has a span id:", parentHasSpan)
	// Output:
	// traceId 0ad1348f1403169275002100356696
	// spanId 0.1
	// parent has a span id: false
}

func ExampleWithScope() {
	ctx := mdc.WithScope(mdc.With(context.Background(), mdc.KeyTraceID, "t1"))

	authenticate := func(ctx context.Context) { mdc.Set(ctx, "user", "alice") }
	authenticate(ctx)

	fmt.Println(mdc.From(ctx).Pairs(nil))
	// Output: [{traceId t1} {user alice}]
}

func ExampleNewNaming() {
	n := mdc.NewNaming(mdc.PresetSOFA, mdc.Rename("user", "userId"), mdc.Deny("password"))
	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "t1"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"},
		mdc.Pair{Key: "user", Value: "alice"},
		mdc.Pair{Key: "password", Value: "hunter2"})
	for _, f := range n.Fields(mdc.From(ctx)) {
		fmt.Printf("%s=%s\n", f.Key, f.Value)
	}
	// Output:
	// SOFA-TraceId=t1
	// SOFA-SpanId=0.1
	// userId=alice
}

// Rename, Allow and Deny take the field names a line shows as well as MDC keys: with PresetOTel,
// "trace_id" is the trace id.
func ExampleAllow() {
	n := mdc.NewNaming(mdc.PresetOTel, mdc.Allow("trace_id", "span_id"), mdc.Rename("span_id", "sid"))
	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "t1"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"},
		mdc.Pair{Key: "user", Value: "alice"})
	for _, f := range n.Fields(mdc.From(ctx)) {
		fmt.Printf("%s=%s\n", f.Key, f.Value)
	}
	// Output:
	// trace_id=t1
	// sid=0.1
}

// Ids in Google Cloud Logging's and Datadog's correlation fields; a SOFA id is mapped as SOFATracer's
// Zipkin reporter maps it, so the line joins the exported trace.
func ExampleGoogleCloud() {
	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"},
		mdc.Pair{Key: mdc.KeySampled, Value: "true"})
	for _, n := range []*mdc.Naming{
		mdc.NewNaming(mdc.PresetDefault, mdc.GoogleCloud("my-project")),
		mdc.NewNaming(mdc.PresetDefault, mdc.Datadog()),
	} {
		for _, p := range mdc.From(ctx).Pairs(nil) {
			f, _ := n.Field(p.Key)
			v, isBool := n.Value(p.Key, p.Value)
			if isBool {
				fmt.Printf("%s=%s (a JSON boolean)\n", f, v)
			} else {
				fmt.Printf("%s=%q\n", f, v)
			}
		}
	}
	// Output:
	// logging.googleapis.com/trace="projects/my-project/traces/000ad1348f1403169275002100356696"
	// logging.googleapis.com/spanId="4e18dd181d0a2066"
	// logging.googleapis.com/trace_sampled=true (a JSON boolean)
	// dd.trace_id="10553341443550045846"
	// dd.span_id="5627490830035591270"
	// sampled="true"
}

func ExampleDetach() {
	ctx, cancel := context.WithCancel(mdc.With(context.Background(), mdc.KeyTraceID, "t1"))
	bg := mdc.Detach(ctx)
	cancel()
	id, _ := mdc.Get(bg, mdc.KeyTraceID)
	fmt.Println(bg.Err(), id)
	// Output: <nil> t1
}

func ExampleFrame() {
	// A value allocated anyway embeds a Frame; its MDC context then needs no allocation of its own.
	type job struct {
		frame mdc.Frame
		id    string
	}
	j := &job{id: "42"}
	ctx := j.frame.With(context.Background(), mdc.Pair{Key: "jobId", Value: j.id})
	fmt.Println(mdc.Get(ctx, "jobId"))
	// Output: 42 true
}
