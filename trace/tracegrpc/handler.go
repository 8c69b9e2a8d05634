package tracegrpc

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// handler is the stats.Handler of one side.
type handler struct {
	tracer *trace.Tracer
	cfg    config
	client bool
	app    string                   // client: the tracer's application as a metadata value
	peers  atomic.Pointer[peerSeen] // client: the addresses of the last call, rendered
}

var _ stats.Handler = (*handler)(nil)

// NewServerHandler returns a gRPC stats.Handler that traces every call a server handles with tracer:
//
//	srv := grpc.NewServer(grpc.StatsHandler(tracegrpc.NewServerHandler(tracer)))
//
// ServerOptions adds the interceptors that recover a handler's panic and time the handler itself;
// prefer it. For each call the handler reads the caller's span context from the metadata (see
// DefaultPropagator; a malformed one is handed to tracer.ReportError, which counts and self-logs it, and
// the call starts a new root), starts a server span (log type rpc-server, kind server, named by the
// full method), and serves the call with a context carrying the span and its ids in the MDC, so log
// lines written in the handler show them and calls it makes with that context are the span's
// children. When the call ends it records what the rpc-server digest line shows (see the package
// documentation) and finishes the span.
func NewServerHandler(tracer *trace.Tracer, opts ...Option) stats.Handler {
	return &handler{tracer: tracer, cfg: newConfig(tracer, opts)}
}

// NewClientHandler returns a gRPC stats.Handler that traces every call a client makes with tracer:
//
//	conn, err := grpc.NewClient(target, grpc.WithStatsHandler(tracegrpc.NewClientHandler(tracer)))
//
// For each call (each attempt, when gRPC retries) it starts a client span (log type rpc-client, kind
// client, named by the full method) as a child of the span of the call's context, writes its context
// and the tracer's application name (tri-trace-current-app) into the call's metadata, and when the
// call ends records what the rpc-client digest line shows and finishes the span. The caller's context
// is not changed: log lines after the call show the caller's own ids.
func NewClientHandler(tracer *trace.Tracer, opts ...Option) stats.Handler {
	h := &handler{tracer: tracer, cfg: newConfig(tracer, opts), client: true}
	h.app = asciiValue(tracer.App())
	return h
}

// Flag bits of rpcState.flags. The low two bits hold the invoke type (see invokeTypes).
const (
	flagInvokeSet = 1 << (2 + iota) // Begin seen (the invoke type is set)
	flagSent                        // client: the request header went out (the call had a transport)
	flagPanicked                    // server: the handler panicked (its error is the span's)
	flagFinished                    // the span is finished
	flagReceived                    // client: a response message came
)

var invokeTypes = [4]string{layout.InvokeSync, layout.InvokeClientStream, layout.InvokeServerStream, layout.InvokeBiStream}

// stateKey is the context key of an rpcState.
type stateKey struct{}

// rpcState is one traced call: the context the handler's TagRPC returns, with the span in it and what
// the stats events measured. Events of one call may come from several goroutines (a stream's sends
// and receives), so what they write is atomic.
type rpcState struct {
	context.Context // the context Start returned: the span, its ids in the MDC
	h               *handler
	span            *trace.Span
	remoteApp       string
	peer            atomic.Pointer[peerInfo]
	reqSize         atomic.Int64
	respSize        atomic.Int64
	bizNanos        atomic.Int64 // server: the handler's time, when the interceptor measured it
	flags           atomic.Uint32
	in              incoming // server: the carrier over the call's metadata
	out             outgoing // client: the metadata the call gets
}

// Value returns the state for stateKey and asks the span's context for any other key.
func (st *rpcState) Value(key any) any {
	if _, ok := key.(stateKey); ok {
		return st
	}
	return st.Context.Value(key)
}

// stateOf returns the state of the call ctx belongs to, nil when it is not traced.
func stateOf(ctx context.Context) *rpcState {
	st, _ := ctx.Value(stateKey{}).(*rpcState)
	return st
}

// peerInfo is the rendered addresses of a connection.
type peerInfo struct {
	remote    string // host:port
	localIP   string
	localPort int64
}

