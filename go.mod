module github.com/tracemdc/tracemdc

go 1.23

require (
	github.com/sirupsen/logrus v1.10.2
	go.uber.org/goleak v1.3.0
	go.uber.org/zap v1.28.0
	gopkg.in/natefinch/lumberjack.v2 v2.2.1
)

require (
	go.uber.org/multierr v1.10.0 // indirect
	golang.org/x/sys v0.13.0 // indirect
)
