// Command quickstart logs with slog, zap and logrus from one context and shows that each line
// carries the trace id and span id of that context, plus a value set later in the request scope.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sirupsen/logrus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/logrusmdc"
	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/zapmdc"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run writes the demo's log lines, one JSON object per line, to w.
func run(w io.Writer) error {
	// The ids a tracer would put in the context of an incoming request.
	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
	ctx = mdc.WithScope(ctx) // a per-request bag for values found later

	// One logger of each kind, each wrapped once at start-up.
	slogger := slog.New(slogmdc.New(slog.NewJSONHandler(w, nil)))

	zcore := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(w), zap.InfoLevel)
	zlogger := zap.New(zapmdc.NewCore(zcore))

	rlogger := logrus.New()
	rlogger.Out = w
	rlogger.Formatter = &logrus.JSONFormatter{}
	rlogger.AddHook(logrusmdc.NewHook())

	logAll := func(ctx context.Context, msg string) {
		slogger.InfoContext(ctx, msg, "via", "slog")
		zlogger.Info(msg, zapmdc.Ctx(ctx), zap.String("via", "zap"))
		rlogger.WithContext(ctx).WithField("via", "logrus").Info(msg)
	}

	logAll(ctx, "request received")
	mdc.Set(ctx, "user", "alice") // e.g. once authentication has run
	logAll(ctx, "user authenticated")
	return nil
}
