package otlp_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"google.golang.org/protobuf/proto"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"

	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/export/otlp"
	"github.com/tracemdc/tracemdc/trace"
)

// A tracer exporting its spans with OTLP/HTTP. The server here stands for an OpenTelemetry
// collector, Jaeger or Tempo (port 4318); it prints what it gets. The spans continue a SOFA caller
// (trace id 0a0fe9071584361415996100161966, span id 0.1): the backend gets the trace id left-padded
// to 32 hex digits and the SOFA span ids 0.1.1.1, 0.1.1 and 0.1 mapped (FNV-1a 64), as SOFATracer's
// Zipkin reporter sends them.
func ExampleNew() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collectorpb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, rs := range req.ResourceSpans {
			service := rs.Resource.Attributes[0].Value.GetStringValue() // service.name
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					fmt.Printf("%s %s %-6s trace %s span %s parent %q\n", r.URL.Path, service, s.Name,
						hex.EncodeToString(s.TraceId), hex.EncodeToString(s.SpanId), hex.EncodeToString(s.ParentSpanId))
				}
			}
		}
		w.Header().Set("Content-Type", otlp.ContentType)
	}))
	defer backend.Close()

	exp, err := otlp.New(export.WithEndpointURL(backend.URL + "/v1/traces"))
	if err != nil {
		panic(err)
	}
	tracer := trace.New("shop", trace.WithReporter(exp))
	caller, err := trace.NewSpanContext(trace.SpanContextConfig{TraceID: "0a0fe9071584361415996100161966", SpanID: "0.1", Sampled: true})
	if err != nil {
		panic(err)
	}
	ctx, order := tracer.Start(context.Background(), "order", trace.WithKind(trace.KindServer), trace.WithRemoteParent(caller),
		trace.WithServerSpanMode(trace.ServerSpanChild))
	_, pay := tracer.Start(ctx, "pay", trace.WithKind(trace.KindClient))
	pay.Finish()
	order.Finish()

	if err := exp.Close(); err != nil { // sends what is queued
		panic(err)
	}
	st := exp.Stats()
	fmt.Printf("%d spans: %d exported, %d dropped, %d failed\n", st.Spans, st.Exported, st.Dropped, st.Failed)
	// Output:
	// /v1/traces shop pay    trace 000a0fe9071584361415996100161966 span e543922d145306ca parent "b1ecc5b0e1cf206b"
	// /v1/traces shop order  trace 000a0fe9071584361415996100161966 span b1ecc5b0e1cf206b parent "4e18dd181d0a2066"
	// 2 spans: 2 exported, 0 dropped, 0 failed
}
