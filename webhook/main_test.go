package webhook_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test of the package (the sinks, their Async
// queues, the conformance run) leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
