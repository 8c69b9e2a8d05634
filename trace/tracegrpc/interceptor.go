package tracegrpc

import (
	"context"
	"runtime/debug"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tracemdc/tracemdc/trace"
)

// ServerOptions returns what a traced server needs: the stats handler of NewServerHandler and the
// interceptors UnaryServerInterceptor and StreamServerInterceptor, chained before the server's own.
//
//	srv := grpc.NewServer(tracegrpc.ServerOptions(tracer)...)
//	srv := grpc.NewServer(append(tracegrpc.ServerOptions(tracer), grpc.MaxRecvMsgSize(1<<20))...)
func ServerOptions(tracer *trace.Tracer, opts ...Option) []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.StatsHandler(NewServerHandler(tracer, opts...)),
		grpc.ChainUnaryInterceptor(UnaryServerInterceptor(tracer)),
		grpc.ChainStreamInterceptor(StreamServerInterceptor(tracer)),
	}
}

// ErrHandlerPanicked is the message of the codes.Internal status a call gets when its handler
// panicked and the interceptor recovered the panic.
const ErrHandlerPanicked = "tracegrpc: the handler panicked"

// UnaryServerInterceptor returns an interceptor that times the handler of a unary call
// (biz.impl.time; without it a server span shows the whole server-side time of the call) and recovers
// a panic of the handler: the call ends with codes.Internal and ErrHandlerPanicked (the panic value
// is not sent to the client), the span gets the panic as its error and result code 02, and the panic
// with its stack goes to tracer.ReportError (tracer-self.log). Without a recovering interceptor a
// handler panic ends the process, as gRPC does not recover it.
func UnaryServerInterceptor(tracer *trace.Tracer) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		st := stateOf(ctx)
		start := time.Now()
		defer func() {
			if st != nil {
				st.bizNanos.Store(int64(time.Since(start)))
			}
			if p := recover(); p != nil {
				resp, err = nil, recovered(tracer, st, info.FullMethod, p)
			}
		}()
		return handler(ctx, req)
	}
}

// StreamServerInterceptor is UnaryServerInterceptor for streaming calls: it times the handler and
// recovers its panic.
func StreamServerInterceptor(tracer *trace.Tracer) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
		st := stateOf(ss.Context())
		start := time.Now()
		defer func() {
			if st != nil {
				st.bizNanos.Store(int64(time.Since(start)))
			}
			if p := recover(); p != nil {
				err = recovered(tracer, st, info.FullMethod, p)
			}
		}()
		return handler(srv, ss)
	}
}

// recovered records a handler's panic and returns the status the call ends with.
func recovered(tracer *trace.Tracer, st *rpcState, method string, p any) error {
	pe := &trace.PanicError{Hook: "grpc handler " + method, Value: p, Stack: debug.Stack()}
	if st != nil {
		st.flags.Or(flagPanicked)
		st.span.SetError(pe)
		if tracer == nil {
			tracer = st.h.tracer
		}
	}
	tracer.ReportError(pe) // a nil tracer ignores it
	return status.Error(codes.Internal, ErrHandlerPanicked)
}
