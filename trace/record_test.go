package trace

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestNewFinishedSpan(t *testing.T) {
	tr := New("orders", WithoutMDC())
	start := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	boom := errors.New("boom")
	f, err := tr.NewFinishedSpan(FinishedSpanConfig{
		Operation: "GET /orders/{id}", TraceID: "4bf92f3577b34da6a3ce929d0e0e4736", SpanID: "00f067aa0ba902b7",
		ParentID: "b7ad6b7169203331", Kind: KindServer, LogType: "http-server", ResultCode: "500", Err: boom,
		Sampled: true, Start: start, End: start.Add(15 * time.Millisecond),
		Tags: []Tag{String("method", "GET"), Int("resp.size.bytes", 7), String("method", "POST")},
		Biz:  []Pair{{Key: "mark", Value: "T"}, {Key: "user", Value: "u1"}}, Sys: []Pair{{Key: "zone", Value: "gz"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.App() != "orders" || f.Operation() != "GET /orders/{id}" || f.TraceID() != "4bf92f3577b34da6a3ce929d0e0e4736" ||
		f.SpanID() != "00f067aa0ba902b7" || f.ParentID() != "b7ad6b7169203331" || f.Kind() != KindServer ||
		f.LogType() != "http-server" || f.ResultCode() != "500" || f.Err() != boom || !f.Sampled() || !f.IsLoadTest() {
		t.Fatalf("record %+v", f)
	}
	if !f.Start().Equal(start) || !f.End().Equal(start.Add(15*time.Millisecond)) || f.Duration() != 15*time.Millisecond {
		t.Fatalf("times %v %v %v", f.Start(), f.End(), f.Duration())
	}
	if v, _ := f.Tag("method"); v.String() != "POST" || f.NumTags() != 2 {
		t.Fatalf("tags: method %v, %d tags", v, f.NumTags())
	}
	if v, _ := f.SysBaggage().Get("zone"); v != "gz" {
		t.Fatal("sys baggage")
	}
	// A bare record: no extra, a negative duration is 0.
	f, err = tr.NewFinishedSpan(FinishedSpanConfig{TraceID: "t", SpanID: "0", Start: start, End: start.Add(-time.Second)})
	if err != nil || f.Duration() != 0 || f.NumTags() != 0 || f.LogType() != "" || f.App() != "orders" {
		t.Fatalf("bare record: %v %+v", err, f)
	}
	// Bad ids: no record, the error names the field.
	for _, c := range []FinishedSpanConfig{{SpanID: "0"}, {TraceID: "t"}, {TraceID: "t", SpanID: "0", ParentID: "a b"}, {TraceID: strings.Repeat("x", 200), SpanID: "0"}} {
		f, err := tr.NewFinishedSpan(c)
		var ie *IDError
		if f != nil || !errors.As(err, &ie) {
			t.Errorf("%+v: record %v, error %v", c, f, err)
		}
	}
	// Baggage over the limit: the entry is left out, the record kept, the error returned.
	f, err = tr.NewFinishedSpan(FinishedSpanConfig{TraceID: "t", SpanID: "0", Biz: []Pair{{Key: "big", Value: strings.Repeat("v", 2000)}, {Key: "k", Value: "v"}}})
	if f == nil || !errors.Is(err, ErrBaggageLimit) || f.BizBaggage().Len() != 1 {
		t.Fatalf("record %v, error %v", f, err)
	}
}
