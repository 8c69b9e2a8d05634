package trace

import (
	"context"
	"testing"
)

// TestSpanOperationAndRoute: SetOperation renames a live span (its record keeps the new name),
// SetRoute sets the TagRoute tag that Tag reads back; after Finish both do nothing, and a no-op span
// takes them safely.
func TestSpanOperationAndRoute(t *testing.T) {
	var got *FinishedSpan
	tr := New("ops", WithReporter(ReporterFunc(func(s *FinishedSpan) { got = s })))
	_, s := tr.Start(context.Background(), "GET /orders/42")
	if s.Operation() != "GET /orders/42" {
		t.Fatalf("operation %q", s.Operation())
	}
	s.SetRoute("/orders/{id}")
	s.SetOperation("GET /orders/{id}")
	if v, ok := s.Tag(TagRoute); !ok || v.String() != "/orders/{id}" || s.Operation() != "GET /orders/{id}" {
		t.Fatalf("route %q %v, operation %q", v.String(), ok, s.Operation())
	}
	s.Finish()
	s.SetOperation("late")
	s.SetRoute("/late")
	if v, _ := got.Tag(TagRoute); got.Operation() != "GET /orders/{id}" || v.String() != "/orders/{id}" || s.Operation() != "GET /orders/{id}" {
		t.Fatalf("after Finish: operation %q, route %q", got.Operation(), v.String())
	}
	noop := SpanFromContext(context.Background())
	noop.SetOperation("x")
	noop.SetRoute("/x")
	if _, ok := noop.Tag(TagRoute); ok || noop.Operation() != "" {
		t.Fatal("a no-op span kept something")
	}
	var nilSpan *Span
	nilSpan.SetOperation("x")
	if _, ok := nilSpan.Tag(TagRoute); ok || nilSpan.Operation() != "" {
		t.Fatal("a nil span kept something")
	}
}
