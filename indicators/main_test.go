package indicators

import (
	"testing"

	"go.uber.org/goleak"
)

// The indicators start no goroutines; the oracle tests start processes, whose
// pipes are copied by goroutines that must end with them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
