package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/export"
	"github.com/tracemdc/tracemdc/logrusmdc"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/rolling"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracehttp"
	"github.com/tracemdc/tracemdc/zapmdc"
)

// The demo's traffic.
const (
	numRequests  = 20
	loadTestReq  = 4  // the request (1-based) marked as load test
	failingReq   = 13 // the request asking for an item that is out of stock
	outOfStock   = "umbrella"
	statInterval = time.Second
	// hangTimeout bounds every network wait of the demo (requests, header reads, shutdown). It
	// only guards against a hang: a loaded machine (the tests run it with -race on 2 cores) must
	// never reach it.
	hangTimeout = 30 * time.Second
)

var (
	users = []string{"alice", "bob", "carol"}
	items = []string{"book", "pen", "mug", "lamp"}
	// stock is what inventory has; outOfStock is missing on purpose.
	stock = map[string]int{"book": 1000, "pen": 1000, "mug": 1000, "lamp": 1000}
)

// demoServices are the three applications, in the order of the chain: each one's name (the name of
// its business log and of its digest root under the logs directory), logger and MDC field names.
var demoServices = []struct {
	name, logger string
	preset       mdc.Preset
}{
	{"frontend", "log/slog", mdc.PresetDefault},
	{"orders", "zap", mdc.PresetSOFA},
	{"inventory", "logrus", mdc.PresetOTel},
}

// service is one of the three applications: a tracer, its digest reporter, an HTTP server with the
// tracing middleware, and (for the two that call on) a traced HTTP client.
type service struct {
	name     string
	logger   string // the logger of its business log, for the report
	naming   *mdc.Naming
	logPath  string
	tracer   *trace.Tracer
	reporter *digest.Reporter
	server   *http.Server
	served   chan error // Serve's result
	url      string
	next     *service        // the service it calls, if any
	base     *http.Transport // under the traced client; its idle connections are closed at the end
	client   *http.Client
	closers  []func() error   // close the business log, after the server has stopped
	stream   io.Writer        // with -stdout: where its lines go as well, as in a container
	exporter *export.Exporter // with -zipkin: the spans' way to the backend
}

// newService opens the reporter of name under dir and makes its tracer. A non-nil stream gets
// every digest, stat and self line as well (digest.Config.Output), as stdout in a container would.
// A zipkinURL gives the tracer a second reporter, a Zipkin exporter whose errors the digest
// reporter writes to tracer-self.log.
func newService(dir, name, logger string, preset mdc.Preset, stream io.Writer, zipkinURL string) (*service, error) {
	rep, err := digest.New(digest.Config{
		// One root per service, as if each ran on its own host: a Reporter owns the files it writes
		// (tracer-self.log, http-server-digest.log, …), and two writers must not share a rolling file.
		Root:         filepath.Join(dir, name),
		Policy:       digest.Block, // the demo must not lose a line; services usually keep Discard
		StatInterval: statInterval,
		Output:       stream, // nil: files only
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	s := &service{
		name: name, logger: logger, naming: mdc.NewNaming(preset),
		logPath:  filepath.Join(dir, name+".log"),
		reporter: rep,
		stream:   stream,
	}
	topts := []trace.Option{trace.WithReporter(rep)}
	if zipkinURL != "" {
		// Block, as the digest reporter here: the demo must not lose a span. A service keeps the
		// default Discard, so that a backend that is down never holds up its requests.
		s.exporter, err = export.NewZipkin(export.WithEndpointURL(zipkinURL), export.WithErrorReporter(rep),
			export.WithPolicy(asyncwriter.Block), export.WithCloseTimeout(hangTimeout))
		if err != nil {
			_ = rep.Close()
			return nil, fmt.Errorf("%s: -zipkin: %w", name, err)
		}
		topts = append(topts, trace.WithReporter(s.exporter))
	}
	s.tracer = trace.New(name, topts...)
	return s, nil
}

// openLog opens the service's business log file for appending (run removed the file of an earlier
// run before the services started).
func (s *service) openLog() (*os.File, error) {
	f, err := os.OpenFile(s.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	s.closers = append(s.closers, f.Close)
	return f, nil
}

// openAsyncLog opens the service's business log as a production service would: a rolling.File
// behind an asyncwriter.Writer, so that a log call copies its line into a ring and returns, and one
// goroutine writes the lines in batches. Close (in s.close, after the server stopped) drains the ring
// and closes the file. A service would roll the file daily (Rolling: rolling.Daily); the demo neither
// rolls nor prunes it (MaxAgeDays -1), so it leaves no backups and never removes files beside it.
func (s *service) openAsyncLog() (io.Writer, error) {
	f, err := rolling.New(rolling.Config{Filename: s.logPath, MaxAgeDays: -1})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	w, err := asyncwriter.NewWriter(f, asyncwriter.WithCloseDestination())
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	s.closers = append(s.closers, w.Close)
	return w, nil
}

// callTo gives the service a traced client for the service next.
func (s *service) callTo(next *service) {
	s.next = next
	s.base = &http.Transport{MaxIdleConnsPerHost: 4}
	s.client = &http.Client{
		Transport: tracehttp.NewTransport(s.tracer, s.base, tracehttp.WithRemoteApp(next.name)),
		Timeout:   hangTimeout,
	}
}

// serve starts the traced server on a loopback port chosen by the system.
func (s *service) serve(mux *http.ServeMux) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	s.url = "http://" + ln.Addr().String()
	s.server = &http.Server{
		Handler:           tracehttp.Middleware(s.tracer)(mux),
		ReadHeaderTimeout: hangTimeout,
	}
	s.served = make(chan error, 1)
	go func() { s.served <- s.server.Serve(ln) }()
	return nil
}

// shutdown stops the server (waiting for the requests in flight) and closes the client's idle
// connections.
func (s *service) shutdown(ctx context.Context) error {
	var errs []error
	if s.server != nil {
		if err := s.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: shutdown: %w", s.name, err))
		}
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("%s: serve: %w", s.name, err))
		}
	}
	if s.base != nil {
		s.base.CloseIdleConnections()
	}
	return errors.Join(errs...)
}

