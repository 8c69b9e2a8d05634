package export

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
)

// Zipkin's environment variables (OpenTelemetry's names).
const (
	EnvZipkinEndpoint = "OTEL_EXPORTER_ZIPKIN_ENDPOINT" // the URL, as WithEndpointURL takes it
	EnvZipkinTimeout  = "OTEL_EXPORTER_ZIPKIN_TIMEOUT"  // one request, in milliseconds
	// DefaultZipkinURL is where NewZipkin posts without WithEndpointURL nor EnvZipkinEndpoint.
	DefaultZipkinURL = "http://localhost:9411/api/v2/spans"
	zipkinPath       = "/api/v2/spans"
)

// NewZipkin returns an exporter posting Zipkin v2 JSON (POST /api/v2/spans), the format of
// SOFATracer's Zipkin reporter, to a Zipkin server or anything that takes it (Jaeger's zipkin
// receiver, an OpenTelemetry collector). The URL comes from WithEndpointURL, else
// OTEL_EXPORTER_ZIPKIN_ENDPOINT, else DefaultZipkinURL; a URL without a path (SOFATracer's baseUrl,
// "http://zipkin:9411") gets /api/v2/spans. OTEL_EXPORTER_ZIPKIN_TIMEOUT sets the request timeout
// unless WithTimeout does.
//
// Each span becomes one Zipkin span: ids by IDs, name the operation, kind SERVER or CLIENT (none
// for a local span; SOFATracer marks those CLIENT), timestamp and duration in microseconds, the
// local endpoint named by the tracer's application, a client span's remote endpoint by its
// remote.app tag, and the attributes of AppendAttributes as tags (numbers and booleans as text); a
// failed span (Status) has the tag error.
func NewZipkin(opts ...Option) (*Exporter, error) {
	env, err := zipkinEnv()
	if err != nil {
		return nil, err
	}
	all := append(env, opts...)
	all = append(all, optionFunc(func(c *config) { c.endpoint = zipkinURL(c.endpoint) }))
	return New(&zipkinEncoder{}, all...)
}

func zipkinEnv() ([]Option, error) {
	opts := []Option{WithEndpointURL(DefaultZipkinURL)}
	if v := strings.TrimSpace(os.Getenv(EnvZipkinEndpoint)); v != "" {
		opts = append(opts, WithEndpointURL(v))
	}
	if v := strings.TrimSpace(os.Getenv(EnvZipkinTimeout)); v != "" {
		d, err := ParseMillis(v)
		if err != nil {
			return nil, fmt.Errorf("export: %s: %w", EnvZipkinTimeout, err)
		}
		opts = append(opts, WithTimeout(d))
	}
	return opts, nil
}

// ParseMillis reads a timeout in milliseconds, as OpenTelemetry's *_TIMEOUT variables give it.
func ParseMillis(s string) (time.Duration, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 || n > int64(time.Hour/time.Millisecond) {
		return 0, fmt.Errorf("%q is not a number of milliseconds in [1, 3600000]", s)
	}
	return time.Duration(n) * time.Millisecond, nil
}

// zipkinURL appends Zipkin's path to a URL that has none.
func zipkinURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return s // a bad URL is refused by New
	}
	u.Path = zipkinPath
	return u.String()
}

// zipkinEncoder writes Zipkin v2 JSON.
type zipkinEncoder struct {
	buf   bytes.Buffer
	enc   *json.Encoder
	spans []zipkinSpan
	tags  []trace.Tag
}

type zipkinSpan struct {
	TraceID        string            `json:"traceId"`
	ID             string            `json:"id"`
	ParentID       string            `json:"parentId,omitempty"`
	Kind           string            `json:"kind,omitempty"`
	Name           string            `json:"name,omitempty"`
	Timestamp      int64             `json:"timestamp"`
	Duration       int64             `json:"duration"`
	LocalEndpoint  *zipkinEndpoint   `json:"localEndpoint,omitempty"`
	RemoteEndpoint *zipkinEndpoint   `json:"remoteEndpoint,omitempty"`
	Tags           map[string]string `json:"tags,omitempty"`
}

type zipkinEndpoint struct {
	ServiceName string `json:"serviceName,omitempty"`
}

func (z *zipkinEncoder) ContentType() string { return "application/json" }

func (z *zipkinEncoder) Encode(dst []byte, spans []*trace.FinishedSpan) ([]byte, error) {
	z.spans = z.spans[:0]
	for _, s := range spans {
		z.spans = append(z.spans, z.span(s))
	}
	z.buf.Reset()
	if z.enc == nil {
		z.enc = json.NewEncoder(&z.buf)
		z.enc.SetEscapeHTML(false)
	}
	err := z.enc.Encode(z.spans)
	clear(z.spans)
	if err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimRight(z.buf.Bytes(), "\n")...), nil
}

func (z *zipkinEncoder) span(s *trace.FinishedSpan) zipkinSpan {
	tid, sid, pid := IDs(s)
	out := zipkinSpan{
		TraceID:       hex.EncodeToString(tid[:]),
		ID:            hex.EncodeToString(sid[:]),
		Name:          s.Operation(),
		Timestamp:     s.Start().UnixMicro(),
		Duration:      max(1, s.Duration().Microseconds()), // Zipkin rounds durations under 1 µs up
		LocalEndpoint: &zipkinEndpoint{ServiceName: s.App()},
	}
	if pid != ([8]byte{}) {
		out.ParentID = hex.EncodeToString(pid[:])
	}
	switch s.Kind() {
	case trace.KindServer:
		out.Kind = "SERVER"
	case trace.KindClient:
		out.Kind = "CLIENT"
		if v, ok := s.Tag(layout.FieldRemoteApp); ok && v.String() != "" {
			out.RemoteEndpoint = &zipkinEndpoint{ServiceName: v.String()}
		}
	}
	z.tags = AppendAttributes(z.tags[:0], s)
	if failed, reason := Status(s); failed {
		z.tags = appendNew(z.tags, 0, trace.String("error", reason))
	}
	if len(z.tags) > 0 {
		out.Tags = make(map[string]string, len(z.tags))
		for _, t := range z.tags {
			out.Tags[t.Key] = t.Value.String()
		}
	}
	clear(z.tags)
	return out
}
