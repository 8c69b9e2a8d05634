package jaegertest

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/tracemdc/tracemdc/idmap"
)

// SOFAJavaSpan returns the Zipkin v2 JSON of one span as SOFATracer's Java Zipkin reporter sends
// it (SOFA-FACTS.md, "Export"): the SOFA trace id left-padded to 32 hex digits, FNV-1a 64 of the
// span and parent ids (idmap, whose vectors are SOFATracer's), kind SERVER for a server span and
// CLIENT for anything else, microseconds from millisecond times, the local endpoint with the
// application and the host's IPv4, the tags with the original ids added. It is written out here,
// not by package export, so that a mistake in the exporters shows against it.
func SOFAJavaSpan(traceID, spanID, parentID, kind, name, app string, startMs, durMs int64, tags map[string]string) string {
	padded := strings.Repeat("0", max(0, 32-len(traceID))) + traceID
	var b strings.Builder
	fmt.Fprintf(&b, `{"traceId":%q,"id":%q,`, padded, idmap.SpanHex(spanID))
	if parentID != "" {
		fmt.Fprintf(&b, `"parentId":%q,`, idmap.SpanHex(parentID))
	}
	fmt.Fprintf(&b, `"kind":%q,"name":%q,"timestamp":%d,"duration":%d,"localEndpoint":{"serviceName":%q,"ipv4":"10.15.233.7"},"tags":{`,
		kind, name, startMs*1000, durMs*1000, app)
	all := map[string]string{"origin.span.id": spanID}
	if parentID != "" {
		all["origin.parent.span.id"] = parentID
	}
	for k, v := range tags {
		all[k] = v
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%q:%q", k, all[k])
	}
	b.WriteString("}}")
	return b.String()
}

// PostZipkin posts Zipkin JSON spans (SOFAJavaSpan's) to a Zipkin endpoint, as one array.
func PostZipkin(t testing.TB, url string, spans ...string) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Post(url, "application/json", strings.NewReader("["+strings.Join(spans, ",")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %s", url, resp.Status)
	}
}
