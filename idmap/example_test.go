package idmap_test

import (
	"fmt"

	"github.com/tracemdc/tracemdc/idmap"
)

// A SOFA trace and its span ids as a Zipkin, Jaeger or OTLP backend sees them, the same as
// SOFATracer's Zipkin reporter sends them; W3C ids pass unchanged.
func Example() {
	fmt.Println(idmap.TraceHex("0ad1348f1403169275002100356696"))
	fmt.Println(idmap.SpanHex("0"), idmap.SpanHex("0.1"), idmap.SpanHex("0.1.1"))
	fmt.Println(idmap.TraceHex("4bf92f3577b34da6a3ce929d0e0e4736"), idmap.SpanHex("00f067aa0ba902b7"))
	// Output:
	// 000ad1348f1403169275002100356696
	// af63ad4c86019caf 4e18dd181d0a2066 b1ecc5b0e1cf206b
	// 4bf92f3577b34da6a3ce929d0e0e4736 00f067aa0ba902b7
}