func newPeerInfo(remote, local net.Addr) *peerInfo {
	p := &peerInfo{}
	if remote != nil {
		p.remote = remote.String()
	}
	switch a := local.(type) {
	case nil:
	case *net.TCPAddr:
		p.localIP, p.localPort = a.IP.String(), int64(a.Port)
	default:
		host, port, err := net.SplitHostPort(a.String())
		if err != nil {
			host, port = a.String(), "0"
		}
		p.localIP = host
		p.localPort, _ = strconv.ParseInt(port, 10, 64)
	}
	return p
}

// peerSeen is the client's last rendered pair of addresses: a client mostly calls over the same
// connections, whose address values gRPC passes again and again.
type peerSeen struct {
	remote, local net.Addr
	info          *peerInfo
}

// cacheable reports whether a is an address value that can be compared with ==.
func cacheable(a net.Addr) bool { return a != nil && reflect.TypeOf(a).Comparable() }

func (h *handler) clientPeer(remote, local net.Addr) *peerInfo {
	if c := h.peers.Load(); c != nil && cacheable(remote) && cacheable(local) && c.remote == remote && c.local == local {
		return c.info
	}
	p := newPeerInfo(remote, local)
	if cacheable(remote) && cacheable(local) {
		h.peers.Store(&peerSeen{remote: remote, local: local, info: p})
	}
	return p
}

// connKey is the context key of a server connection's peerInfo.
type connKey struct{}

// TagConn renders a server connection's addresses once for all its calls.
func (h *handler) TagConn(ctx context.Context, info *stats.ConnTagInfo) context.Context {
	if h.client || info == nil {
		return ctx
	}
	return context.WithValue(ctx, connKey{}, newPeerInfo(info.RemoteAddr, nil))
}

// HandleConn does nothing.
func (h *handler) HandleConn(context.Context, stats.ConnStats) {}

// TagRPC starts the span of a call.
func (h *handler) TagRPC(ctx context.Context, info *stats.RPCTagInfo) context.Context {
	if h.tracer == nil || info == nil || (h.cfg.filter != nil && !h.cfg.filter(info.FullMethodName)) {
		return ctx
	}
	st := &rpcState{h: h}
	st.bizNanos.Store(-1)
	if h.client {
		st.remoteApp = h.cfg.remoteApp
		st.Context, st.span = h.tracer.Start(ctx, info.FullMethodName, trace.WithKind(trace.KindClient), trace.WithLogType(LogTypeClient))
		if err := h.cfg.prop.Inject(st.Context, st.span.Context(), &st.out); err != nil {
			h.tracer.ReportError(err)
		}
		if h.app != "" {
			st.out.Set(propagation.TripleCurrentApp, h.app)
		}
		return st.withMetadata()
	}
	st.in.ctx = ctx
	ctx, remote, err := h.cfg.prop.Extract(ctx, &st.in)
	if err != nil {
		h.tracer.ReportError(err)
	}
	mode := trace.ServerSpanKeep
	if h.cfg.modeSet {
		mode = h.cfg.mode
	} else if !layout.IsRPCID(remote.SpanID()) {
		mode = trace.ServerSpanChild
	}
	if app := st.in.Get(propagation.TripleCurrentApp); len(app) > MaxRemoteAppLen {
		st.remoteApp = strings.Clone(app[:MaxRemoteAppLen]) // not the whole value, kept until the line is written
	} else {
		st.remoteApp = app
	}
	st.in.ctx = nil
	if p, ok := ctx.Value(connKey{}).(*peerInfo); ok {
		st.peer.Store(p)
	}
	st.Context, st.span = h.tracer.Start(ctx, info.FullMethodName, trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeServer),
		trace.WithRemoteParent(remote), trace.WithServerSpanMode(mode))
	return st
}

