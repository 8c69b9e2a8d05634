package idmap

import "testing"

var sinkTrace [16]byte
var sinkSpan [8]byte

// BenchmarkMapping maps the ids an exporter maps for every span: a SOFA trace id and rpcId span
// id, a W3C trace id and span id.
func BenchmarkMapping(b *testing.B) {
	b.Run("sofa", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sinkTrace = TraceID("0ad1348f1403169275002100356696")
			sinkSpan = SpanID("0.1.1")
		}
	})
	b.Run("w3c", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sinkTrace = TraceID("4bf92f3577b34da6a3ce929d0e0e4736")
			sinkSpan = SpanID("00f067aa0ba902b7")
		}
	})
}
