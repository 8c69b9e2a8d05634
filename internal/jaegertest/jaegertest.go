// Package jaegertest runs a real Jaeger v2 (the jaeger binary of github.com/jaegertracing/jaeger,
// built by .ci/run from internal/tools/jaeger) for tests: on loopback only, on free ports, with
// in-memory storage and the OTLP and Zipkin receivers, and reads traces back from its query API.
//
//	j := jaegertest.Start(t) // skips when the binary is missing, fails under CI=true
//	... export to j.OTLPURL() or j.ZipkinURL() ...
//	tr := j.WaitTrace(t, traceIDHex, 3)
package jaegertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// EnvBinary names the jaeger binary to run; by default it is $(go env GOPATH)/bin/jaeger, else
// jaeger on the PATH.
const EnvBinary = "TRACEMDC_JAEGER"

// Binary returns the path of the jaeger binary, or an error saying where it looked.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBinary, p, err)
		}
		return p, nil
	}
	var tried []string
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		p := filepath.Join(gp, "bin", "jaeger")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		tried = append(tried, p)
	}
	if p, err := exec.LookPath("jaeger"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no jaeger binary (looked at $%s, %s and the PATH); build it with the jaeger step of .ci/run",
		EnvBinary, strings.Join(tried, ", "))
}

// Jaeger is one running Jaeger process.
type Jaeger struct {
	t      testing.TB
	bin    string
	dir    string
	config string
	ports  ports
	cmd    *exec.Cmd
	waited chan struct{}
	log    string
	client *http.Client
	paused bool
}

type ports struct {
	otlpGRPC, otlpHTTP, zipkin, queryHTTP, queryGRPC, health int
}

// Start starts Jaeger and waits until its health check answers. It is stopped by pid when the test
// ends. Without the binary the test is skipped, or fails when the environment has CI=true: CI
// builds the binary, so a missing one there is a broken CI.
func Start(t testing.TB) *Jaeger {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("jaegertest: %v", err)
		}
		t.Skipf("jaegertest: %v", err)
	}
	j := &Jaeger{t: t, bin: bin, dir: t.TempDir(), client: &http.Client{Timeout: 10 * time.Second}}
	t.Cleanup(j.Stop)
	// A port taken between picking it and Jaeger binding it makes Jaeger exit: pick again.
	for attempt := 1; ; attempt++ {
		if err := j.pickPorts(); err != nil {
			t.Fatalf("jaegertest: %v", err)
		}
		err := j.start()
		if err == nil {
			return j
		}
		j.Stop()
		if attempt == 3 {
			t.Fatalf("jaegertest: %v\n%s", err, j.tail())
		}
		t.Logf("jaegertest: attempt %d: %v; trying other ports", attempt, err)
	}
}

func (j *Jaeger) pickPorts() error {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var got [6]int
	for i := range got {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		got[i] = l.Addr().(*net.TCPAddr).Port
	}
	j.ports = ports{got[0], got[1], got[2], got[3], got[4], got[5]}
	j.config = filepath.Join(j.dir, "jaeger.yaml")
	return os.WriteFile(j.config, []byte(j.yaml()), 0o644)
}

// yaml is the configuration: every listener on 127.0.0.1, memory storage, no self metrics nor
// self traces.
func (j *Jaeger) yaml() string {
	p := j.ports
	return fmt.Sprintf(`service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp, zipkin]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn

extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: 127.0.0.1:%d
  jaeger_query:
    # Jaeger traces its own queries by default, exporting them to localhost:4317: not here.
    enable_tracing: false
    storage:
      traces: memstore
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 100000

receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 127.0.0.1:%d
      http:
        endpoint: 127.0.0.1:%d
  zipkin:
    endpoint: 127.0.0.1:%d

exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`, p.health, p.queryHTTP, p.queryGRPC, p.otlpGRPC, p.otlpHTTP, p.zipkin)
}

