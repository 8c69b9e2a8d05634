package export

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/asyncwriter"
	"github.com/tracemdc/tracemdc/trace"
)

// Defaults of the options.
const (
	DefaultQueueCapacity = 2048             // spans waiting for the exporter's goroutine
	DefaultBatchSize     = 512              // spans in one request at most
	DefaultBatchDelay    = time.Second      // the longest a span waits for its batch to fill
	DefaultTimeout       = 10 * time.Second // one request
	DefaultRetryInitial  = 250 * time.Millisecond
	DefaultRetryMax      = 5 * time.Second
	DefaultRetryTotal    = 30 * time.Second // all the retries of one batch
	DefaultCloseTimeout  = 10 * time.Second // Close's drain
	// MaxResponseBytes is the most of an answer's body the exporter reads: for a partial success
	// or an error message.
	MaxResponseBytes = 64 << 10
)

// Compression is the encoding of request bodies.
type Compression uint8

// The compressions.
const (
	NoCompression Compression = iota // the default, as OTLP's
	Gzip                             // Content-Encoding: gzip
)

// String returns "none" or "gzip".
func (c Compression) String() string {
	if c == Gzip {
		return "gzip"
	}
	return "none"
}

// ParseCompression reads "gzip" or "none" (the values of OTEL_EXPORTER_OTLP_COMPRESSION), in any
// case; the empty string is "none".
func ParseCompression(s string) (Compression, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "gzip":
		return Gzip, nil
	case "none", "":
		return NoCompression, nil
	}
	return NoCompression, fmt.Errorf("unknown compression %q (want gzip or none)", s)
}

// Option configures an Exporter.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	endpoint                           string
	shown                              string // endpoint without its user info, for messages
	headers                            map[string]string
	timeout                            time.Duration
	compression                        Compression
	policy                             asyncwriter.Policy
	capacity                           int
	batchSize                          int
	batchDelay                         time.Duration
	retryInitial, retryMax, retryTotal time.Duration
	closeTimeout                       time.Duration
	client                             *http.Client
	errRs                              []trace.ErrorReporter
	errs                               []error // of options given bad values
}

func newConfig(opts []Option) (config, error) {
	c := config{
		timeout:      DefaultTimeout,
		policy:       asyncwriter.Discard,
		capacity:     DefaultQueueCapacity,
		batchSize:    DefaultBatchSize,
		batchDelay:   DefaultBatchDelay,
		retryInitial: DefaultRetryInitial,
		retryMax:     DefaultRetryMax,
		retryTotal:   DefaultRetryTotal,
		closeTimeout: DefaultCloseTimeout,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	errs := c.errs
	if c.endpoint == "" {
		errs = append(errs, errors.New("export: no endpoint URL (WithEndpointURL)"))
	} else if err := checkURL(c.endpoint); err != nil {
		errs = append(errs, fmt.Errorf("export: endpoint URL: %w", err))
	}
	c.shown = redacted(c.endpoint)
	if c.policy != asyncwriter.Block && c.policy != asyncwriter.Discard {
		errs = append(errs, fmt.Errorf("export: queue policy: unknown %v", c.policy))
	}
	if c.capacity < 1 || c.capacity > asyncwriter.MaxCapacity {
		errs = append(errs, fmt.Errorf("export: queue capacity %d out of range [1, %d]", c.capacity, asyncwriter.MaxCapacity))
	}
	if c.batchSize < 1 {
		errs = append(errs, fmt.Errorf("export: batch size %d must be positive", c.batchSize))
	}
	if c.batchDelay <= 0 {
		errs = append(errs, fmt.Errorf("export: batch delay %v must be positive", c.batchDelay))
	}
	if c.timeout <= 0 {
		errs = append(errs, fmt.Errorf("export: timeout %v must be positive", c.timeout))
	}
	if c.retryInitial <= 0 || c.retryMax < c.retryInitial || c.retryTotal < 0 {
		errs = append(errs, fmt.Errorf("export: retry initial %v, max %v, total %v: want 0 < initial <= max and total >= 0",
			c.retryInitial, c.retryMax, c.retryTotal))
	}
	if c.closeTimeout <= 0 {
		errs = append(errs, fmt.Errorf("export: close timeout %v must be positive", c.closeTimeout))
	}
	for k, v := range c.headers {
		if !validHeaderName(k) {
			errs = append(errs, fmt.Errorf("export: header name %q is not a valid HTTP header name", k))
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			errs = append(errs, fmt.Errorf("export: header %s: value holds a control character", k))
		}
	}
	return c, errors.Join(errs...)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold credentials
		}
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q: scheme must be http or https", redacted(s))
	}
	if u.Host == "" {
		return fmt.Errorf("%q: no host", redacted(s))
	}
	return nil
}

