package propagation_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestInvalidSampledKeepsContext: a sampled flag that cannot be read (X-B3-Sampled: yes, a b3 sampling
// state other than 0/1/d, sftc_head's sample=maybe) no longer costs the caller the trace: the ids,
// the parent and the baggage (the load-test mark) are kept, the flag is ignored as if absent (sampled,
// the SOFA default), and the error says so (ErrSampledIgnored, which wraps ErrInvalidSampled).
func TestInvalidSampledKeepsContext(t *testing.T) {
	const w3cParent = "05e3ac9a4f6e3b90"
	b3 := func(sampled string) http.Header {
		return http.Header{"X-B3-Traceid": {sofaTrace}, "X-B3-Spanid": {"0.1.2"}, "X-B3-Parentspanid": {"0.1"},
			"X-B3-Sampled": {sampled}, "Baggage-Mark": {"T"}, "Baggage-Sys-Zone": {"gz"}}
	}
	sofa := scWant{sofaTrace, "0.1.2", "0.1", true, map[string]string{"zone": "gz"}, map[string]string{"mark": "T"}}
	single := scWant{w3cTrace, w3cSpan, w3cParent, true, map[string]string{}, map[string]string{"mark": "T"}}
	cases := []struct {
		name  string
		p     propagation.Propagator
		h     http.Header
		want  scWant
		field string
	}{
		{"X-B3-Sampled: yes", propagation.B3(), b3("yes"), sofa, propagation.HeaderB3Sampled},
		// B3 writes debug as X-B3-Flags: 1, never as a sampled value.
		{"X-B3-Sampled: d", propagation.B3(), b3("d"), sofa, propagation.HeaderB3Sampled},
		{"X-B3-Sampled: 2", propagation.B3(), b3("2"), sofa, propagation.HeaderB3Sampled},
		{"default, X-B3-Sampled: yes", propagation.Default(), b3("yes"), sofa, propagation.HeaderB3Sampled},
		{"b3 state x", propagation.B3(), http.Header{"B3": {w3cTrace + "-" + w3cSpan + "-x-" + w3cParent}, "Baggage-Mark": {"T"}},
			single, propagation.HeaderB3Single},
		{"b3 state true", propagation.B3(), http.Header{"B3": {w3cTrace + "-" + w3cSpan + "-true-" + w3cParent}, "Baggage-Mark": {"T"}},
			single, propagation.HeaderB3Single},
		{"b3 empty state", propagation.B3(), http.Header{"B3": {w3cTrace + "-" + w3cSpan + "--" + w3cParent}, "Baggage-Mark": {"T"}},
			single, propagation.HeaderB3Single},
		{"sftc_head sample=maybe", propagation.SofaHead(),
			http.Header{"Sftc_head": {"tcid=" + sofaTrace + "&spid=0.1.2&pspid=0.1&sample=maybe&_sys_zone=gz&mark=T&"}},
			sofa, propagation.HeaderSofaHead},
	}
	for _, c := range cases {
		_, sc, err := c.p.Extract(context.Background(), propagation.HeaderCarrier(c.h))
		if got := describe(sc); !sc.IsValid() || !equalWant(got, c.want) {
			t.Errorf("%s: context %+v, want %+v (err %v)", c.name, got, c.want, err)
			continue
		}
		if !sc.IsLoadTest() {
			t.Errorf("%s: the load-test mark is lost", c.name)
		}
		var pe *propagation.Error
		if !errors.Is(err, propagation.ErrSampledIgnored) || !errors.Is(err, propagation.ErrInvalidSampled) ||
			errors.Is(err, propagation.ErrBaggageDropped) || !errors.As(err, &pe) || pe.Field != c.field {
			t.Errorf("%s: err = %v", c.name, err)
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n") {
			t.Errorf("%s: error message %q", c.name, err)
		}
	}

	// Valid flags give no error, and the case of true/false does not matter.
	for v, want := range map[string]bool{"1": true, "0": false, "true": true, "FALSE": false} {
		_, sc, err := propagation.B3().Extract(context.Background(), propagation.HeaderCarrier(b3(v)))
		if err != nil || sc.Sampled() != want {
			t.Errorf("X-B3-Sampled: %s: sampled %v, err %v", v, sc.Sampled(), err)
		}
	}
}

func equalWant(a, b scWant) bool {
	if a.traceID != b.traceID || a.spanID != b.spanID || a.parentID != b.parentID || a.sampled != b.sampled ||
		len(a.sys) != len(b.sys) || len(a.biz) != len(b.biz) {
		return false
	}
	for k, v := range b.sys {
		if a.sys[k] != v {
			return false
		}
	}
	for k, v := range b.biz {
		if a.biz[k] != v {
			return false
		}
	}
	return true
}

// TestInvalidSampledAndBaggageDropped: both kinds of kept-context error are returned together, the
// baggage one first, and each can be tested for.
func TestInvalidSampledAndBaggageDropped(t *testing.T) {
	h := http.Header{"X-B3-Traceid": {sofaTrace}, "X-B3-Spanid": {"0.1"}, "X-B3-Sampled": {"yes"},
		"Baggage-Mark": {"T"}, "Baggage-Big": {strings.Repeat("v", trace.DefaultBaggageLimit)}}
	_, sc, err := propagation.B3().Extract(context.Background(), propagation.HeaderCarrier(h))
	if !sc.IsValid() || !sc.Sampled() || !sc.IsLoadTest() || sc.TraceID() != sofaTrace {
		t.Fatalf("context %+v", describe(sc))
	}
	var (
		pe *propagation.Error
		de *propagation.BaggageDropError
	)
	if !errors.Is(err, propagation.ErrSampledIgnored) || !errors.Is(err, propagation.ErrBaggageDropped) ||
		!errors.As(err, &de) || len(de.Refused) != 1 || !errors.As(err, &pe) || pe.Field != "baggage-*" {
		t.Fatalf("err = %v", err)
	}

	// A tracer continues the trace and counts the error once; the refused entry in BaggageRefused.
	tracer := trace.New("app")
	tracer.ReportError(err)
	_, span := tracer.Start(context.Background(), "server", trace.WithRemoteParent(sc))
	defer span.Finish()
	if span.TraceID() != sofaTrace || !span.Context().Sampled() {
		t.Fatalf("span %s sampled %v", span.TraceID(), span.Context().Sampled())
	}
	if st := tracer.Stats(); st.Errors != 1 || st.BaggageRefused != 1 {
		t.Fatalf("stats %+v", st)
	}
}
