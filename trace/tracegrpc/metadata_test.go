package tracegrpc_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/protobuf/proto"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/tracegrpc"
)

const sofaVectorTrace = "0a0fe9071584361415996100161966"

// TestFixedVector: metadata sofa-traceid 0a0fe9071584361415996100161966 and sofa-rpcid 0.1, as a SOFARPC
// client sends them, give a server span with that trace id and span id 0.1 (parent 0); its digest line
// parses back through tracetail itself (the command, run with go run), which lists it.
func TestFixedVector(t *testing.T) {
	srv := newApp(t, "grpc-server")
	var got trace.SpanContext
	addr, stop := serve(t, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
		got = trace.SpanFromContext(ctx).Context()
		return &testpb.SimpleResponse{}, nil
	}}, tracegrpc.ServerOptions(srv.tracer)...)
	client, closeConn := dial(t, addr) // a client without tracemdc: the metadata is all there is
	ctx := metadata.AppendToOutgoingContext(context.Background(), "sofa-traceid", sofaVectorTrace, "sofa-rpcid", "0.1",
		"tri-trace-current-app", "grpc-client")
	if _, err := client.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	closeConn()
	stop()
	srv.close(t)
	if got.TraceID() != sofaVectorTrace || got.SpanID() != "0.1" || got.ParentID() != "0" || !got.Sampled() {
		t.Fatalf("span %+v", got)
	}
	r := one(t, srv, layout.LogTypeRPCServer)
	if app, _ := r.Get(layout.FieldRemoteApp); r.TraceID != sofaVectorTrace || r.SpanID != "0.1" || r.Kind != "server" || app != "grpc-client" {
		t.Fatalf("line %s", r.Raw)
	}
	out, err := exec.Command("go", "run", "github.com/tracemdc/tracemdc/cmd/tracetail", "-tz", "UTC", "-trace", sofaVectorTrace,
		layout.DigestDir(srv.root)).CombinedOutput()
	if err != nil {
		t.Fatalf("tracetail: %v\n%s", err, out)
	}
	listed := false
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 9 && f[4] == sofaVectorTrace {
			listed = f[2] == "grpc-server" && f[3] == "rpc-server" && f[5] == "0.1" && f[6] == "00" && f[8] == "grpc.testing.TestService/UnaryCall"
		}
	}
	if !listed {
		t.Fatalf("tracetail printed %q", out)
	}
}

// TestBadMetadata: a malformed id never fails the call: the server span starts a new root, the error
// is counted in the tracer's stats and written to tracer-self.log.
func TestBadMetadata(t *testing.T) {
	srv := newApp(t, "srv")
	var got trace.SpanContext
	addr, stop := serve(t, &service{unary: func(ctx context.Context, in *testpb.SimpleRequest) (*testpb.SimpleResponse, error) {
		got = trace.SpanFromContext(ctx).Context()
		return &testpb.SimpleResponse{}, nil
	}}, tracegrpc.ServerOptions(srv.tracer)...)
	client, closeConn := dial(t, addr)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "sofa-traceid", `x","tracerId":"forged`, "sofa-rpcid", "0.1")
	if _, err := client.UnaryCall(ctx, &testpb.SimpleRequest{}); err != nil {
		t.Fatal(err)
	}
	closeConn()
	stop()
	srv.close(t)
	if !got.IsValid() || got.SpanID() != "0" || strings.Contains(got.TraceID(), "forged") {
		t.Fatalf("span %+v, want a new root", got)
	}
	if st := srv.tracer.Stats(); st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}
	self, _ := os.ReadFile(filepath.Join(layout.DigestDir(srv.root), layout.SelfLogName))
	if !strings.Contains(string(self), "triple") || !strings.Contains(string(self), "sofa-traceid") {
		t.Fatalf("tracer-self.log:\n%s", self)
	}
	if r := one(t, srv, layout.LogTypeRPCServer); r.TraceID != got.TraceID() {
		t.Fatalf("line %s", r.Raw)
	}
}

