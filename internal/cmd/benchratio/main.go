// Command benchratio measures the time ratio of two benchmarks of one package in interleaved rounds:
// each round runs both benchmarks once, back to back, so both see the same machine; the result is
// the median of the per-round ratios. On a shared machine whose speed drifts within minutes this is
// steadier than the ratio of two medians from `-count N`, which runs all N of one benchmark before
// the other.
//
//	go run ./internal/cmd/benchratio -pkg ./slogmdc -base Handler/manual -new Handler/mdc
//
// The benchmarks are named as `go test -bench` prints them, without the Benchmark prefix and the
// -GOMAXPROCS suffix.
//
// With -zero, a third benchmark (the bare operation, say) runs in each round too and is subtracted
// from both: the result is the ratio of the times the two add to it, (new - zero) / (base - zero).
//
//	go run ../../internal/cmd/benchratio -pkg . -zero Unary/bare -base Unary/otelgrpc -new Unary/tracemdc
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("benchratio", flag.ContinueOnError)
	pkg := fs.String("pkg", ".", "package directory holding both benchmarks")
	base := fs.String("base", "", "the benchmark in the denominator, e.g. Handler/manual")
	nw := fs.String("new", "", "the benchmark in the numerator, e.g. Handler/mdc")
	zero := fs.String("zero", "", "optional: a benchmark subtracted from both (ratio of added times)")
	rounds := fs.Int("rounds", 10, "interleaved rounds")
	benchtime := fs.String("benchtime", "1s", "-benchtime for each run")
	unit := fs.String("unit", "ns/op", "the unit of the value compared: ns/op, or a metric the benchmarks report (b.ReportMetric)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *base == "" || *nw == "" || *rounds < 1 {
		return errors.New("need -base, -new and -rounds >= 1")
	}
	dir, err := os.MkdirTemp("", "benchratio")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "bench.test")
	build := exec.Command("go", "test", "-c", "-o", bin, ".")
	build.Dir, build.Stderr = *pkg, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building the test binary of %s: %w", *pkg, err)
	}
	names := []string{*base, *nw}
	if *zero != "" {
		names = append(names, *zero)
	}
	times := make([][]float64, len(names)) // per benchmark, per round
	for i := 0; i < *rounds; i++ {
		for j, name := range names {
			v, err := once(bin, *pkg, name, *benchtime, *unit)
			if err != nil {
				return err
			}
			times[j] = append(times[j], v)
		}
	}
	for j, name := range names {
		fmt.Fprintf(out, "%s: median %.4g %s\n", name, median(times[j]), *unit)
	}
	var zs []float64
	if *zero != "" {
		zs = times[2]
	}
	ratios := roundRatios(times[0], times[1], zs)
	what := *nw + " / " + *base
	if *zero != "" {
		what = "(" + *nw + " - " + *zero + ") / (" + *base + " - " + *zero + ")"
	}
	fmt.Fprintf(out, "%s: median of %d per-round ratios %.3f (min %.3f, max %.3f)\n",
		what, len(ratios), median(ratios), slices.Min(ratios), slices.Max(ratios))
	return nil
}

// roundRatios returns, per round, new/base, or (new-zero)/(base-zero) when zero is given.
func roundRatios(base, nw, zero []float64) []float64 {
	ratios := make([]float64, len(base))
	for i := range base {
		b, n := base[i], nw[i]
		if zero != nil {
			b, n = b-zero[i], n-zero[i]
		}
		ratios[i] = n / b
	}
	return ratios
}

// once runs one benchmark once and returns its value in unit.
func once(bin, dir, name, benchtime, unit string) (float64, error) {
	re := benchRegexp(name)
	cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", re, "-test.benchtime", benchtime)
	cmd.Dir, cmd.Stderr = dir, os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return 0, fmt.Errorf("running %s: %w", name, err)
	}
	return parseUnit(b, name, unit)
}

// benchRegexp returns the -test.bench pattern that matches exactly the benchmark name (without its
// Benchmark prefix), each level of a sub-benchmark anchored on its own.
func benchRegexp(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	parts[0] = "^Benchmark" + parts[0][1:]
	return strings.Join(parts, "/")
}

// parseNsOp returns the ns/op of benchmark name in go test output.
func parseNsOp(b []byte, name string) (float64, error) { return parseUnit(b, name, "ns/op") }

// parseUnit returns the value benchmark name reports in unit ("ns/op", "B/op", a custom metric).
func parseUnit(b []byte, name, unit string) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 {
			continue
		}
		got := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(got, '-'); i > 0 {
			got = got[:i]
		}
		if got != name {
			continue
		}
		for i := 3; i < len(f); i += 2 { // name, iterations, then value-unit pairs
			if f[i] == unit {
				return strconv.ParseFloat(f[i-1], 64)
			}
		}
	}
	return 0, fmt.Errorf("no %s value for %s in the output", unit, name)
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