// close closes the reporter (it drains every digest line and writes the last stat interval) and the
// business log.
func (s *service) close() error {
	var errs []error
	if s.exporter != nil { // first: its errors go to the digest reporter's tracer-self.log
		if err := s.exporter.Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: exporter: %w", s.name, err))
		}
	}
	if err := s.reporter.Close(); err != nil {
		errs = append(errs, fmt.Errorf("%s: digest reporter: %w", s.name, err))
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			errs = append(errs, fmt.Errorf("%s: business log: %w", s.name, err))
		}
	}
	return errors.Join(errs...)
}

// order is what travels from frontend to orders to inventory.
type order struct {
	Item string `json:"item"`
	Qty  int    `json:"qty"`
}

// post sends v as JSON to the next service and returns the status and the response body. The request
// carries ctx, so the traced client's span is a child of the server span of ctx.
func (s *service) post(ctx context.Context, path string, v any) (int, []byte, error) {
	body, err := json.Marshal(v)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.next.url+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body) // the client span ends here, at the end of the body
	return resp.StatusCode, b, err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client may be gone; nothing to do about it
}

// work stands for the time a real service spends on a request, so that the waterfall has something
// to show (digest costs are whole milliseconds).
func work(d time.Duration) { time.Sleep(d) }

// startFrontend runs frontend: GET /checkout?item=…&user=… places an order with orders. It logs with
// log/slog through slogmdc, under the default field names traceId and spanId, into a rolling file
// behind an asynchronous writer (openAsyncLog).
func startFrontend(s *service) error {
	f, err := s.openAsyncLog()
	if err != nil {
		return err
	}
	if s.stream != nil {
		// As a container's service logs: its own lines on stdout beside the digest lines, each
		// record one Write, so the two never tear each other's lines.
		f = io.MultiWriter(f, s.stream)
	}
	logger := slog.New(slogmdc.New(slog.NewJSONHandler(f, nil), slogmdc.WithNaming(s.naming)))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /checkout", func(w http.ResponseWriter, r *http.Request) {
		// The middleware put the span's ids in the MDC of r.Context() and a request scope: mdc.Set adds
		// a value of our own that every later line of this request shows, as MDC.put does in Java.
		ctx := r.Context()
		mdc.Set(ctx, "user", r.URL.Query().Get("user"))
		traceID := trace.SpanFromContext(ctx).TraceID()
		o := order{Item: r.URL.Query().Get("item"), Qty: 1}
		logger.InfoContext(ctx, "checkout requested", "item", o.Item)
		work(3 * time.Millisecond) // the cart, the user's address…

		status, body, err := s.post(ctx, "/orders", o)
		switch {
		case err != nil:
			trace.SpanFromContext(ctx).SetError(err) // the error field of this server's digest line
			logger.ErrorContext(ctx, "orders unreachable", "err", err)
			writeJSON(w, http.StatusBadGateway, map[string]string{"traceId": traceID, "error": err.Error()})
		case status != http.StatusOK:
			trace.SpanFromContext(ctx).SetError(fmt.Errorf("orders answered %d", status))
			logger.ErrorContext(ctx, "checkout failed", "status", status, "reason", string(bytes.TrimSpace(body)))
			writeJSON(w, http.StatusBadGateway, map[string]string{"traceId": traceID, "error": "order refused"})
		default:
			var placed struct {
				OrderID string `json:"orderId"`
			}
			json.Unmarshal(body, &placed) //nolint:errcheck // an empty id is logged as such
			work(time.Millisecond)
			logger.InfoContext(ctx, "checkout done", "orderId", placed.OrderID)
			writeJSON(w, http.StatusOK, map[string]string{"traceId": traceID, "orderId": placed.OrderID})
		}
	})
	return s.serve(mux)
}