// rawCall makes one unary call to /grpc.testing.TestService/UnaryCall over a plain HTTP/2 connection,
// with headers as given: the bytes a non-Go peer could send (gRPC's Go client refuses to send values
// that are not printable ASCII, the server does not check them). It returns the grpc-status.
func rawCall(t *testing.T, addr string, headers [][2]string) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(conn, conn)
	fr.ReadMetaHeaders = hpack.NewDecoder(1<<20, nil)
	fr.MaxHeaderListSize = 1 << 20
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	for _, h := range append([][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/grpc.testing.TestService/UnaryCall"},
		{":authority", addr}, {"content-type", "application/grpc"}, {"te", "trailers"}}, headers...) {
		if err := enc.WriteField(hpack.HeaderField{Name: h[0], Value: h[1]}); err != nil {
			t.Fatal(err)
		}
	}
	block := hb.Bytes()
	const frameMax = 16 << 10
	first := block[:min(len(block), frameMax)]
	if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: first, EndHeaders: len(block) <= frameMax}); err != nil {
		t.Fatal(err)
	}
	for rest := block[len(first):]; len(rest) > 0; {
		n := min(len(rest), frameMax)
		if err := fr.WriteContinuation(1, n == len(rest), rest[:n]); err != nil {
			t.Fatal(err)
		}
		rest = rest[n:]
	}
	msg, _ := proto.Marshal(&testpb.SimpleRequest{Payload: &testpb.Payload{Body: []byte("hi")}})
	data := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
	if err := fr.WriteData(1, true, append(data, msg...)); err != nil {
		t.Fatal(err)
	}
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				_ = fr.WriteSettingsAck()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				_ = fr.WritePing(true, f.Data)
			}
		case *http2.RSTStreamFrame:
			t.Fatalf("stream reset: %v", f.ErrCode)
		case *http2.GoAwayFrame:
			t.Fatalf("connection refused: %v", f.ErrCode)
		case *http2.MetaHeadersFrame:
			if f.StreamEnded() {
				for _, hf := range f.RegularFields() {
					if hf.Name == "grpc-status" {
						return hf.Value
					}
				}
				return "(no grpc-status)"
			}
		}
	}
}

