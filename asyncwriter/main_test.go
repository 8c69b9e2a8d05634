package asyncwriter

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any goroutine (a consumer not stopped by Close) outlives the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
