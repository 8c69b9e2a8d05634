package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// Every rolling.File starts a lumberjack goroutine (Logger.millRun) that lumberjack never stops (see
// package rolling): it is the only goroutine allowed to outlive run.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun"))
}

var (
	counterLine  = regexp.MustCompile(`^tracemdc_http_requests_total\{(.*)\} ([0-9.]+)$`)
	exemplarLine = regexp.MustCompile(`_bucket\{.*\} [0-9]+ # \{.*trace_id="([0-9a-f]{32})".*\} `)
)

// TestShop: the shop's server and client spans are all in the counters it prints from its own
// /metrics, the server's by route template, and bucket lines carry exemplars with 32-hex trace ids; with -stdout its digest lines
// come first on stdout, one JSON object each, and it writes no file.
func TestShop(t *testing.T) {
	for _, toStdout := range []bool{false, true} {
		dir := t.TempDir()
		args := []string{"-requests", "30", "-logs", dir}
		if toStdout {
			args = append(args, "-stdout")
		}
		var stdout, stderr bytes.Buffer
		if err := run(context.Background(), args, &stdout, &stderr); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, stderr.String())
		}
		stream, metrics, ok := strings.Cut(stdout.String(), "\n30 requests sent to ")
		if !ok {
			t.Fatalf("no metrics printed:\n%s", stdout.String())
		}
		perType := map[string]float64{}
		exemplars := 0
		for _, line := range strings.Split(metrics, "\n") {
			if m := counterLine.FindStringSubmatch(line); m != nil {
				v, _ := strconv.ParseFloat(m[2], 64)
				typ := regexp.MustCompile(`log_type="([^"]+)"`).FindStringSubmatch(m[1])[1]
				perType[typ] += v
				if route := regexp.MustCompile(`route="([^"]+)"`).FindStringSubmatch(m[1])[1]; typ == "http-server" &&
					route != "/orders/{id}" && route != "/orders" {
					t.Fatalf("a server series labelled by route %q, not its template", route)
				}
			} else if exemplarLine.MatchString(line) {
				exemplars++
			}
		}
		if perType["http-server"] != 30 || perType["http-client"] != 30 || exemplars == 0 {
			t.Fatalf("-stdout %v: counted %v, %d exemplar lines:\n%s", toStdout, perType, exemplars, metrics)
		}
		digestLines := 0
		for _, line := range strings.Split(strings.TrimSpace(stream), "\n") {
			if line == "" {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("not JSON before the metrics: %q", line)
			}
			if m["log.kind"] == "digest" {
				digestLines++
			}
		}
		if want := map[bool]int{false: 0, true: 60}[toStdout]; digestLines != want {
			t.Fatalf("-stdout %v: %d digest lines on stdout, want %d", toStdout, digestLines, want)
		}
		if entries, _ := os.ReadDir(dir); (len(entries) == 0) != toStdout {
			t.Fatalf("-stdout %v: the log root holds %v", toStdout, entries)
		}
	}
}
