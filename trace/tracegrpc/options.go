package tracegrpc

import (
	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// Log types of the spans this package starts: the digest file families rpc-client-digest.log and
// rpc-server-digest.log, which the digest reporter writes in SOFARPC's layouts.
const (
	LogTypeClient = layout.LogTypeRPCClient
	LogTypeServer = layout.LogTypeRPCServer
)

// MaxRemoteAppLen is the longest caller application name (tri-trace-current-app) a server keeps for
// remote.app; a longer one is cut.
const MaxRemoteAppLen = 256

// Option configures NewServerHandler, NewClientHandler and ServerOptions.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	prop      propagation.Propagator
	filter    func(fullMethod string) bool
	mode      trace.ServerSpanMode
	modeSet   bool
	remoteApp string
}

func newConfig(t *trace.Tracer, opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if c.prop == nil {
		c.prop = DefaultPropagator(t)
	}
	return c
}

// DefaultPropagator returns the propagator the handlers use unless WithPropagator says otherwise, with
// the tracer's baggage limits: SOFARPC's metadata (propagation.Triple), then W3C traceparent, tracestate
// and baggage, then SOFA's B3 names in lower case on extract; Triple, plus W3C when the span has W3C
// ids, on inject.
func DefaultPropagator(t *trace.Tracer) propagation.Propagator {
	lim := propagation.WithBaggageLimits(t.BaggageLimits())
	return propagation.Composite(propagation.Triple(lim), propagation.W3C(lim), propagation.B3(lim, propagation.ExtractOnly()))
}

// WithPropagator sets the propagator that reads (server) and writes (client) the span context in the
// call's metadata. Its Carrier's keys are lower case, as gRPC requires: write W3C only with
// propagation.W3C(), SOFA only with propagation.Triple().
func WithPropagator(p propagation.Propagator) Option {
	return optionFunc(func(c *config) { c.prop = p })
}

// WithFilter decides per call whether it is traced, by its full method name ("/package.Service/Method"):
// a call for which f returns false gets no span and no metadata. Use it for health checks.
func WithFilter(f func(fullMethod string) bool) Option {
	return optionFunc(func(c *config) { c.filter = f })
}

// WithServerSpanMode sets the span id of a server span that continues a caller's trace. By default a
// server span keeps an rpcId-style caller span id, as SOFARPC does (client 0.1 → server 0.1, whose
// first call is 0.1.1), and is a child of any other (a W3C caller's span id 00f067aa0ba902b7 →
// a new id with that parent), since W3C and OpenTelemetry peers need every span id to be unique.
// trace.ServerSpanKeep or trace.ServerSpanChild here applies to every caller.
func WithServerSpanMode(m trace.ServerSpanMode) Option {
	return optionFunc(func(c *config) { c.mode, c.modeSet = m, true })
}

// WithRemoteApp sets the remote.app of a client's spans: the application it calls, which gRPC cannot
// know. Without it remote.app is empty.
func WithRemoteApp(app string) Option {
	return optionFunc(func(c *config) { c.remoteApp = app })
}