// startOrders runs orders: POST /orders reserves the item with inventory and creates the order.
// It logs with zap through zapmdc, under SOFATracer's field names SOFA-TraceId and SOFA-SpanId.
func startOrders(s *service) error {
	f, err := s.openLog()
	if err != nil {
		return err
	}
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	core := zapcore.NewCore(zapcore.NewJSONEncoder(encCfg), zapcore.AddSync(f), zap.InfoLevel)
	logger := zap.New(zapmdc.NewCore(core, zapmdc.WithNaming(s.naming)))
	s.closers = append(s.closers, func() error { return logger.Sync() })

	var orderSeq atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var o order
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			logger.Warn("bad order", zapmdc.Ctx(ctx), zap.Error(err))
			http.Error(w, "bad order", http.StatusBadRequest)
			return
		}
		logger.Info("creating order", zapmdc.Ctx(ctx), zap.String("item", o.Item), zap.Int("qty", o.Qty))
		work(4 * time.Millisecond) // prices, the customer's account…

		status, body, err := s.post(ctx, "/reserve", o)
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("inventory answered %d: %s", status, bytes.TrimSpace(body))
		}
		if err != nil {
			trace.SpanFromContext(ctx).SetError(err) // the error field of this server's digest line
			logger.Error("reservation failed", zapmdc.Ctx(ctx), zap.String("item", o.Item), zap.Error(err))
			http.Error(w, "reservation failed", http.StatusBadGateway)
			return
		}
		id := "ord-" + strconv.FormatInt(orderSeq.Add(1), 10)
		work(2 * time.Millisecond) // writing the order
		logger.Info("order created", zapmdc.Ctx(ctx), zap.String("orderId", id))
		writeJSON(w, http.StatusOK, map[string]string{"orderId": id})
	})
	return s.serve(mux)
}

// startInventory runs inventory: POST /reserve takes items from stock, and fails with 500 for an item
// that has none. It logs with logrus through logrusmdc, under OpenTelemetry's field names trace_id and
// span_id.
func startInventory(s *service) error {
	f, err := s.openLog()
	if err != nil {
		return err
	}
	logger := logrus.New()
	logger.Out = f
	logger.Formatter = &logrus.JSONFormatter{TimestampFormat: time.RFC3339Nano}
	logger.AddHook(logrusmdc.NewHook(logrusmdc.WithNaming(s.naming)))

	mux := http.NewServeMux()
	mux.HandleFunc("POST /reserve", func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		var o order
		if err := json.NewDecoder(r.Body).Decode(&o); err != nil {
			logger.WithContext(ctx).WithError(err).Warn("bad reservation")
			http.Error(w, "bad reservation", http.StatusBadRequest)
			return
		}
		log := logger.WithContext(ctx).WithFields(logrus.Fields{"item": o.Item, "qty": o.Qty})
		log.Info("checking stock")
		work(8 * time.Millisecond) // the warehouse
		if stock[o.Item] < o.Qty {
			err := fmt.Errorf("out of stock: %s", o.Item)
			trace.SpanFromContext(ctx).SetError(err)
			log.Error("out of stock")
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		log.Info("stock reserved")
		writeJSON(w, http.StatusOK, map[string]int{"reserved": o.Qty})
	})
	return s.serve(mux)
}

