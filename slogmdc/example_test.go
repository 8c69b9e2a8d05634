package slogmdc_test

import (
	"context"
	"log/slog"
	"os"

	"github.com/tracemdc/tracemdc/mdc"
	"github.com/tracemdc/tracemdc/slogmdc"
)

func Example() {
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	logger := slog.New(slogmdc.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime})))

	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
	logger.InfoContext(ctx, "paid", "amount", 42)
	logger.WithGroup("order").InfoContext(ctx, "shipped", "id", 7)
	// Output:
	// {"level":"INFO","msg":"paid","amount":42,"traceId":"0ad1348f1403169275002100356696","spanId":"0.1"}
	// {"level":"INFO","msg":"shipped","traceId":"0ad1348f1403169275002100356696","spanId":"0.1","order":{"id":7}}
}

func ExampleWithNaming() {
	noTime := func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}
	naming := mdc.NewNaming(mdc.PresetSOFA, mdc.Rename("user", "userId"), mdc.Group("mdc"))
	logger := slog.New(slogmdc.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: noTime}),
		slogmdc.WithNaming(naming)))

	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"},
		mdc.Pair{Key: "user", Value: "alice"})
	logger.InfoContext(ctx, "login")
	// Output:
	// {"level":"INFO","msg":"login","mdc":{"SOFA-TraceId":"0ad1348f1403169275002100356696","userId":"alice"}}
}
