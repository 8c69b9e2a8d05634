// Command quickstart is the export half of the tracemdc demo: three HTTP services in one process,
// traced end to end, each writing its digest files and exporting the same spans to a tracing
// backend, by OTLP, by Zipkin JSON, or both at once. It lives in the OTLP module (the main module
// does not require the OpenTelemetry protobuf types); run it from there, with a Jaeger listening
// (Jaeger v2 all-in-one takes OTLP on 4318 and Zipkin on 9411, and shows traces on 16686):
//
//	cd export/otlp && go run ./examples/quickstart -otlp http://localhost:4318/v1/traces
//	cd export/otlp && go run ./examples/quickstart -zipkin http://localhost:9411
//	cd export/otlp && go run ./examples/quickstart -otlp ... -zipkin ... -logs DIR
//
// Without -otlp, the OTLP exporter is made from the OTEL_EXPORTER_OTLP_* variables when one is set.
// The services call each other in a chain, frontend ──► orders ──► inventory, each with its own
// tracer whose reporters are its digest.Reporter (files under DIR/<service>/tracelog/) and its
// exporters; export errors go to the service's tracer-self.log. The demo sends a few checkouts,
// closes everything (the exporters send what they hold), prints what each reporter took and the
// trace ids to look up in the backend.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/export/otlp"
	"github.com/tracemdc/tracemdc/idmap"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
)

// hangTimeout bounds every network wait of the demo; a loaded machine never reaches it.
const hangTimeout = 30 * time.Second

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// service is one application of the chain.
type service struct {
	name      string
	tracer    *trace.Tracer
	reporter  *digest.Reporter
	exporters []*export.Exporter
	server    *http.Server
	served    chan error
	url       string
	base      *http.Transport
	client    *http.Client
}

// run parses args, runs the chain and prints the summary.
func run(args []string, stdout, stderr io.Writer) (err error) {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	otlpURL := fs.String("otlp", "", "export by OTLP/HTTP protobuf to `URL` (http://localhost:4318/v1/traces); default: the\n"+
		"OTEL_EXPORTER_OTLP_* variables, when one is set")
	zipkinURL := fs.String("zipkin", "", "export as Zipkin v2 JSON to `URL` (http://localhost:9411)")
	dir := fs.String("logs", "", "`directory` of the digest files (default: a new temporary directory)")
	n := fs.Int("n", 5, "`number` of checkouts")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q (the demo takes flags only)", fs.Args())
	}
	useOTLP := *otlpURL != "" || os.Getenv(otlp.EnvEndpoint) != "" || os.Getenv(otlp.EnvTracesEndpoint) != ""
	if !useOTLP && *zipkinURL == "" {
		return errors.New("nowhere to export: give -otlp URL, -zipkin URL or both (or set OTEL_EXPORTER_OTLP_ENDPOINT)")
	}
	if *n < 1 {
		return fmt.Errorf("-n %d: want at least 1", *n)
	}
	if *dir == "" {
		if *dir, err = os.MkdirTemp("", "tracemdc-export-"); err != nil {
			return err
		}
	}

	var services []*service
	defer func() {
		err = errors.Join(err, shutdown(services))
		if err == nil {
			summary(stdout, *dir, services)
		}
	}()
	for _, name := range []string{"frontend", "orders", "inventory"} {
		s, err := newService(*dir, name, useOTLP, *otlpURL, *zipkinURL)
		if err != nil {
			return err
		}
		services = append(services, s)
	}
	for i := len(services) - 1; i >= 0; i-- { // from the end: each knows the next one's address
		var next *service
		if i+1 < len(services) {
			next = services[i+1]
		}
		if err := services[i].serve(next); err != nil {
			return err
		}
	}
	browser := &http.Client{Transport: &http.Transport{}, Timeout: hangTimeout}
	defer browser.CloseIdleConnections()
	for i := 0; i < *n; i++ {
		resp, err := browser.Get(services[0].url + "/checkout")
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		id := resp.Header.Get("X-Trace-Id")
		fmt.Fprintf(stdout, "checkout %d: %s, trace %s (%s in the backend)\n", i+1, resp.Status, id, idmap.TraceHex(id))
	}
	return nil
}