// result is what the simulation did, for the report.
type result struct {
	services []*service // frontend, orders, inventory
	ok       []string   // trace ids of the requests that succeeded
	failed   []string   // … that failed
	loadTest []string   // … that were marked as load test
	stats    map[string]digest.Stats
	exports  map[string]export.Stats // with -zipkin
	removed  int                     // files of an earlier run removed before this one (set by run)
}

// simulate starts the three services, sends the requests, and shuts everything down: the servers
// first (frontend, then the services behind it), then the reporters and the business logs. A
// non-nil stream gets the services' digest, stat and self lines and frontend's business log lines
// as well; it must be safe for concurrent use.
func simulate(dir string, stream io.Writer, zipkinURL string) (res *result, err error) {
	res = &result{stats: map[string]digest.Stats{}}
	if zipkinURL != "" {
		res.exports = map[string]export.Stats{}
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), hangTimeout)
		defer cancel()
		errs := []error{err}
		for _, s := range res.services {
			errs = append(errs, s.shutdown(ctx))
		}
		for _, s := range res.services {
			errs = append(errs, s.close())
			res.stats[s.name] = s.reporter.Stats()
			if s.exporter != nil {
				res.exports[s.name] = s.exporter.Stats()
			}
		}
		err = errors.Join(errs...)
	}()
	for _, d := range demoServices {
		s, err := newService(dir, d.name, d.logger, d.preset, stream, zipkinURL)
		if err != nil {
			return res, err
		}
		res.services = append(res.services, s)
	}
	frontend, orders, inventory := res.services[0], res.services[1], res.services[2]
	frontend.callTo(orders)
	orders.callTo(inventory)
	// From the end of the chain, so that every service knows the address of the next.
	if err := startInventory(inventory); err != nil {
		return res, err
	}
	if err := startOrders(orders); err != nil {
		return res, err
	}
	if err := startFrontend(frontend); err != nil {
		return res, err
	}
	return res, sendRequests(frontend, res)
}

// sendRequests plays the users: numRequests checkouts at frontend, one by one.
func sendRequests(frontend *service, res *result) error {
	// The users' browser is not traced: frontend starts each trace (span id 0).
	browser := &http.Transport{}
	defer browser.CloseIdleConnections()
	client := &http.Client{Transport: browser, Timeout: hangTimeout}

	// A load-test platform marks its requests with the biz baggage mark=T; every service passes the
	// mark on, and digest lines of marked spans go to tracelog/shadow/. A tracer without a reporter
	// plays that platform here.
	loadgen := trace.New("loadgen", trace.WithoutMDC())
	loadClient := &http.Client{
		Transport: tracehttp.NewTransport(loadgen, browser, tracehttp.WithRemoteApp(frontend.name)),
		Timeout:   hangTimeout,
	}

	for i := 1; i <= numRequests; i++ {
		q := url.Values{"user": {users[i%len(users)]}, "item": {items[i%len(items)]}}
		if i == failingReq {
			q.Set("item", outOfStock)
		}
		ctx, c := context.Background(), client
		var span *trace.Span
		if i == loadTestReq {
			ctx, span = loadgen.Start(ctx, "load test", trace.WithLoadTest())
			c = loadClient
		}
		traceID, status, err := checkout(ctx, c, frontend.url+"/checkout?"+q.Encode())
		span.Finish() // a nil span (the usual case) does nothing
		if err != nil {
			return fmt.Errorf("request %d: %w", i, err)
		}
		switch {
		case i == loadTestReq:
			res.loadTest = append(res.loadTest, traceID)
		case status == http.StatusOK:
			res.ok = append(res.ok, traceID)
		default:
			res.failed = append(res.failed, traceID)
		}
		if wantOK := i != failingReq; (status == http.StatusOK) != wantOK {
			return fmt.Errorf("request %d: status %d", i, status)
		}
	}
	return nil
}

// checkout sends one checkout request and returns the trace id frontend answered with.
func checkout(ctx context.Context, c *http.Client, u string) (traceID string, status int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var answer struct {
		TraceID string `json:"traceId"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return "", resp.StatusCode, fmt.Errorf("status %d, unreadable answer: %w", resp.StatusCode, err)
	}
	if answer.TraceID == "" {
		return "", resp.StatusCode, fmt.Errorf("status %d without a trace id", resp.StatusCode)
	}
	return answer.TraceID, resp.StatusCode, nil
}
