package tracehttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// TestServerRoute: after the handler ran, the server span gets the route template that served the
// request (tracehttp.TagRoute) and, with the default name, the route's name; the handler's own
// SetRoute and SetOperation win, a custom span name is kept, and an unrouted request gets no route.
func TestServerRoute(t *testing.T) {
	if tracehttp.TagRoute != trace.TagRoute || trace.TagRoute != layout.FieldRoute {
		t.Fatalf("route names differ: %q %q %q", tracehttp.TagRoute, trace.TagRoute, layout.FieldRoute)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/{id}", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("shop.example/carts/{id}/items", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/mine/", func(_ http.ResponseWriter, r *http.Request) {
		span := trace.SpanFromContext(r.Context())
		span.SetRoute("/mine/:thing")
		span.SetOperation("mine")
	})
	for _, c := range []struct {
		name      string
		opts      []tracehttp.Option
		target    string
		route, op string
	}{
		{"mux pattern", nil, "http://shop.example/orders/42", "/orders/{id}", "GET /orders/{id}"},
		{"mux pattern with host", nil, "http://shop.example/carts/7/items", "shop.example/carts/{id}/items", "GET shop.example/carts/{id}/items"},
		{"handler sets both", []tracehttp.Option{tracehttp.WithRoute(func(*http.Request) string { return "/ignored" })},
			"http://shop.example/mine/x", "/mine/:thing", "mine"},
		{"WithRoute over the mux", []tracehttp.Option{tracehttp.WithRoute(func(r *http.Request) string { return "/o/:id" })},
			"http://shop.example/orders/42", "/o/:id", "GET /o/:id"},
		{"WithRoute empty: the mux", []tracehttp.Option{tracehttp.WithRoute(func(r *http.Request) string { return "" })},
			"http://shop.example/orders/42", "/orders/{id}", "GET /orders/{id}"},
		{"custom name kept", []tracehttp.Option{tracehttp.WithSpanName(func(r *http.Request) string { return "api" })},
			"http://shop.example/orders/42", "/orders/{id}", "api"},
		{"not routed", nil, "http://shop.example/nowhere", "", "GET /nowhere"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tr, rec := newTracer("routes")
			h := tracehttp.Middleware(tr, c.opts...)(mux)
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", c.target, nil))
			s := rec.only(t)
			route, ok := s.Tag(tracehttp.TagRoute)
			if route.String() != c.route || ok != (c.route != "") || s.Operation() != c.op {
				t.Fatalf("route %q (set %v), operation %q; want %q, %q", route.String(), ok, s.Operation(), c.route, c.op)
			}
			if url, _ := s.Tag(tracehttp.TagRequestURL); url.String() != c.target {
				t.Fatalf("request.url %q, want the real URL %q", url.String(), c.target)
			}
		})
	}
}
