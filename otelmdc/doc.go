// Package otelmdc joins OpenTelemetry to tracemdc: the ids of the OpenTelemetry span current in a
// context appear in every slog, zap and logrus line written through tracemdc's adapters, and the spans
// the OpenTelemetry SDK ends are written into tracemdc's digest and stat logs, which tracetail reads.
//
// Logs, two lines: register the source once, wrap the logger as usual.
//
//	defer mdc.AddSource(otelmdc.NewSource())()
//	logger := slog.New(slogmdc.New(slog.NewJSONHandler(os.Stdout, nil)))
//	logger.InfoContext(ctx, "paid") // ... "traceId":"4bf92f35…","spanId":"00f067aa0ba902b7"
//
// The source is asked at log time, after the level check, so a line carries the span current in the
// context it is written with, also one started by code that knows nothing of tracemdc (an otelhttp
// handler, a library's own span). Naming presets and vendor formats apply (mdc.PresetOTel gives
// trace_id/span_id; mdc.GoogleCloud and mdc.Datadog give the vendors' correlation fields).
//
// Digest files, two lines: a digest reporter and a span processor for the TracerProvider.
//
//	rep, err := digest.New(digest.Config{})
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(otelmdc.NewSpanProcessor(rep)))
//
// It is a module of its own (github.com/tracemdc/tracemdc/otelmdc), so that the main module does not
// depend on OpenTelemetry.
package otelmdc
