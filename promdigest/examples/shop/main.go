// Command shop is a small traced HTTP service that serves the Prometheus metrics of its digest stat
// aggregation on /metrics: the Kubernetes setup of tracemdc, digest lines on stdout for the log
// collector and metrics for Prometheus, in one program. From the promdigest directory:
//
//	go run ./examples/shop                 # 40 requests, then the metrics they made, and exit
//	go run ./examples/shop -stdout         # the digest, stat and self lines on stdout, no files
//	go run ./examples/shop -serve -addr 127.0.0.1:8080   # keep serving /metrics until Ctrl-C
//
// The shop routes GET /orders/{id} (404 for an id past 100) and POST /orders (500 for every fifth
// order) through tracehttp.Middleware; its digest.Reporter has a promdigest.Metrics as Observer, so
// every span its stat lines count is in tracemdc_http_requests_total and
// tracemdc_http_request_duration_seconds, with exemplars: the server's by route template
// ("/orders/{id}", from the ServeMux pattern), its client's by URL (a client span knows no route). It calls itself with a traced client
// (http-client spans), scrapes its own /metrics in OpenMetrics and prints the counters and the bucket
// lines that carry an exemplar. /metrics itself is not traced.
package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/promdigest"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// run is the whole program; with -serve it serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("shop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "`address` to listen on")
	requests := fs.Int("requests", 40, "requests the shop sends itself before printing its metrics")
	logs := fs.String("logs", "logs", "log root `directory` of the digest files (not with -stdout)")
	toStdout := fs.Bool("stdout", false, "write the digest, stat and self lines to stdout instead of files")
	serve := fs.Bool("serve", false, "keep serving /metrics after the requests, until interrupted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	metrics := promdigest.New()
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics)
	cfg := digest.Config{Root: *logs, Observer: metrics}
	if *toStdout {
		cfg.Output, cfg.OutputOnly = stdout, true
	}
	reporter, err := digest.New(cfg)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, reporter.Close()) }()
	tracer := trace.New("shop", trace.WithReporter(reporter))

	shop := http.NewServeMux()
	shop.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if id, _ := strconv.Atoi(r.PathValue("id")); id < 1 || id > 100 {
			http.Error(w, "no such order", http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, `{"id":%q,"status":"paid"}`+"\n", r.PathValue("id"))
	})
	var placed int
	shop.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		if placed++; placed%5 == 0 {
			http.Error(w, "payment service down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	root := http.NewServeMux()
	root.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true}))
	root.Handle("/", tracehttp.Middleware(tracer)(shop))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: root, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err = errors.Join(err, srv.Shutdown(sctx))
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}()
	base := "http://" + ln.Addr().String()

	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: tracehttp.NewTransport(tracer, transport), Timeout: 10 * time.Second}
	for i := 1; i <= *requests; i++ {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/orders/"+strconv.Itoa(i*7), nil)
		if i%3 == 0 {
			req, _ = http.NewRequestWithContext(ctx, http.MethodPost, base+"/orders", strings.NewReader(`{"item":"book"}`))
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	reporter.Flush() // every span is observed

	scrape, err := get(ctx, transport, base+"/metrics")
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d requests sent to %s, from /metrics (OpenMetrics):\n\n", *requests, base)
	sc := bufio.NewScanner(bytes.NewReader(scrape))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "tracemdc_http_requests_total{") || strings.Contains(line, "_bucket{") && strings.Contains(line, " # {") {
			b.WriteString(line + "\n")
		}
	}
	if *serve {
		fmt.Fprintf(&b, "\nserving %s/metrics and the shop at %s/orders/{id}; Ctrl-C to stop\n", base, base)
	}
	if _, err := io.WriteString(stdout, b.String()); err != nil {
		return err
	}
	if *serve {
		<-ctx.Done()
	}
	return nil
}

// get fetches url as a Prometheus server asking for OpenMetrics would.
func get(ctx context.Context, rt http.RoundTripper, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/openmetrics-text;version=1.0.0")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}
