package propagation_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/trace"
	"github.com/tracemdc/tracemdc/trace/propagation"
)

// TestExtractHugeHeaders hands every propagator header values of several megabytes, and a carrier
// with many thousand baggage headers: each extraction ends with an *Error or without a context,
// never with a panic, and nothing of the huge values reaches a context, an error message or the
// headers injected into the next call.
func TestExtractHugeHeaders(t *testing.T) {
	huge := strings.Repeat("a", 4<<20)
	hugeKV := strings.Repeat("k=v&", 1<<20)
	hugeList := strings.Repeat("k=v,", 1<<20)
	w3c := "00-" + w3cTrace + "-" + w3cSpan + "-01"
	carriers := map[string]propagation.MapCarrier{
		"b3 trace id":      {"x-b3-traceid": huge, "x-b3-spanid": "0"},
		"b3 span id":       {"x-b3-traceid": sofaTrace, "x-b3-spanid": huge},
		"b3 parent":        {"x-b3-traceid": sofaTrace, "x-b3-spanid": "0.1", "x-b3-parentspanid": huge},
		"b3 sampled":       {"x-b3-traceid": sofaTrace, "x-b3-spanid": "0", "x-b3-sampled": huge},
		"b3 baggage value": {"x-b3-traceid": sofaTrace, "x-b3-spanid": "0", "baggage-k": huge},
		"b3 baggage key":   {"x-b3-traceid": sofaTrace, "x-b3-spanid": "0", "baggage-" + huge: "v"},
		"sftc_head":        {"sftc_head": "tcid=" + sofaTrace + "&spid=0&" + hugeKV},
		"sftc_head id":     {"sftc_head": "tcid=" + huge + "&spid=0&"},
		"mosn trace id":    {"sofa-traceid": huge, "sofa-rpcid": "0.1"},
		"mosn rpc id":      {"sofa-traceid": sofaTrace, "sofa-rpcid": strings.Repeat("1.", 2<<20) + "1"},
		"traceparent":      {"traceparent": w3c + huge},
		"tracestate":       {"traceparent": w3c, "tracestate": hugeList},
		"w3c baggage":      {"traceparent": w3c, "baggage": hugeList},
	}
	many := propagation.MapCarrier{"x-b3-traceid": sofaTrace, "x-b3-spanid": "0"}
	for i := 0; i < 10_000; i++ {
		many["baggage-k"+strconv.Itoa(i)] = "v"
	}
	carriers["b3 many baggage headers"] = many

	propagators := map[string]propagation.Propagator{
		"default": propagation.Default(), "b3": propagation.B3(), "sftc_head": propagation.SofaHead(),
		"mosn": propagation.MOSN(), "w3c": propagation.W3C(),
	}
	for cname, m := range carriers {
		h := http.Header{}
		for k, v := range m {
			h.Set(k, v)
		}
		for pname, p := range propagators {
			for _, carrier := range []propagation.Carrier{m, propagation.HeaderCarrier(h)} {
				ctx, sc, err := p.Extract(context.Background(), carrier)
				var pe *propagation.Error
				if err != nil && !errors.As(err, &pe) {
					t.Errorf("%s via %s: error %T is not an *Error", cname, pname, err)
				}
				if err != nil && len(err.Error()) > 4096 {
					t.Errorf("%s via %s: error message of %d bytes", cname, pname, len(err.Error()))
				}
				if !sc.IsValid() {
					continue
				}
				// A context may come out (a format that is not the huge one, or a huge part that is
				// dropped): then it is within the limits.
				if len(sc.TraceID()) > trace.MaxTraceIDLen || len(sc.SpanID()) > trace.MaxSpanIDLen ||
					sc.BizBaggage().Size() > trace.DefaultBaggageLimit || sc.SysBaggage().Size() > trace.DefaultBaggageLimit ||
					sc.BizBaggage().Len() > trace.MaxBaggageEntries {
					t.Errorf("%s via %s: context over the limits: trace id %d bytes, span id %d bytes, baggage %d/%d bytes",
						cname, pname, len(sc.TraceID()), len(sc.SpanID()), sc.BizBaggage().Size(), sc.SysBaggage().Size())
				}
				// Nor does anything huge travel on with the next call (tracestate is kept in ctx).
				out := propagation.MapCarrier{}
				_ = p.Inject(ctx, sc, out)
				for k, v := range out {
					if len(v) > 4096 {
						t.Errorf("%s via %s: re-injected %s of %d bytes", cname, pname, k, len(v))
					}
				}
			}
		}
	}
}
