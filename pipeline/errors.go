package pipeline

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// KeyError is a failure confined to one key: the key's later items were
// dropped and the other keys went on.
type KeyError struct {
	Stage string // the source or stage that reported it
	Key   string
	Err   error
}

func (e *KeyError) Error() string { return fmt.Sprintf("%s: %s: %v", e.Stage, e.Key, e.Err) }

func (e *KeyError) Unwrap() error { return e.Err }

// Failures is the error Run returns when the run completed but some keys
// failed. It lists one KeyError per failed key, sorted by key.
type Failures []*KeyError

func (f Failures) Error() string {
	if len(f) == 1 {
		return "1 key failed: " + f[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d keys failed:", len(f))
	for _, e := range f {
		b.WriteString("\n  ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap gives errors.Is and errors.As access to every failure.
func (f Failures) Unwrap() []error {
	errs := make([]error, len(f))
	for i, e := range f {
		errs[i] = e
	}
	return errs
}

// Keys returns the failed keys in order.
func (f Failures) Keys() []string {
	keys := make([]string, len(f))
	for i, e := range f {
		keys[i] = e.Key
	}
	return keys
}

func sortFailures(f Failures) {
	sort.Slice(f, func(i, j int) bool { return f[i].Key < f[j].Key })
}

// PanicError is a panic inside a component, turned into an error.
type PanicError struct {
	Component string
	Value     any
	Stack     []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("%s: panic: %v\n%s", e.Component, e.Value, e.Stack)
}

// Unwrap returns the panic value when it was an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ErrGoexit is the cause of a run aborted because a component called
// runtime.Goexit (as t.FailNow does) instead of returning.
var ErrGoexit = errors.New("called runtime.Goexit")

// ErrDrainTimeout is the cause of a run aborted because its drain outlasted
// Config.DrainTimeout. It is not a clean stop: unlike ctx's error, it means
// items may have been discarded.
var ErrDrainTimeout = errors.New("pipeline: drain did not finish")

// AbortError is what Run returns when the run was aborted (by a fatal error
// or a drain that outlasted Config.DrainTimeout) and either some items were
// discarded or some components did not stop in time.
type AbortError struct {
	Err error // what aborted the run
	// Stuck names the components that had not returned when Run gave up on
	// them, DrainTimeout after the shutdown began, e.g.
	// "sink out (*sinks.JSONL)"; their goroutines were abandoned.
	Stuck   []string
	Timeout time.Duration // Config.DrainTimeout
	// Discarded is how many accepted items were never delivered: queued in
	// the pipeline's edges when it was aborted (also in Stats). Items a
	// stuck component held are not counted.
	Discarded int64
}

func (e *AbortError) Error() string {
	var b strings.Builder
	switch len(e.Stuck) {
	case 0:
		b.WriteString(e.Err.Error())
	case 1:
		fmt.Fprintf(&b, "pipeline: %s did not stop within %v (after: %v)", e.Stuck[0], e.Timeout, e.Err)
	default:
		fmt.Fprintf(&b, "pipeline: %d components did not stop within %v (after: %v): %s",
			len(e.Stuck), e.Timeout, e.Err, strings.Join(e.Stuck, "; "))
	}
	if e.Discarded > 0 {
		fmt.Fprintf(&b, "; %d queued items discarded", e.Discarded)
	}
	return b.String()
}

// Unwrap returns what aborted the run.
func (e *AbortError) Unwrap() error { return e.Err }

// ErrConfig reports a pipeline that cannot run as built.
var ErrConfig = errors.New("pipeline: invalid configuration")