// HandleRPC records what the events of a call measure and finishes its span at the end.
func (h *handler) HandleRPC(ctx context.Context, rs stats.RPCStats) {
	st := stateOf(ctx)
	if st == nil || st.h != h { // not traced, or the state of an enclosing call of another handler
		return
	}
	switch rs := rs.(type) {
	case *stats.Begin:
		i := uint32(0)
		if rs.IsClientStream {
			i |= 1
		}
		if rs.IsServerStream {
			i |= 2
		}
		st.flags.Or(flagInvokeSet | i)
	case *stats.OutHeader:
		if h.client {
			st.peer.Store(h.clientPeer(rs.RemoteAddr, rs.LocalAddr))
			st.flags.Or(flagSent)
		}
	case *stats.InHeader:
		if !h.client && st.peer.Load() == nil {
			st.peer.Store(newPeerInfo(rs.RemoteAddr, nil))
		}
	case *stats.InPayload:
		if h.client {
			st.respSize.Add(int64(rs.WireLength))
			st.flags.Or(flagReceived)
		} else {
			st.reqSize.Add(int64(rs.WireLength))
		}
	case *stats.OutPayload:
		if h.client {
			st.reqSize.Add(int64(rs.WireLength))
		} else {
			st.respSize.Add(int64(rs.WireLength))
		}
	case *stats.OutTrailer:
		if !h.client && st.flags.Load()&flagInvokeSet == 0 {
			// The status of a call that reached no handler: gRPC knew neither its service nor its method,
			// and sends no End for it.
			h.finish(st, errUnknownMethod, 0)
		}
	case *stats.End:
		h.finish(st, rs.Error, rs.EndTime.Sub(rs.BeginTime))
	}
}

// deadlineSlack is how close to its deadline a cancelled server call counts as timed out.
const deadlineSlack = 20 * time.Millisecond

// atDeadline reports whether the call's deadline has passed or is less than deadlineSlack away.
func atDeadline(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return ok && time.Until(d) < deadlineSlack
}

// Errors of calls gRPC gives no error for.
var (
	// errUnknownMethod: a server's call to a method it does not have.
	errUnknownMethod = errors.New("rpc error: code = Unimplemented desc = unknown service or method")
	// errNoResponse: a client's call that got a status but not its one response message.
	errNoResponse = errors.New("the server ended the call without a response (gRPC gave no status for this attempt)")
)

// finish records the call's tags, result code and error, and finishes its span. elapsed is the
// server's whole time for the call, biz.impl.time when the interceptor did not time the handler.
func (h *handler) finish(st *rpcState, err error, elapsed time.Duration) {
	f := st.flags.Or(flagFinished)
	if f&flagFinished != 0 {
		return
	}
	if err == nil && h.client && f&flagInvokeSet != 0 && f&2 == 0 && f&flagReceived == 0 {
		// A call whose response is one message ended without it: gRPC reports such an attempt with no
		// error when the server's status came before the request was written (an unknown method, say).
		err = errNoResponse
	}
	code := resultCode(err, h.client && f&flagSent == 0)
	switch {
	case err == errUnknownMethod || err == errNoResponse:
		code = CodeRPCError
	case !h.client && code == CodeRPCError && status.Code(err) == codes.Canceled && atDeadline(st):
		// The client gave up when its deadline passed and cancelled the call: its RST_STREAM often
		// reaches the server before the server's own timer for the same deadline fires.
		code = CodeTimeout
	}
	invoke := layout.InvokeSync
	if f&flagInvokeSet != 0 {
		invoke = invokeTypes[f&3]
	}
	var buf [9]trace.Tag
	tags := append(buf[:0], trace.String(layout.FieldProtocol, layout.ProtocolGRPC), trace.String(layout.FieldInvokeType, invoke),
		trace.String(layout.FieldRemoteApp, st.remoteApp))
	if p := st.peer.Load(); p != nil {
		tags = append(tags, trace.String(layout.FieldRemoteIP, p.remote))
		if h.client {
			tags = append(tags, trace.String(layout.FieldLocalClientIP, p.localIP), trace.Int64(layout.FieldLocalClientPort, p.localPort))
		}
	}
	tags = append(tags, trace.Int64(layout.FieldRPCReqSize, st.reqSize.Load()), trace.Int64(layout.FieldRPCRespSize, st.respSize.Load()))
	if !h.client {
		biz := time.Duration(st.bizNanos.Load())
		if biz < 0 {
			biz = elapsed
		}
		tags = append(tags, trace.Int64(layout.FieldBizImplTime, biz.Milliseconds()))
	}
	st.span.SetTags(tags...)
	if err != nil && code != CodeSuccess && f&flagPanicked == 0 {
		st.span.SetError(err)
	}
	st.span.SetResultCode(code)
	st.span.Finish()
}
