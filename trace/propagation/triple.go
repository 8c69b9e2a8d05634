package propagation

import (
	"context"
	"strings"

	"github.com/tracemdc/tracemdc/trace"
)

// Metadata keys of SOFARPC's triple protocol (gRPC), in lower case as gRPC sends them.
const (
	TripleSofaTraceID = "sofa-traceid"          // the trace id, read first
	TripleSofaRpcID   = "sofa-rpcid"            // the span id (rpcId), read first
	TripleTraceID     = "tri-trace-traceid"     // the trace id, read when sofa-traceid is absent
	TripleRpcID       = "tri-trace-rpcid"       // the span id, read when sofa-rpcid is absent
	TripleBizBaggage  = "tri-trace-biz-baggage" // biz baggage serialized as in sftc_head: k=v&k=v&
	TripleSysBaggage  = "tri-trace-sys-baggage" // sys baggage, the same way
	TripleSampled     = "tri-trace-samp"        // the sampled flag, true or false
	// TripleCurrentApp carries the caller's application name, the server's remote.app. It is not part
	// of the span context: the gRPC integration writes and reads it.
	TripleCurrentApp = "tri-trace-current-app"
)

// Triple is SOFARPC's format for gRPC (its triple protocol): the trace id in sofa-traceid (or
// tri-trace-traceid), the span id in sofa-rpcid (or tri-trace-rpcid), biz and sys baggage serialized as in
// sftc_head (k=v&k=v&, escaped with EscapeSOFA) in tri-trace-biz-baggage and tri-trace-sys-baggage,
// and the sampled flag in tri-trace-samp. Its keys are lower case, as gRPC metadata requires; a
// carrier matches them in any case.
//
// Extract reads sofa-traceid and sofa-rpcid, else tri-trace-traceid and tri-trace-rpcid, as SOFARPC
// does. A span id without a trace id is ErrMissingID; a trace id without a span id takes "0" (as in
// sftc_head). The parent id is derived from an rpcId-style span id ("0.1.1" → "0.1"). tri-trace-samp
// absent means sampled (SOFARPC's default); one that is not true, false, 1 or 0 is ignored and
// reported with ErrSampledIgnored. Baggage over the limits is dropped and reported (see Propagator),
// and only the entries within the first 8192 bytes of each baggage value are parsed.
//
// Inject writes the ids as sofa-traceid and sofa-rpcid only: every SOFARPC triple server, since the first
// (2020), reads them before tri-trace-traceid and tri-trace-rpcid, which a SOFARPC client also sends
// with the same values. The copies would cost every call two more header fields whose values change
// from call to call (HPACK indexes each new value, evicting others). Then the baggage that is not
// empty, and tri-trace-samp: false for an unsampled context (SOFARPC takes an absent flag as
// sampled). gRPC metadata values must be printable ASCII, so baggage bytes outside it (UTF-8
// included) are written %XX on top of EscapeSOFA; Extract's unescaping reads them back.
func Triple(opts ...Option) Propagator { return tripleProp{newConfig(opts)} }

type tripleProp struct{ cfg config }

func (p tripleProp) Inject(_ context.Context, sc trace.SpanContext, c Carrier) error {
	if p.cfg.extractOnly || !sc.IsValid() || c == nil {
		return nil
	}
	c.Set(TripleSofaTraceID, sc.TraceID())
	c.Set(TripleSofaRpcID, sc.SpanID())
	if b := sc.BizBaggage(); b.Len() > 0 {
		c.Set(TripleBizBaggage, tripleBaggage(b.Range))
	}
	if b := sc.SysBaggage(); b.Len() > 0 {
		c.Set(TripleSysBaggage, tripleBaggage(b.Range))
	}
	if !sc.Sampled() { // absent means sampled
		c.Set(TripleSampled, "false")
	}
	return nil
}

// tripleBaggage serializes baggage for a metadata value: sftc_head's form, then every byte outside
// printable ASCII as %XX.
func tripleBaggage(bg kvRange) string {
	var b strings.Builder
	writeSofaBaggage(&b, "", bg)
	return escapeNonASCII(b.String())
}

// escapeNonASCII writes every byte outside printable ASCII (0x20..0x7e) as %XX. EscapeSOFA has already
// escaped '%' and control characters, so UnescapeSOFA reverses both.
func escapeNonASCII(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x7f {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x7f {
			b.WriteByte('%')
			b.WriteByte(upperHex[c>>4])
			b.WriteByte(upperHex[c&15])
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func (p tripleProp) Extract(ctx context.Context, c Carrier) (context.Context, trace.SpanContext, error) {
	if c == nil {
		return ctx, trace.SpanContext{}, nil
	}
	r := record{sampled: true}
	traceField, spanField := TripleSofaTraceID, TripleSofaRpcID
	if r.traceID = c.Get(TripleSofaTraceID); r.traceID == "" {
		traceField, r.traceID = TripleTraceID, c.Get(TripleTraceID)
	}
	if r.spanID = c.Get(TripleSofaRpcID); r.spanID == "" {
		spanField, r.spanID = TripleRpcID, c.Get(TripleRpcID)
	}
	switch {
	case r.traceID == "" && r.spanID == "":
		return ctx, trace.SpanContext{}, nil
	case r.traceID == "":
		return ctx, trace.SpanContext{}, newError("triple", TripleSofaTraceID+"/"+TripleTraceID, ErrMissingID)
	case r.spanID == "":
		r.spanID = "0"
	}
	if err := r.checkIDs(); err != nil {
		field := traceField
		if err != ErrInvalidTraceID {
			field = spanField
		}
		return ctx, trace.SpanContext{}, newError("triple", field, err)
	}
	if v := c.Get(TripleSampled); v != "" {
		if sampled, ok := parseBool(v); ok {
			r.sampled = sampled
		} else {
			r.badSampled = TripleSampled
		}
	}
	var d BaggageDropError
	lim := p.cfg.lim.orDefault()
	if s := c.Get(TripleBizBaggage); s != "" {
		biz := newAdmitter(false, lim.biz, &d)
		s = cutBaggageValue(s, &d)
		reserveSofaMark(s, &biz)
		addSofaBaggage(s, &biz)
		r.biz = biz.kept
	}
	if s := c.Get(TripleSysBaggage); s != "" {
		sys := newAdmitter(true, lim.sys, &d)
		addSofaBaggage(cutBaggageValue(s, &d), &sys)
		r.sys = sys.kept
	}
	sc, err := p.cfg.build("triple", TripleBizBaggage+"/"+TripleSysBaggage, &r, &d)
	return ctx, sc, err
}

// cutBaggageValue returns the part of a serialized baggage value that is parsed (see cutList) and
// counts the entries left out in d.
func cutBaggageValue(s string, d *BaggageDropError) string {
	size := len(s)
	s, unread := cutList(s, '&')
	if unread > 0 {
		d.Unread += unread
		d.unreadErr, d.unreadSize = ErrBaggageTooLarge, max(d.unreadSize, size)
	}
	return s
}

// addSofaBaggage hands the entries of serialized SOFA baggage (k=v&k=v&) to a, unescaped; parts
// without '=' or with an empty key or value are skipped.
func addSofaBaggage(s string, a *admitter) {
	for len(s) > 0 {
		var k, v string
		if k, v, s = nextSofaPart(s); k != "" {
			a.add(k, v)
		}
	}
}
