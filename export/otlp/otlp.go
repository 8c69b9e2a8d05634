// Package otlp exports tracemdc spans with OTLP/HTTP (protobuf), the protocol of OpenTelemetry,
// to Jaeger, Tempo, an OpenTelemetry collector or any OTLP backend. It is export.Exporter (batching
// off the request path, retries, exact accounting; see package export) with the official OTLP
// protobuf types (go.opentelemetry.io/proto/otlp) for the wire, configured by OpenTelemetry's
// OTEL_EXPORTER_OTLP_* environment variables and by export's options, which win.
//
//	exp, err := otlp.New() // OTEL_EXPORTER_OTLP_ENDPOINT, or http://localhost:4318/v1/traces
//	if err != nil { ... }
//	defer exp.Close()
//	tracer := trace.New("shop", trace.WithReporter(digestReporter), trace.WithReporter(exp))
//
// Each tracer application is one resource (service.name), its spans one scope; span ids are those
// of export.IDs (SOFA ids as SOFATracer's Zipkin reporter maps them), kinds SERVER, CLIENT or
// INTERNAL, attributes those of export.AppendAttributes with their types, status ERROR with a
// message for a failed span (export.Status), unset otherwise.
package otlp

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/tracemdc/tracemdc/export"
)

// The environment variables read by New (OpenTelemetry's names); a *_TRACES_* variable wins over
// the general one.
const (
	EnvEndpoint           = "OTEL_EXPORTER_OTLP_ENDPOINT"        // base URL: /v1/traces is appended
	EnvTracesEndpoint     = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" // the URL, used as it is
	EnvHeaders            = "OTEL_EXPORTER_OTLP_HEADERS"         // key=value,key=value (values URL-encoded)
	EnvTracesHeaders      = "OTEL_EXPORTER_OTLP_TRACES_HEADERS"
	EnvTimeout            = "OTEL_EXPORTER_OTLP_TIMEOUT" // milliseconds
	EnvTracesTimeout      = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"
	EnvCompression        = "OTEL_EXPORTER_OTLP_COMPRESSION" // gzip or none
	EnvTracesCompression  = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION"
	EnvProtocol           = "OTEL_EXPORTER_OTLP_PROTOCOL" // only http/protobuf is spoken
	EnvTracesProtocol     = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	EnvResourceAttributes = "OTEL_RESOURCE_ATTRIBUTES" // key=value,... added to every resource
)

// DefaultEndpoint is the URL without WithEndpointURL nor an endpoint variable.
const DefaultEndpoint = "http://localhost:4318/v1/traces"

// ContentType is the Content-Type of OTLP/HTTP protobuf requests.
const ContentType = "application/x-protobuf"

// New returns an exporter posting OTLP/HTTP protobuf. The environment variables above configure
// it; opts (export.WithEndpointURL, WithHeaders, WithTimeout, WithCompression, WithPolicy,
// WithBatch, WithRetry, WithErrorReporter, ...) override them. A bad variable is an error that
// names it.
func New(opts ...export.Option) (*export.Exporter, error) {
	env, attrs, err := fromEnv()
	if err != nil {
		return nil, err
	}
	return export.New(newEncoder(attrs), append(env, opts...)...)
}

// fromEnv reads the variables into options, and the resource attributes.
func fromEnv() ([]export.Option, []kv, error) {
	opts := []export.Option{export.WithEndpointURL(DefaultEndpoint)}
	var errs []string
	bad := func(name string, err error) { errs = append(errs, fmt.Sprintf("%s: %v", name, err)) }
	if v := strings.TrimSpace(os.Getenv(EnvTracesEndpoint)); v != "" {
		opts = append(opts, export.WithEndpointURL(v))
	} else if v := strings.TrimSpace(os.Getenv(EnvEndpoint)); v != "" {
		opts = append(opts, export.WithEndpointURL(tracesURL(v)))
	}
	if name, v := lookup(EnvTracesHeaders, EnvHeaders); v != "" {
		h, err := parsePairs(v)
		if err != nil {
			bad(name, err)
		}
		opts = append(opts, export.WithHeaders(toMap(h)))
	}
	if name, v := lookup(EnvTracesTimeout, EnvTimeout); v != "" {
		d, err := export.ParseMillis(v)
		if err != nil {
			bad(name, err)
		}
		opts = append(opts, export.WithTimeout(d))
	}
	if name, v := lookup(EnvTracesCompression, EnvCompression); v != "" {
		c, err := export.ParseCompression(v)
		if err != nil {
			bad(name, err)
		}
		opts = append(opts, export.WithCompression(c))
	}
	if name, v := lookup(EnvTracesProtocol, EnvProtocol); v != "" && v != "http/protobuf" {
		bad(name, fmt.Errorf("protocol %q: only http/protobuf is supported", v))
	}
	var attrs []kv
	if v := strings.TrimSpace(os.Getenv(EnvResourceAttributes)); v != "" {
		var err error
		if attrs, err = parsePairs(v); err != nil {
			bad(EnvResourceAttributes, err)
		}
	}
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("otlp: %s", strings.Join(errs, "; "))
	}
	return opts, attrs, nil
}

// lookup returns the first of the two variables that is set, and its trimmed value.
func lookup(name, fallback string) (string, string) {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return name, v
	}
	return fallback, strings.TrimSpace(os.Getenv(fallback))
}

// tracesURL appends the traces path to a base URL, as the OTLP specification says.
func tracesURL(base string) string {
	if strings.HasSuffix(base, "/") {
		return base + "v1/traces"
	}
	return base + "/v1/traces"
}

type kv struct{ k, v string }

// parsePairs reads key=value,key=value with URL-encoded values (the W3C baggage form the OTLP
// headers and resource attributes take). Spaces around keys and values are dropped.
func parsePairs(s string) ([]kv, error) {
	var out []kv
	for _, entry := range strings.Split(s, ",") {
		if strings.TrimSpace(entry) == "" {
			continue
		}
		k, v, ok := strings.Cut(entry, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("entry %q is not key=value", entry)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", entry, err)
		}
		out = append(out, kv{k, dv})
	}
	return out, nil
}

func toMap(pairs []kv) map[string]string {
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		m[p.k] = p.v
	}
	return m
}
