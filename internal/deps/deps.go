//go:build tools

// Package deps pins the module's dependencies while the packages that use them are being written.
package deps

import (
	_ "github.com/sirupsen/logrus"
	_ "go.uber.org/goleak"
	_ "go.uber.org/zap"
	_ "gopkg.in/natefinch/lumberjack.v2"
)
