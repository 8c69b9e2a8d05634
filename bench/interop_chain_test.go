package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	otelprop "go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	oteltrace "go.opentelemetry.io/otel/trace"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// TestInteropOTelThroughDefaultTracer: OTel service → Go service with the default tracer (SOFA ids)
// and the HTTP integration → OTel service. The trace arrives in a traceparent; the Go spans take W3C
// span ids, so the outgoing call carries a traceparent the downstream OTel service continues: same
// trace id, parent = the Go client span.
func TestInteropOTelThroughDefaultTracer(t *testing.T) {
	otelProp := otelprop.NewCompositeTextMapPropagator(otelprop.TraceContext{}, otelprop.Baggage{})
	downstream := make(chan oteltrace.SpanContext, 1)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		downstream <- oteltrace.SpanContextFromContext(otelProp.Extract(r.Context(), otelprop.HeaderCarrier(r.Header)))
	}))
	defer down.Close()

	var spans []*trace.FinishedSpan
	rep := make(chan *trace.FinishedSpan, 4)
	tr := trace.New("go-svc", trace.WithReporter(trace.ReporterFunc(func(s *trace.FinishedSpan) { rep <- s })))
	client := &http.Client{Transport: tracehttp.NewTransport(tr, http.DefaultTransport)}
	mid := httptest.NewServer(tracehttp.Middleware(tr)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, down.URL, nil)
		if err != nil {
			t.Error(err)
			return
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		_ = resp.Body.Close()
	})))
	defer mid.Close()

	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	defer func() { _ = tp.Shutdown(context.Background()) }()
	ctx, up := tp.Tracer("upstream").Start(context.Background(), "call")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, mid.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	otelProp.Inject(ctx, otelprop.HeaderCarrier(req.Header))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	up.End()

	got := <-downstream
	for len(spans) < 2 {
		spans = append(spans, <-rep)
	}
	var server, clientSpan *trace.FinishedSpan
	for _, s := range spans {
		if s.Kind() == trace.KindServer {
			server = s
		} else {
			clientSpan = s
		}
	}
	want := up.SpanContext()
	if server == nil || clientSpan == nil || server.TraceID() != want.TraceID().String() || server.ParentID() != want.SpanID().String() {
		t.Fatalf("Go spans %+v do not continue the OTel trace %s/%s", spans, want.TraceID(), want.SpanID())
	}
	if !got.IsValid() || got.TraceID() != want.TraceID() || got.SpanID().String() != clientSpan.SpanID() || clientSpan.ParentID() != server.SpanID() {
		t.Fatalf("downstream OTel saw %v; want trace %s, parent %s (the Go client span)", got, want.TraceID(), clientSpan.SpanID())
	}
}
