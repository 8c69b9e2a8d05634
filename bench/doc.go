// Package bench holds the benchmarks that compare tracemdc with its peers (the OpenTelemetry Go SDK,
// zerolog's diode, zap's BufferedWriteSyncer). It is a separate module so that the main module's
// go.mod stays small: run it with `cd bench && go test -bench . -benchmem`.
package bench
