//go:build linux

package indicators

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// threadCPU is the CPU time the calling thread has used, in nanoseconds.
func threadCPU() int64 {
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return ts.Nano()
}

// cpuPerOp runs loop with the goroutine locked to its thread and reports
// the thread's CPU time per op as cpu-ns/op: on a shared machine wall time
// also counts the time other processes held the core.
func cpuPerOp(b *testing.B, loop func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := threadCPU()
	loop()
	if b.N > 0 {
		b.ReportMetric(float64(threadCPU()-start)/float64(b.N), "cpu-ns/op")
	}
}
