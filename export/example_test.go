package export_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/trace"
)

// A tracer exporting its spans as Zipkin JSON. The server here stands for a Zipkin server or
// Jaeger's Zipkin receiver (port 9411); it prints what it gets.
func ExampleNewZipkin() {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var spans []struct {
			TraceID, ID, ParentID, Kind, Name string
			LocalEndpoint                     struct{ ServiceName string }
		}
		_ = json.NewDecoder(r.Body).Decode(&spans)
		for _, s := range spans {
			fmt.Printf("%s %s %-8q %-6s %s parent %q\n", r.URL.Path, s.LocalEndpoint.ServiceName, s.Kind, s.Name, s.ID, s.ParentID)
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer backend.Close()

	exp, err := export.NewZipkin(export.WithEndpointURL(backend.URL))
	if err != nil {
		panic(err)
	}
	tracer := trace.New("shop", trace.WithReporter(exp))
	ctx, order := tracer.Start(context.Background(), "order", trace.WithKind(trace.KindServer))
	_, pay := tracer.Start(ctx, "pay", trace.WithKind(trace.KindClient))
	pay.Finish()
	order.Finish()

	if err := exp.Close(); err != nil { // sends what is queued
		panic(err)
	}
	st := exp.Stats()
	fmt.Printf("%d spans: %d exported, %d dropped, %d failed\n", st.Spans, st.Exported, st.Dropped, st.Failed)
	// Output:
	// /api/v2/spans shop "CLIENT" pay    4e18dd181d0a2066 parent "af63ad4c86019caf"
	// /api/v2/spans shop "SERVER" order  af63ad4c86019caf parent ""
	// 2 spans: 2 exported, 0 dropped, 0 failed
}