// start runs the process and polls its health check.
func (j *Jaeger) start() error {
	j.log = filepath.Join(j.dir, "jaeger.log")
	out, err := os.OpenFile(j.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer out.Close()
	cmd := exec.Command(j.bin, "--config="+j.config)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = j.dir
	if err := cmd.Start(); err != nil {
		return err
	}
	j.cmd = cmd
	j.waited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(j.waited)
	}()
	started := time.Now()
	deadline := started.Add(60 * time.Second)
	for {
		if j.healthy() {
			j.t.Logf("jaegertest: healthy after %v", time.Since(started))
			return nil
		}
		select {
		case <-j.waited:
			return fmt.Errorf("jaeger exited before it was healthy: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return errors.New("jaeger not healthy after 60s")
		}
	}
}

func (j *Jaeger) healthy() bool {
	resp, err := j.client.Get(fmt.Sprintf("http://127.0.0.1:%d/status", j.ports.health))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st struct {
		Status string `json:"status"`
	}
	return resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&st) == nil && st.Status == "StatusOK"
}

// Stop stops the process by its pid (SIGTERM, then SIGKILL after 10 s) and waits for it. Stopping
// a stopped Jaeger does nothing. Its in-memory traces are lost.
func (j *Jaeger) Stop() {
	// Jaeger's graceful stop waits for open connections: close ours first.
	j.client.CloseIdleConnections()
	if j.cmd == nil {
		return
	}
	j.Resume() // a stopped process does not handle SIGTERM
	start := time.Now()
	defer func() { j.t.Logf("jaegertest: stopped in %v", time.Since(start)) }()
	_ = j.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-j.waited:
	case <-time.After(10 * time.Second):
		_ = j.cmd.Process.Kill()
		<-j.waited
	}
	j.cmd = nil
}

// Kill kills the process (SIGKILL), as a crash would, and waits for it. Its in-memory traces are
// lost; Restart brings it back.
func (j *Jaeger) Kill() {
	j.client.CloseIdleConnections()
	if j.cmd == nil {
		return
	}
	_ = j.cmd.Process.Kill()
	<-j.waited
	j.cmd = nil
}

// Pause stops the process with SIGSTOP: it keeps its sockets, so connections are accepted by the
// kernel and requests wait, unanswered: a stalled backend. Resume (or the end of the test) lets it
// go on.
func (j *Jaeger) Pause() {
	if j.cmd != nil {
		_ = j.cmd.Process.Signal(syscall.SIGSTOP)
		j.paused = true
	}
}

// Resume continues a paused process.
func (j *Jaeger) Resume() {
	if j.cmd != nil && j.paused {
		_ = j.cmd.Process.Signal(syscall.SIGCONT)
		j.paused = false
	}
}

// Restart starts Jaeger again on the same ports after Stop, and waits until it is healthy.
func (j *Jaeger) Restart() {
	j.t.Helper()
	j.Stop()
	for attempt := 1; ; attempt++ {
		err := j.start()
		if err == nil {
			return
		}
		j.Stop()
		if attempt == 3 { // the ports are the exporters': they cannot change
			j.t.Fatalf("jaegertest: restart: %v\n%s", err, j.tail())
		}
		time.Sleep(200 * time.Millisecond) // the old process's sockets are closing
	}
}

// tail returns the end of Jaeger's log.
func (j *Jaeger) tail() string {
	b, _ := os.ReadFile(j.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// OTLPURL returns the OTLP/HTTP traces URL (http://127.0.0.1:port/v1/traces).
func (j *Jaeger) OTLPURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/v1/traces", j.ports.otlpHTTP)
}

// OTLPBase returns the OTLP/HTTP base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it.
func (j *Jaeger) OTLPBase() string { return fmt.Sprintf("http://127.0.0.1:%d", j.ports.otlpHTTP) }

// ZipkinURL returns the Zipkin v2 spans URL (http://127.0.0.1:port/api/v2/spans).
func (j *Jaeger) ZipkinURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/api/v2/spans", j.ports.zipkin)
}

