package tracegrpc

import (
	"context"
	"strings"

	"google.golang.org/grpc/metadata"

	"github.com/tracemdc/tracemdc/trace/propagation"
)

// lowerKey returns key in lower case, the spelling of gRPC metadata keys, without allocating for the
// names the propagators use.
func lowerKey(key string) string {
	switch key {
	case propagation.HeaderTraceparent:
		return "traceparent"
	case propagation.HeaderTracestate:
		return "tracestate"
	case propagation.HeaderBaggage:
		return "baggage"
	case propagation.HeaderB3TraceID:
		return "x-b3-traceid"
	case propagation.HeaderB3SpanID:
		return "x-b3-spanid"
	case propagation.HeaderB3ParentSpanID:
		return "x-b3-parentspanid"
	case propagation.HeaderB3Sampled:
		return "x-b3-sampled"
	case propagation.HeaderB3Single:
		return "b3"
	}
	return strings.ToLower(key) // no allocation for a key already in lower case
}

// incoming is the propagation.Carrier of the metadata a server received, read from the call's context
// one key at a time (metadata.ValueFromIncomingContext copies only the values asked for, where
// metadata.FromIncomingContext copies the whole map). It is read only.
type incoming struct{ ctx context.Context }

var _ propagation.ValuesCarrier = (*incoming)(nil)

// Get returns the first value of key.
func (c *incoming) Get(key string) string {
	if v := metadata.ValueFromIncomingContext(c.ctx, lowerKey(key)); len(v) > 0 {
		return v[0]
	}
	return ""
}

// Values returns all values of key.
func (c *incoming) Values(key string) []string {
	return metadata.ValueFromIncomingContext(c.ctx, lowerKey(key))
}

// Set does nothing: a server's inbound metadata is not written.
func (c *incoming) Set(string, string) {}

// Range calls f with every key and its first value.
func (c *incoming) Range(f func(key, value string) bool) {
	md, _ := metadata.FromIncomingContext(c.ctx)
	for k, v := range md {
		if len(v) > 0 && !f(k, v[0]) {
			return
		}
	}
}

// outgoing collects the key/value pairs a client adds to its call's metadata, with lower-case keys,
// for one metadata.AppendToOutgoingContext.
type outgoing struct {
	kv  []string // key, value, key, value…
	buf [16]string
}

var _ propagation.Carrier = (*outgoing)(nil)

// Get returns the value set for key.
func (c *outgoing) Get(key string) string {
	key = lowerKey(key)
	for i := 0; i+1 < len(c.kv); i += 2 {
		if c.kv[i] == key {
			return c.kv[i+1]
		}
	}
	return ""
}

// Set sets key to value, replacing a value set before.
func (c *outgoing) Set(key, value string) {
	key = lowerKey(key)
	for i := 0; i+1 < len(c.kv); i += 2 {
		if c.kv[i] == key {
			c.kv[i+1] = value
			return
		}
	}
	if c.kv == nil {
		c.kv = c.buf[:0]
	}
	c.kv = append(c.kv, key, value)
}

// Range calls f with every key and value set.
func (c *outgoing) Range(f func(key, value string) bool) {
	for i := 0; i+1 < len(c.kv); i += 2 {
		if !f(c.kv[i], c.kv[i+1]) {
			return
		}
	}
}

// contextKeys are the metadata keys that carry a span context in the formats DefaultPropagator reads.
var contextKeys = []string{
	propagation.TripleSofaTraceID, propagation.TripleSofaRpcID, propagation.TripleTraceID, propagation.TripleRpcID,
	propagation.TripleBizBaggage, propagation.TripleSysBaggage, propagation.TripleSampled, propagation.TripleCurrentApp,
	"traceparent", "tracestate", "baggage", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "b3",
}

// withMetadata returns the client call's context with the metadata st.out collected: appended to the
// call's outgoing metadata, or, when that already holds one of its keys (a proxy forwarding the
// metadata it received, metadata.NewOutgoingContext(ctx, incoming)), in place of every span context
// the outgoing metadata held, so that the server reads this call's span and not the caller's.
func (st *rpcState) withMetadata() context.Context {
	for i := 0; i < len(st.out.kv); i += 2 {
		if metadata.ValueFromOutgoingContext(st, st.out.kv[i]) == nil {
			continue
		}
		md, _ := metadata.FromOutgoingContext(st)
		for _, k := range contextKeys {
			delete(md, k)
		}
		for i := 0; i < len(st.out.kv); i += 2 {
			md.Set(st.out.kv[i], st.out.kv[i+1])
		}
		return metadata.NewOutgoingContext(st, md)
	}
	return metadata.AppendToOutgoingContext(st, st.out.kv...)
}

// asciiValue returns s as a metadata value gRPC accepts (printable ASCII): s itself when it is one,
// else s with '%' and every byte outside printable ASCII written %XX.
func asciiValue(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x7e {
		i++
	}
	if i == len(s) {
		return s
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
