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