// redacted returns the URL s with its user info, if any, replaced by xxxxx: a URL with credentials
// (http://user:password@host) is posted to as it is, and shown without them in errors and the
// self log.
func redacted(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	u.User = url.User("xxxxx")
	return u.String()
}

func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// WithEndpointURL sets the URL the batches are posted to, used as it is (NewZipkin appends
// /api/v2/spans to a URL without a path). It must be http or https. User info in it
// (http://user:password@host) authenticates the requests (HTTP basic authentication) and is shown
// as xxxxx in errors and Endpoint.
func WithEndpointURL(u string) Option {
	return optionFunc(func(c *config) { c.endpoint = strings.TrimSpace(u) })
}

// WithHeaders sets headers sent with every request (an API key, say), replacing those of an
// earlier WithHeaders or of the environment.
func WithHeaders(h map[string]string) Option {
	cp := make(map[string]string, len(h))
	for k, v := range h {
		cp[k] = v
	}
	return optionFunc(func(c *config) { c.headers = cp })
}

// WithTimeout bounds one request, its answer included (default DefaultTimeout).
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.timeout = d })
}

// WithCompression sets the encoding of request bodies (default NoCompression).
func WithCompression(z Compression) Option {
	return optionFunc(func(c *config) { c.compression = z })
}

// WithPolicy sets what Report does when the queue is full: asyncwriter.Discard (the default, as
// SOFATracer's): the span is dropped and counted, the caller never waits; asyncwriter.Block: the
// caller waits for room, so nothing is dropped, but a backend that is down or slow holds up every
// Finish (for as long as the retries of one batch last, DefaultRetryTotal).
func WithPolicy(p asyncwriter.Policy) Option {
	return optionFunc(func(c *config) { c.policy = p })
}

// WithQueueCapacity sets the number of spans that wait for the exporter's goroutine (default
// DefaultQueueCapacity; rounded up to a power of two).
func WithQueueCapacity(n int) Option {
	return optionFunc(func(c *config) { c.capacity = n })
}

// WithBatch sets the most spans of one request (default DefaultBatchSize) and the longest a span
// waits for its batch to fill before the batch is sent anyway (default DefaultBatchDelay).
func WithBatch(size int, delay time.Duration) Option {
	return optionFunc(func(c *config) { c.batchSize, c.batchDelay = size, delay })
}

// WithRetry sets the retries of a batch the backend could not take for now (connection errors,
// timeouts, HTTP 429, 502, 503, 504): the first wait, the longest wait (waits double, with a random
// part; a Retry-After answer is honoured within max), and the total time from the first attempt of
// a batch past which no retry starts: its spans then count as failed. A total of 0 turns retries
// off. Defaults DefaultRetryInitial, DefaultRetryMax, DefaultRetryTotal.
func WithRetry(initial, max, total time.Duration) Option {
	return optionFunc(func(c *config) { c.retryInitial, c.retryMax, c.retryTotal = initial, max, total })
}

// WithCloseTimeout bounds Close: spans still queued or being sent when it passes are given up and
// counted (default DefaultCloseTimeout). Shutdown takes its bound from its context instead.
func WithCloseTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.closeTimeout = d })
}

// WithHTTPClient sets the client of the requests (for TLS settings or a proxy, say). Its Timeout,
// if set, adds to WithTimeout. Close closes its idle connections. By default the exporter has a
// client of its own.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) {
		if hc != nil {
			c.client = hc
		}
	})
}

// WithErrorReporter adds a receiver of the exporter's errors: batches that failed, spans dropped
// (rate-limited: one report per second at most, with the count), a Close that gave up. Give it the
// digest.Reporter of the same service to have them in tracer-self.log. Repeat it for several; a nil
// reporter is ignored. The errors are *Error values; they are counted in Stats either way.
func WithErrorReporter(r trace.ErrorReporter) Option {
	return optionFunc(func(c *config) {
		if r != nil {
			c.errRs = append(c.errRs, r)
		}
	})
}
