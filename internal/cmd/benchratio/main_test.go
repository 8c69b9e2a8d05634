package main

import "testing"

func TestParseNsOp(t *testing.T) {
	out := []byte("goos: linux\nBenchmarkHandler/manual-2   \t 1000\t 663.5 ns/op\t 0 B/op\t 0 allocs/op\n" +
		"BenchmarkHandler/mdc-2 \t 1000\t 757 ns/op\nBenchmarkHandler/mdc_x-8 1 1 ns/op\nPASS\n")
	for name, want := range map[string]float64{"Handler/manual": 663.5, "Handler/mdc": 757} {
		got, err := parseNsOp(out, name)
		if err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", name, got, err, want)
		}
	}
	if _, err := parseNsOp(out, "Handler/missing"); err == nil {
		t.Error("a missing benchmark gave no error")
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("odd: %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even: %v", m)
	}
}

func TestRunNeedsNames(t *testing.T) {
	if err := run([]string{"-base", "A"}, nil); err == nil {
		t.Error("no error without -new")
	}
}

func TestBenchRegexp(t *testing.T) {
	if got, want := benchRegexp("Handler/mdc"), "^BenchmarkHandler$/^mdc$"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got, want := benchRegexp("With"), "^BenchmarkWith$"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestRoundRatios(t *testing.T) {
	got := roundRatios([]float64{200, 320}, []float64{150, 250}, []float64{100, 120})
	if got[0] != 0.5 || got[1] != 0.65 {
		t.Errorf("added-time ratios %v, want [0.5 0.65]", got)
	}
	if got := roundRatios([]float64{200}, []float64{100}, nil); got[0] != 0.5 {
		t.Errorf("plain ratio %v", got)
	}
}

func TestParseUnit(t *testing.T) {
	out := []byte("BenchmarkUnary/bare-2   1000   41234 ns/op   9170 B/op   151 allocs/op   30120 cpu-ns/op\n")
	for unit, want := range map[string]float64{"ns/op": 41234, "B/op": 9170, "allocs/op": 151, "cpu-ns/op": 30120} {
		if got, err := parseUnit(out, "Unary/bare", unit); err != nil || got != want {
			t.Errorf("%s: got %v, %v; want %v", unit, got, err, want)
		}
	}
	if _, err := parseUnit(out, "Unary/bare", "MB/s"); err == nil {
		t.Error("a missing unit gave no error")
	}
}
