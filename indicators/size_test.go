package indicators

import (
	"testing"
	"unsafe"
)

// The pipeline holds one Set per symbol: keep it small.
func TestSetSize(t *testing.T) {
	set, _ := NewSet(Config{})
	size := unsafe.Sizeof(*set) + uintptr(cap(set.stoch.window.lo)+cap(set.stoch.window.hi))*unsafe.Sizeof(slot{}) +
		uintptr(cap(set.stoch.signal.buf)+cap(set.stoch.smooth.buf))*8
	t.Logf("default Set: %d bytes with its buffers", size)
	if size > 1024 {
		t.Errorf("default Set takes %d bytes, want at most 1 KiB", size)
	}
}
