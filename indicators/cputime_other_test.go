//go:build !linux

package indicators

import "testing"

// cpuPerOp runs loop; only Linux reports the thread's CPU time per op.
func cpuPerOp(_ *testing.B, loop func()) { loop() }
