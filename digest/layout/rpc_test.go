package layout

import (
	"strings"
	"testing"
)

// TestRPCOrders pins SOFARPC's documented key orders (SOFA-FACTS.md, "SOFARPC").
func TestRPCOrders(t *testing.T) {
	const client = "timestamp, tracerId, spanId, span.kind, local.app, protocol, service, method, current.thread.name, " +
		"invoke.type, router.record, remote.app, remote.ip, local.client.ip, result.code, req.serialize.time, " +
		"resp.deserialize.time, resp.size, req.size, client.conn.time, client.elapse.time, local.client.port, baggage"
	const server = "timestamp, tracerId, spanId, span.kind, service, method, remote.ip, remote.app, protocol, local.app, " +
		"current.thread.name, result.code, server.pool.wait.time, biz.impl.time, resp.serialize.time, " +
		"req.deserialize.time, resp.size, req.size, baggage"
	if got := strings.Join(RPCClientFields, ", "); got != client {
		t.Errorf("client order\n%s\nwant\n%s", got, client)
	}
	if got := strings.Join(RPCServerFields, ", "); got != server {
		t.Errorf("server order\n%s\nwant\n%s", got, server)
	}
}

func TestIsRPCID(t *testing.T) {
	for id, want := range map[string]bool{
		"0": true, "0.1": true, "0.1.12.3": true, "10": true,
		"": false, ".": false, "0.": false, ".1": false, "0..1": false, "00f067aa0ba902b7": false, "0.1a": false, "-1": false,
	} {
		if got := IsRPCID(id); got != want {
			t.Errorf("IsRPCID(%q) = %v", id, got)
		}
	}
}

// TestGRPCResultCode pins the mapping of every gRPC status code (their numbers from
// google.golang.org/grpc/codes) to SOFARPC's result codes.
func TestGRPCResultCode(t *testing.T) {
	want := []string{
		0: CodeSuccess, 1: CodeRPCError, 2: CodeBizError, 3: CodeBizError, 4: CodeTimeout, 5: CodeBizError,
		6: CodeBizError, 7: CodeBizError, 8: CodeRPCError, 9: CodeBizError, 10: CodeBizError, 11: CodeBizError,
		12: CodeRPCError, 13: CodeRPCError, 14: CodeRPCError, 15: CodeRPCError, 16: CodeBizError, 17: CodeBizError,
	}
	for c, w := range want {
		if got := GRPCResultCode(uint32(c)); got != w {
			t.Errorf("GRPCResultCode(%d) = %s, want %s", c, got, w)
		}
	}
}