// validPerByte is what the digest writer makes of s: every byte of invalid UTF-8 written as U+FFFD.
func validPerByte(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// TestHostileMetadata: metadata a hostile peer sends — huge values, invalid UTF-8, forged JSON
// fragments in ids, the caller's application and baggage — never breaks a digest line or a call: each
// call is served and written as exactly one valid JSON line, remote.app is the caller's value cut to
// MaxRemoteAppLen (invalid UTF-8 replaced), a forged id starts a new root and is counted.
func TestHostileMetadata(t *testing.T) {
	srv := newApp(t, "srv")
	addr, stop := serve(t, &service{}, tracegrpc.ServerOptions(srv.tracer)...)
	forgedJSON := `x","spanId":"forged"},{"tracerId":"y`
	huge := strings.Repeat("a\"\\", 40000)
	cases := [][][2]string{
		{{"sofa-traceid", sofaVectorTrace}, {"sofa-rpcid", "0.1"}, {"tri-trace-current-app", forgedJSON}},
		{{"sofa-traceid", sofaVectorTrace}, {"sofa-rpcid", "0.2"}, {"tri-trace-current-app", "app\xff\xfe\xc3(" + strings.Repeat("é", 200)}},
		{{"sofa-traceid", forgedJSON}, {"sofa-rpcid", "0.3"}, {"tri-trace-current-app", huge}},
		{{"sofa-traceid", sofaVectorTrace}, {"sofa-rpcid", `0.4"}`}},
		{{"sofa-traceid", sofaVectorTrace}, {"sofa-rpcid", "0.5"}, {"tri-trace-biz-baggage", "k=\xff\"}{&mark=T&" + strings.Repeat("b=c&", 20000)},
			{"tri-trace-sys-baggage", huge}},
		{{"traceparent", "00-" + strings.Repeat("\xff", 32) + "-" + strings.Repeat("0", 16) + "-01"}, {"baggage", huge}},
		{{"x-b3-traceid", forgedJSON}, {"x-b3-spanid", "0.7"}, {"baggage-user", "\xff\xfe"}},
	}
	for i, hs := range cases {
		if s := rawCall(t, addr, hs); s != "0" {
			t.Fatalf("case %d: grpc-status %q", i, s)
		}
	}
	stop()
	srv.close(t)
	recs := srv.records(t, layout.LogTypeRPCServer, false)
	shadow := srv.records(t, layout.LogTypeRPCServer, true) // case 4 carries the load-test mark
	if len(recs)+len(shadow) != len(cases) || len(shadow) != 1 {
		t.Fatalf("%d + %d lines for %d calls", len(recs), len(shadow), len(cases))
	}
	wantApp := map[string]string{"0.1": forgedJSON, "0.2": validPerByte(("app\xff\xfe\xc3(" + strings.Repeat("é", 200))[:tracegrpc.MaxRemoteAppLen])}
	for _, r := range append(recs, shadow...) {
		if want, ok := wantApp[r.SpanID]; ok {
			if app, _ := r.Get(layout.FieldRemoteApp); app != want || r.TraceID != sofaVectorTrace {
				t.Errorf("span %s: remote.app %q, want %q (%s)", r.SpanID, app, want, r.Raw)
			}
		}
		if strings.Contains(r.TraceID, "forged") || strings.Contains(r.SpanID, "forged") {
			t.Errorf("forged id written: %s", r.Raw)
		}
		if app, _ := r.Get(layout.FieldRemoteApp); len(app) > 3*tracegrpc.MaxRemoteAppLen {
			t.Errorf("remote.app of %d bytes", len(app))
		}
	}
	if st := srv.tracer.Stats(); st.Errors < 4 || st.BaggageRefused == 0 {
		t.Errorf("stats %+v: want the bad ids and the dropped baggage counted", st)
	}
}

// FuzzExtractMetadata: whatever metadata a call brings, the server handler never panics, the span it
// starts has safe ids (the inbound ones when valid, else a new root), and its digest line (unless the
// caller said the trace is not sampled) is exactly one valid JSON line whose tracerId and spanId are
// the span's. The error text of the call is fuzzed too.
func FuzzExtractMetadata(f *testing.F) {
	f.Add("sofa-traceid", sofaVectorTrace, "sofa-rpcid", "0.1", "tri-trace-current-app", "grpc-client", "tri-trace-biz-baggage", "mark=T&k=v&")
	f.Add("tri-trace-traceid", "b2", "tri-trace-rpcid", "0.3", "tri-trace-sys-baggage", "zone=gz", "tri-trace-samp", "false")
	f.Add("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "baggage", "user=J%C3%B6rg", "tracestate", "a=b", "x", "y")
	f.Add("x-b3-traceid", `x","a":"`, "x-b3-spanid", "0.1\n", "baggage-mark", "T", "tri-trace-current-app", "\xff\xfe\"}")
	f.Add("sofa-traceid", "a", "SOFA-RPCID", strings.Repeat("1.", 300), "tri-trace-biz-baggage", strings.Repeat("k=v&", 3000), "b3", "a-b-1")
	var out lineBuffer
	tracer, rep := fuzzTracer(f, &out)
	h := tracegrpc.NewServerHandler(tracer)
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3, k4, v4 string) {
		md := metadata.MD{}
		for _, kv := range [][2]string{{k1, v1}, {k2, v2}, {k3, v3}, {k4, v4}} {
			md[strings.ToLower(kv[0])] = append(md[strings.ToLower(kv[0])], kv[1])
		}
		out.take()
		ctx := h.TagRPC(metadata.NewIncomingContext(context.Background(), md), &stats.RPCTagInfo{FullMethodName: "/fuzz.Service/" + k1})
		s := trace.SpanFromContext(ctx)
		if !s.Context().IsValid() {
			t.Fatal("no span")
		}
		for _, id := range []string{s.TraceID(), s.SpanID(), s.ParentID()} {
			if strings.ContainsFunc(id, func(r rune) bool {
				return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '_' || r == '-')
			}) {
				t.Fatalf("unsafe id %q", id)
			}
		}
		now := time.Now()
		h.HandleRPC(ctx, &stats.Begin{BeginTime: now})
		h.HandleRPC(ctx, &stats.End{BeginTime: now, EndTime: now, Error: errors.New(v1)})
		rep.Flush()
		lines := out.take()
		if !s.Sampled() { // tri-trace-samp: false
			if len(lines) != 0 {
				t.Fatalf("digest line of an unsampled span: %q", lines)
			}
			return
		}
		if len(lines) != 1 || !json.Valid([]byte(lines[0])) || strings.ContainsAny(lines[0], "\n\r") {
			t.Fatalf("%d lines: %q", len(lines), lines)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(lines[0]), &m)
		if m["tracerId"] != s.TraceID() || m["spanId"] != s.SpanID() {
			t.Fatalf("line %s for span %s %s", lines[0], s.TraceID(), s.SpanID())
		}
	})
}

// fuzzTracer returns a tracer whose digest reporter writes its lines to out only.
func fuzzTracer(f *testing.F, out io.Writer) (*trace.Tracer, *digest.Reporter) {
	rep, err := digest.New(digest.Config{Output: out, OutputOnly: true, Policy: digest.Block, StatInterval: -1})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = rep.Close() })
	return trace.New("fuzz", trace.WithReporter(rep)), rep
}

// lineBuffer keeps the digest lines a reporter writes to its Output (the self-log lines, written by
// another goroutine at any time, are left out).
type lineBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	if l := strings.TrimSuffix(string(p), "\n"); strings.HasPrefix(l, `{"log.kind":"digest"`) {
		b.mu.Lock()
		b.lines = append(b.lines, l)
		b.mu.Unlock()
	}
	return len(p), nil
}

func (b *lineBuffer) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.lines
	b.lines = nil
	return l
}
