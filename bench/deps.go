//go:build tools

// This file pins the peers the benchmarks compare against while the benchmark files are being written.
package bench

import (
	_ "github.com/rs/zerolog"
	_ "github.com/rs/zerolog/diode"
	_ "go.opentelemetry.io/contrib/propagators/b3"
	_ "go.opentelemetry.io/otel"
	_ "go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	_ "go.opentelemetry.io/otel/propagation"
	_ "go.opentelemetry.io/otel/sdk/trace"
	_ "go.uber.org/zap"
)
