package pipeline

import (
	"errors"
	"fmt"
	"sort"
	"strings"
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

// ErrConfig reports a pipeline that cannot run as built.
var ErrConfig = errors.New("pipeline: invalid configuration")
