// Command quickstart is the tracemdc demo: three HTTP services in one process, traced end to end,
// each logging with a different logger, and the trace of one request read back from the files.
//
//	go run ./examples/quickstart            # writes ./logs
//	go run ./examples/quickstart -logs DIR  # writes DIR instead
//	go run ./examples/quickstart -stdout    # the digest lines on stdout too, as in a container
//	go run ./examples/quickstart -zipkin http://localhost:9411  # and every span to Zipkin or Jaeger
//
// The services listen on loopback ports chosen by the system and call each other in a chain:
//
//	frontend (log/slog) ──► orders (zap, SOFA field names) ──► inventory (logrus, OTel field names)
//
// Each has its own trace.Tracer (the application name in its digest lines), its own digest.Reporter
// writing under DIR/<service>/tracelog/, tracehttp.Middleware on its server and an tracehttp.Transport
// under its client, and its own business log file DIR/<service>.log (JSON lines). The demo sends 20
// checkout requests to frontend: one asks for an item that is out of stock (inventory answers 500),
// one is marked as load test (biz baggage mark=T, so its digest lines go to tracelog/shadow/). Then it
// shuts everything down and prints the span tree of one request and its business log lines, read back
// from the files with package tracetree (what `tracetail -tree ID -logs ...` prints, through its public
// API), and the tracetail commands to explore the rest.
// Each run starts afresh: it first removes the files an earlier run wrote under DIR (the business
// logs, the digest, stat and self logs and their rolled backups; nothing else), so the counts it
// prints, and those tracetail shows of DIR, are of this run only. It clears only a DIR that holds the
// marker file .tracemdc-quickstart of an earlier run, never another program's logs of the same names.
//
// With -stdout, each reporter also writes its digest, stat and self lines to stdout
// (digest.Config.Output), and frontend's slog logger its lines, before the summary: what a container
// would print for a log collector, one JSON object a line, ours naming their "log.kind" and
// "log.type". The Prometheus metrics of the same stat aggregation are in the nested module
// promdigest (it needs client_golang, which this module does not require): cd promdigest && go run
// ./examples/shop serves /metrics.
//
// With -zipkin URL, each service also exports its spans, as Zipkin v2 JSON (package export), to a
// Zipkin server or to Jaeger's Zipkin port (9411), beside its digest files: the summary counts them
// and names the trace to look up. The OTLP exporter is in the nested module export/otlp (it needs the
// OpenTelemetry protobuf types, which this module does not require): cd export/otlp && go run
// ./examples/quickstart -otlp URL.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/tracetree"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the whole demo: it parses args, runs the services and the requests, shuts everything down
// and prints what the logs hold to stdout. Flag errors are printed on stderr and returned.
func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("logs", "logs", "`directory` of the digest, stat and business logs")
	color := fs.String("color", "auto", "colour the trace trees: `auto` (on a terminal), always or never")
	toStdout := fs.Bool("stdout", false, "also write the services' digest, stat and self lines and frontend's log to stdout,\n"+
		"one JSON object a line, as a container's log collector reads them (before the summary)")
	zipkin := fs.String("zipkin", "", "also export every span as Zipkin v2 JSON to `URL` (a Zipkin server, or Jaeger's\n"+
		"Zipkin port: http://localhost:9411); for OTLP: cd export/otlp && go run ./examples/quickstart -otlp URL")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (the demo takes flags only)", fs.Args())
	}
	topts := tracetree.Options{Width: 24}
	var err error
	if topts.Color, err = tracetree.ColorFor(*color, stdout); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	removed, err := clearEarlierRun(*dir)
	if err != nil {
		return err
	}
	if err := writeMarker(*dir); err != nil {
		return err
	}
	var stream io.Writer
	if *toStdout {
		stream = &lockedWriter{w: stdout} // three reporters and a logger share it
	}
	res, err := simulate(*dir, stream, *zipkin)
	if err != nil {
		return err
	}
	res.removed = removed
	return report(stdout, *dir, res, topts)
}

