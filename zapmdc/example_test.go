package zapmdc_test

import (
	"context"
	"os"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/zapmdc"
)

func stdoutCore() zapcore.Core {
	cfg := zap.NewProductionEncoderConfig()
	cfg.TimeKey = "" // deterministic output
	return zapcore.NewCore(zapcore.NewJSONEncoder(cfg), zapcore.AddSync(os.Stdout), zap.InfoLevel)
}

func Example() {
	logger := zap.New(zapmdc.NewCore(stdoutCore()))
	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})

	logger.Info("paid", zapmdc.Ctx(ctx), zap.Int("amount", 42))
	logger.Debug("not written, and the MDC is never read")

	reqLogger := logger.With(zapmdc.Ctx(ctx)) // bind once, for every line of a request
	reqLogger.Sugar().Infow("shipped", "order", 7)
	// Output:
	// {"level":"info","msg":"paid","traceId":"0ad1348f1403169275002100356696","spanId":"0.1","amount":42}
	// {"level":"info","msg":"shipped","traceId":"0ad1348f1403169275002100356696","spanId":"0.1","order":7}
}

func ExampleWithNaming() {
	naming := mdc.NewNaming(mdc.PresetOTel, mdc.Group("mdc"))
	logger := zap.New(zapmdc.NewCore(stdoutCore(), zapmdc.WithNaming(naming)))
	ctx := mdc.With(context.Background(), mdc.KeyTraceID, "0ad1348f1403169275002100356696")
	logger.Info("paid", zapmdc.Ctx(ctx))
	// Output:
	// {"level":"info","msg":"paid","mdc":{"trace_id":"0ad1348f1403169275002100356696"}}
}

func ExampleFields() {
	// For a logger whose core cannot be wrapped.
	logger := zap.New(stdoutCore())
	ctx := mdc.With(context.Background(), mdc.KeyTraceID, "0ad1348f1403169275002100356696")
	logger.With(zapmdc.Fields(ctx, mdc.NewNaming(mdc.PresetSOFA))...).Info("paid")
	// Output:
	// {"level":"info","msg":"paid","SOFA-TraceId":"0ad1348f1403169275002100356696"}
}