// QueryURL returns the base URL of the query API and UI.
func (j *Jaeger) QueryURL() string { return fmt.Sprintf("http://127.0.0.1:%d", j.ports.queryHTTP) }

// Trace is a trace as GET /api/traces/{id} returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

// Span is a span of a Trace.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"` // µs
	Duration      int64       `json:"duration"`  // µs
	Tags          []KeyValue  `json:"tags"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

// Reference links a span to another (CHILD_OF: its parent).
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// KeyValue is a tag.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Process is the service of spans.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// Parent returns the span id of the CHILD_OF reference, "" for a root.
func (s Span) Parent() string {
	for _, r := range s.References {
		if r.RefType == "CHILD_OF" {
			return r.SpanID
		}
	}
	return ""
}

// Tag returns the value of the tag key as text, and whether there is one.
func (s Span) Tag(key string) (string, bool) {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return fmt.Sprint(kv.Value), true
		}
	}
	return "", false
}

// Service returns the service name of a span of t.
func (t *Trace) Service(s Span) string { return t.Processes[s.ProcessID].ServiceName }

// ByID returns the span with the span id id.
func (t *Trace) ByID(id string) (Span, bool) {
	for _, s := range t.Spans {
		if s.SpanID == id {
			return s, true
		}
	}
	return Span{}, false
}

// ByOperation returns the spans named op.
func (t *Trace) ByOperation(op string) []Span {
	var out []Span
	for _, s := range t.Spans {
		if s.OperationName == op {
			out = append(out, s)
		}
	}
	return out
}

// Get asks GET /api/traces/{traceID} once: the trace, or nil when Jaeger has none of that id.
func (j *Jaeger) Get(ctx context.Context, traceID string) (*Trace, error) {
	body, err := j.get(ctx, "/api/traces/"+traceID)
	if body == nil || err != nil {
		return nil, err
	}
	var out struct {
		Data []Trace `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, fmt.Errorf("GET /api/traces/%s: %w", traceID, err)
	}
	if len(out.Data) == 0 {
		return nil, nil
	}
	if len(out.Data) > 1 {
		return nil, fmt.Errorf("GET /api/traces/%s: %d traces", traceID, len(out.Data))
	}
	return &out.Data[0], nil
}

// GetV3 asks GET /api/v3/traces/{traceID} once and returns the OTLP JSON answer as it is (nil when
// Jaeger has no trace of that id).
func (j *Jaeger) GetV3(ctx context.Context, traceID string) ([]byte, error) {
	return j.get(ctx, "/api/v3/traces/"+traceID)
}

// get asks the query API for path: the body of a 200 answer, nil for a 404.
func (j *Jaeger) get(ctx context.Context, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, j.QueryURL()+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := j.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return body, nil
	case http.StatusNotFound:
		return nil, nil
	}
	return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, bytes.TrimSpace(body))
}

// WaitTrace polls GET /api/traces/{traceID} until the trace has at least n spans and returns it;
// the test fails after 30 s. Spans reach the store asynchronously; polling, never sleeping a fixed
// time, keeps the test as quick as Jaeger is.
func (j *Jaeger) WaitTrace(t testing.TB, traceID string, n int) *Trace {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var last *Trace
	var lastErr error
	for {
		tr, err := j.Get(ctx, traceID)
		if err == nil && tr != nil && len(tr.Spans) >= n {
			return tr
		}
		if err != nil {
			lastErr = err
		}
		if tr != nil {
			last = tr
		}
		select {
		case <-ctx.Done():
			got := 0
			if last != nil {
				got = len(last.Spans)
			}
			t.Fatalf("jaegertest: trace %s: %d of %d spans after 30s (last error: %v)", traceID, got, n, lastErr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