// lockedWriter makes one io.Writer safe for the concurrent writers of -stdout, each Write whole, as
// os.Stdout is (stdout may be any writer here: a buffer in the tests).
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// report prints what happened, the tree and business log lines of one successful checkout and the
// tree of the failed one, all read back from the files, and the commands to explore further.
func report(w io.Writer, dir string, res *result, topts tracetree.Options) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	p("tracemdc quickstart\n\n")
	p("Three HTTP services ran in this process, frontend → orders → inventory, each with its own tracer,\n")
	p("digest reporter and logger. The MDC adapters put the trace and span ids in every business log line:\n\n")
	var logPaths, digestDirs []string
	for _, s := range res.services {
		logPaths = append(logPaths, s.logPath)
		digestDirs = append(digestDirs, layout.DigestDir(filepath.Join(dir, s.name)))
		p("  %-9s  %-22s  %-8s → %-22s  %s\n", s.name, s.url, s.logger, s.logPath, fieldNames(s))
	}
	p("\n%d checkouts: %d succeeded, %d failed (%q is out of stock: inventory answered 500),\n",
		numRequests, len(res.ok), len(res.failed), outOfStock)
	p("%d was marked as load test (biz baggage mark=T, passed on from service to service).\n", len(res.loadTest))
	p("Digest lines written:")
	for i, s := range res.services {
		st := res.stats[s.name]
		sep := ","
		if i == 0 {
			sep = ""
		}
		p("%s %s %d", sep, s.name, st.Written)
		if lost := st.Discarded + st.Lost + st.EncodePanics; lost > 0 {
			p(" (%d LOST)", lost)
		}
	}
	p(" (Block policy: none dropped).\n\n")
	if len(res.exports) > 0 {
		reportExports(p, res)
	}
	if len(res.services) > 0 && res.services[0].stream != nil {
		var lines, lost uint64
		for _, s := range res.services {
			st := res.stats[s.name]
			lines, lost = lines+st.OutputLines, lost+st.OutputErrors
		}
		p("-stdout: above this summary, %d digest, stat and self lines of the three services went to stdout too", lines)
		if lost > 0 {
			p(" (%d LOST)", lost)
		}
		p(",\nmixed with frontend's log lines: one JSON object a line, each of ours naming its \"log.kind\" (digest,\n")
		p("stat, self) and \"log.type\", as a container's log collector ships them (digest.Config.Output).\n\n")
	}

	p("Files under %s", strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
	if res.removed > 0 {
		p(" (%d files of an earlier run removed first: these hold this run only)", res.removed)
	}
	p(":\n")
	for _, f := range [][2]string{
		{strings.Join(base(logPaths), " "), "business log lines, one JSON object each"},
		{"<service>/tracelog/http-server-digest.log", "one line per request served (SOFATracer's format)"},
		{"<service>/tracelog/http-client-digest.log", "one line per call to the next service"},
		{"<service>/tracelog/http-*-stat.log", "count, failures and cost per URL and interval"},
		{"<service>/tracelog/shadow/", "the same, for load-test traffic"},
		{"<service>/tracelog/tracer-self.log", "the tracer's own errors (empty here)"},
	} {
		p("  %-42s  %s\n", f[0], f[1])
	}

	okID, failedID := last(res.ok), last(res.failed)
	p("\nOne checkout, read back from the digest logs of the three services, as tracetail -tree shows it.\n")
	p("Span ids nest: the server span of frontend is 0, its call to orders 0.1, the server span of orders\n")
	p("0.1.1, and so on; each bar shows when the span ran within the whole trace. Then its business log\n")
	p("lines (found by trace id, whatever the field name), merged with its spans. Digest times are whole\n")
	p("milliseconds: a line is placed after the start of its span, but its own time may read a millisecond\n")
	p("earlier.\n\n")
	withLogs := topts
	withLogs.Logs, withLogs.Warn = logPaths, &b
	if err := tracetree.Write(&b, okID, digestDirs, withLogs); err != nil {
		return err
	}
	p("\nThe ids in the raw lines, one line of each logger (tracetail knows the field names of every preset):\n\n")
	for _, path := range logPaths {
		line, err := firstLineWith(path, okID)
		if err != nil {
			return err
		}
		p("  %-13s  %s\n", filepath.Base(path), line)
	}
	p("\nThe failed checkout: the error starts at inventory and every caller's span shows it.\n\n")
	topts.Warn = &b
	if err := tracetree.Write(&b, failedID, digestDirs, topts); err != nil {
		return err
	}

	logs := strings.Join(logPaths, ",")
	p("\nExplore further with tracetail (from the repository root):\n")
	for _, c := range [][2]string{
		{"go run ./cmd/tracetail " + shellQuote(dir), "every span, one line each"},
		{"go run ./cmd/tracetail -errors " + shellQuote(dir), "only the failed ones"},
		{"go run ./cmd/tracetail -load-test " + shellQuote(dir), "only load-test spans"},
		{"go run ./cmd/tracetail -tree " + failedID + " -logs " + shellQuote(logs) + " " + shellQuote(dir),
			"the failed checkout with its log lines"},
	} {
		p("  %s\n      %s\n", c[0], c[1])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// firstLineWith returns the first line of the file at path that holds s.
func firstLineWith(path, s string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			return sc.Text(), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return "", fmt.Errorf("%s: no line holds %s", path, s)
}

// fieldNames describes the field names under which a service's logger shows the ids.
func fieldNames(s *service) string {
	return fmt.Sprintf("fields %s, %s (%s preset)", field(s, mdc.KeyTraceID), field(s, mdc.KeySpanID), s.naming.Preset())
}

func field(s *service, key string) string {
	f, _ := s.naming.Field(key)
	return f
}

func base(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}

func last(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[len(ids)-1]
}

// shellQuote quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./,:=+@%", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// reportExports says what went to the Zipkin backend and which trace to look up there.
func reportExports(p func(string, ...any), res *result) {
	p("Spans exported as Zipkin JSON to %s:", res.services[0].exporter.Endpoint())
	var lost uint64
	for i, s := range res.services {
		st := res.exports[s.name]
		sep := ","
		if i == 0 {
			sep = ""
		}
		p("%s %s %d", sep, s.name, st.Exported)
		lost += st.Dropped + st.Failed
	}
	if lost > 0 {
		p(" (%d NOT EXPORTED: see tracer-self.log)", lost)
	} else {
		p(" (none dropped or failed)")
	}
	if id := last(res.ok); id != "" {
		p(".\nThe checkout below is trace %s there (its SOFA id left-padded to 32 hex digits, as\n", idmap.TraceHex(id))
		p("SOFATracer's Zipkin reporter sends it): Jaeger shows it at http://localhost:16686/trace/%s.\n\n", idmap.TraceHex(id))
	} else {
		p(".\n\n")
	}
}
