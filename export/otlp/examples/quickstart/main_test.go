package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/internal/jaegertest"
)

// Every digest file is a rolling.File, and each starts a lumberjack goroutine (Logger.millRun) that
// lumberjack never stops (see package rolling); it is the only goroutine allowed to outlive run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

// TestQuickstartJaeger runs the demo with both exporters at once, OTLP to one real Jaeger and Zipkin
// JSON to another: each Jaeger has every checkout, five spans of the three services, and the summary
// counts every span exported, none dropped or failed.
func TestQuickstartJaeger(t *testing.T) {
	jo, jz := jaegertest.Start(t), jaegertest.Start(t)
	var stdout, stderr bytes.Buffer
	err := run([]string{"-otlp", jo.OTLPURL(), "-zipkin", jz.ZipkinURL(), "-logs", t.TempDir(), "-n", "3"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	ids := regexp.MustCompile(`checkout \d: 200 OK, trace \S+ \(([0-9a-f]{32}) in the backend\)`).FindAllStringSubmatch(out, -1)
	if len(ids) != 3 {
		t.Fatalf("%d checkouts:\n%s", len(ids), out)
	}
	for _, j := range []*jaegertest.Jaeger{jo, jz} {
		for _, id := range ids {
			tr := j.WaitTrace(t, id[1], 5)
			services := map[string]int{}
			for _, s := range tr.Spans {
				services[tr.Service(s)]++
			}
			if len(tr.Spans) != 5 || services["frontend"] != 2 || services["orders"] != 2 || services["inventory"] != 1 {
				t.Errorf("trace %s: %d spans, services %v", id[1], len(tr.Spans), services)
			}
		}
	}
	for _, want := range []string{
		"frontend   digest 6 lines; " + jo.OTLPURL() + ": 6 exported, 0 dropped, 0 failed; " + jz.ZipkinURL() + ": 6 exported, 0 dropped, 0 failed",
		"inventory  digest 3 lines; " + jo.OTLPURL() + ": 3 exported, 0 dropped, 0 failed; " + jz.ZipkinURL() + ": 3 exported, 0 dropped, 0 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}

func TestNowhereToExport(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	var stdout, stderr bytes.Buffer
	if err := run(nil, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "nowhere to export") {
		t.Errorf("run without a backend: %v", err)
	}
}
