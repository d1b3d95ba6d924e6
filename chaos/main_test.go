package chaos_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every fault is injected and healed inside its test: no goroutine of the
// proxies, fakes or pipelines may outlive it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
