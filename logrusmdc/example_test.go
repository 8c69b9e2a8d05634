package logrusmdc_test

import (
	"context"
	"os"

	"github.com/sirupsen/logrus"

	"github.com/tracemdc/tracemdc/logrusmdc"
	"github.com/tracemdc/tracemdc/mdc"
)

func Example() {
	logger := logrus.New()
	logger.Out = os.Stdout
	logger.Formatter = &logrus.JSONFormatter{DisableTimestamp: true}
	logger.AddHook(logrusmdc.NewHook())

	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
	logger.WithContext(ctx).WithField("amount", 42).Info("paid")
	// Output:
	// {"amount":42,"level":"info","msg":"paid","spanId":"0.1","traceId":"0ad1348f1403169275002100356696"}
}

func ExampleWithNaming() {
	logger := logrus.New()
	logger.Out = os.Stdout
	logger.Formatter = &logrus.TextFormatter{DisableTimestamp: true}
	logger.AddHook(logrusmdc.NewHook(logrusmdc.WithNaming(mdc.NewNaming(mdc.PresetSOFA, mdc.Deny(mdc.KeySpanID)))))

	ctx := mdc.WithPairs(context.Background(),
		mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"})
	logger.WithContext(ctx).Warn("slow")
	// Output:
	// level=warning msg=slow SOFA-TraceId=0ad1348f1403169275002100356696
}
