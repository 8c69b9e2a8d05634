// Package tracegrpc traces gRPC calls the way SOFARPC traces its own: a client span and a server span
// per call, the context carried in the call's metadata in SOFARPC's keys, SOFARPC's span ids (the
// server span keeps its caller's id), and one line per span in rpc-client-digest.log and
// rpc-server-digest.log in SOFARPC's layouts, with stat lines keyed by application, remote
// application, service and method. It is a module of its own, so that the main module does not
// require gRPC.
//
//	tracer := trace.New("inventory", trace.WithReporter(reporter)) // reporter: a digest.Reporter
//	srv := grpc.NewServer(tracegrpc.ServerOptions(tracer)...)
//	conn, err := grpc.NewClient(target, grpc.WithStatsHandler(tracegrpc.NewClientHandler(tracer,
//		tracegrpc.WithRemoteApp("stock"))))
//
// # Why a stats handler
//
// The handlers are gRPC stats.Handlers, as gRPC and OpenTelemetry's otelgrpc recommend over
// interceptors: one handler sees unary calls and all three kinds of streams, each attempt of a retried
// call, the bytes each message took on the wire (req.size, resp.size), the peer's addresses, and calls
// that fail before any interceptor runs (no address, a refused connection, an unknown method). What a
// stats handler cannot do is catch a handler's panic, which gRPC lets end the process, and tell the
// handler's own time from the call's; ServerOptions therefore adds two small interceptors for that
// (UnaryServerInterceptor, StreamServerInterceptor).
//
// # Metadata
//
// The server reads, in this order, SOFARPC's keys (sofa-traceid and sofa-rpcid, else tri-trace-traceid
// and tri-trace-rpcid; tri-trace-biz-baggage and tri-trace-sys-baggage; tri-trace-samp), W3C
// traceparent, tracestate and baggage, and SOFA's B3 names in lower case (x-b3-traceid, …); and
// tri-trace-current-app, the caller's application, as remote.app (cut to MaxRemoteAppLen bytes).
// Metadata it cannot use (a malformed id, baggage over the limits) never fails the call: it is handed
// to tracer.ReportError, which counts it (trace.Stats) and writes it to tracer-self.log, and the call
// starts a new root (or keeps the ids and drops the baggage). The client writes SOFARPC's keys
// (sofa-traceid and sofa-rpcid, which SOFARPC servers read first; the baggage; tri-trace-samp when
// unsampled; tri-trace-current-app) and, when the span has W3C ids (trace.W3CIDGenerator, or a trace
// a W3C peer started), traceparent and baggage too, so an otelgrpc peer continues the trace;
// WithPropagator changes what is read and written.
//
// # Span ids
//
// A server span keeps an rpcId-style caller span id, as SOFARPC does: client 0.1 → server 0.1, and
// the server's first call 0.1.1. A W3C caller's span id is unique per span in OpenTelemetry, so a
// server span continuing it is its child, with an id of its own. WithServerSpanMode decides for every
// caller instead.
//
// # Digest lines
//
// The digest reporter writes these spans in SOFARPC's layouts (digest.RPCClientEncoder,
// digest.RPCServerEncoder): timestamp, tracerId, spanId, span.kind, local.app, protocol ("grpc"),
// service and method (from the full method /package.Service/Method), current.thread.name,
// invoke.type (sync, client_stream, server_stream or bi_stream), remote.app, remote.ip (host:port),
// local.client.ip and local.client.port (client), result.code, resp.size and req.size (the messages'
// bytes on the wire, gRPC framing included), client.elapse.time (client: the whole call) or
// biz.impl.time (server: the handler, timed by the interceptors; without them the server's whole
// time for the call), then baggage (the biz baggage). gRPC does not tell how long serializing and
// deserializing took, nor how long connecting or a worker took, so req.serialize.time,
// resp.deserialize.time, resp.serialize.time, req.deserialize.time, client.conn.time and
// server.pool.wait.time are left out, as SOFARPC leaves out what it did not measure; so is
// router.record. A failed call's error text follows the documented keys as "error".
//
// # Result codes
//
// From the status the call ended with, the same on both sides (the client sees the server's status),
// by layout.GRPCResultCode, which otelmdc applies to OpenTelemetry's gRPC spans too:
//
//	OK                                                              00 success
//	DeadlineExceeded (the call's deadline, either side); on a       03 timeout
//	  server, Canceled within 20 ms of the call's deadline (the
//	  client gave up at its deadline)
//	Unavailable before any connection, name resolution gave no     04 routing
//	  address (client: "produced zero addresses", a resolver error)
//	Canceled, Unavailable, Internal, Unimplemented,                 02 RPC error
//	  ResourceExhausted, DataLoss; a handler panic (recovered by
//	  the interceptors as Internal)
//	any other status: Unknown (a handler's plain error),            01 business error
//	  InvalidArgument, NotFound, PermissionDenied, …
//
// Stat lines count 00 (and a blank code) as success, SOFARPC's rule.
package tracegrpc