// newService makes the reporters and the tracer of one service: the digest reporter, then the
// exporters, each also taking the digest reporter as its error reporter.
func newService(dir, name string, useOTLP bool, otlpURL, zipkinURL string) (*service, error) {
	rep, err := digest.New(digest.Config{Root: filepath.Join(dir, name), Policy: digest.Block})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &service{name: name, reporter: rep}
	// Block: the demo must not lose a span. A service keeps the default Discard, so that a backend
	// that is down never holds up its requests.
	common := []export.Option{export.WithErrorReporter(rep), export.WithPolicy(asyncwriter.Block), export.WithCloseTimeout(hangTimeout)}
	if useOTLP {
		opts := common
		if otlpURL != "" {
			opts = append(opts[:len(opts):len(opts)], export.WithEndpointURL(otlpURL))
		}
		e, err := otlp.New(opts...)
		if err != nil {
			_ = rep.Close()
			return nil, fmt.Errorf("%s: OTLP: %w", name, err)
		}
		s.exporters = append(s.exporters, e)
	}
	if zipkinURL != "" {
		e, err := export.NewZipkin(append(common[:len(common):len(common)], export.WithEndpointURL(zipkinURL))...)
		if err != nil {
			_ = s.close()
			return nil, fmt.Errorf("%s: Zipkin: %w", name, err)
		}
		s.exporters = append(s.exporters, e)
	}
	topts := []trace.Option{trace.WithReporter(rep)}
	for _, e := range s.exporters {
		topts = append(topts, trace.WithReporter(e))
	}
	s.tracer = trace.New(name, topts...)
	return s, nil
}

// serve starts the service's traced server; it calls next, if any, and answers with the trace id.
func (s *service) serve(next *service) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.url = "http://" + ln.Addr().String()
	if next != nil {
		s.base = &http.Transport{}
		s.client = &http.Client{Transport: tracehttp.NewTransport(s.tracer, s.base, tracehttp.WithRemoteApp(next.name)),
			Timeout: hangTimeout}
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Trace-Id", trace.SpanFromContext(r.Context()).TraceID())
		if next == nil {
			_, _ = io.WriteString(w, "in stock\n")
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, next.url+"/"+next.name, nil)
		resp, err := s.client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		_, _ = io.Copy(w, resp.Body)
		resp.Body.Close()
	})
	s.server = &http.Server{Handler: tracehttp.Middleware(s.tracer)(h), ReadHeaderTimeout: hangTimeout}
	s.served = make(chan error, 1)
	go func() { s.served <- s.server.Serve(ln) }()
	return nil
}

// shutdown stops the servers, then closes the exporters (they send what they hold) and the digest
// reporters.
func shutdown(services []*service) error {
	ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
	defer cancel()
	var errs []error
	for _, s := range services {
		if s.server != nil {
			errs = append(errs, s.server.Shutdown(ctx))
			if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
				errs = append(errs, err)
			}
		}
		if s.base != nil {
			s.base.CloseIdleConnections()
		}
	}
	for _, s := range services {
		errs = append(errs, s.close())
	}
	return errors.Join(errs...)
}

func (s *service) close() error {
	var errs []error
	for _, e := range s.exporters {
		if err := e.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: exporter %s: %w", s.name, e.Endpoint(), err))
		}
	}
	errs = append(errs, s.reporter.Close())
	return errors.Join(errs...)
}

// summary prints what each reporter of each service took.
func summary(w io.Writer, dir string, services []*service) {
	fmt.Fprintf(w, "\nDigest files under %s; each service's spans went to every reporter of its tracer:\n", dir)
	for _, s := range services {
		var parts []string
		parts = append(parts, fmt.Sprintf("digest %d lines", s.reporter.Stats().Written))
		for _, e := range s.exporters {
			st := e.Stats()
			parts = append(parts, fmt.Sprintf("%s: %d exported, %d dropped, %d failed", e.Endpoint(), st.Exported, st.Dropped, st.Failed))
		}
		fmt.Fprintf(w, "  %-9s  %s\n", s.name, strings.Join(parts, "; "))
	}
	fmt.Fprintln(w, "\nLook the traces up in the backend by their 32-hex id (Jaeger: http://localhost:16686/trace/<id>).")
}
