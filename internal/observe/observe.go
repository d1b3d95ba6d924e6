package observe

import (
	"context"
	"errors"
	"net"
	"time"
)

// Observer receives outbound operations. Its methods are called from many
// goroutines at once and must return promptly.
type Observer interface {
	// OperationStarted is called when an operation of type op starts.
	OperationStarted(op string)
	// OperationEnded is called once per OperationStarted, with the
	// operation's start and end and its error class ("" on success; see
	// Class).
	OperationEnded(op string, start, end time.Time, errClass string)
}

// Declarer is an Observer that wants to know, before any operation, which
// operation types a component will report (so that their series exist at
// zero from the start).
type Declarer interface {
	DeclareOperations(ops ...string)
}

// LimitReporter is an Observer that also takes the current adaptive
// concurrency limit of an operation type (a gauge; *metrics.Metrics is
// one), so that a component with a limiter needs no hook of its own.
type LimitReporter interface {
	ConcurrencyLimit(op string, limit int)
}

// ReportLimit tells o, if it is a LimitReporter, op's current limit.
func ReportLimit(o Observer, op string, limit int) {
	if r, ok := o.(LimitReporter); ok {
		r.ConcurrencyLimit(op, limit)
	}
}

// Declare tells o, if it is a Declarer, of the operation types ops.
func Declare(o Observer, ops ...string) {
	if d, ok := o.(Declarer); ok {
		d.DeclareOperations(ops...)
	}
}

// The error classes Class returns, besides "" (success) and an error's own
// ErrorType().
const (
	ClassCanceled    = "canceled"
	ClassTimeout     = "timeout"
	ClassNetwork     = "network"
	ClassCircuitOpen = "circuit_open"
	ClassError       = "error"
)

// Classes are the error classes an operation may end with: those above
// and the HTTP status classes of the I/O layer.
var Classes = []string{ClassTimeout, ClassNetwork, ClassCircuitOpen, ClassError,
	"status_4xx", "status_429", "status_5xx"}

// Class classifies err: "" for nil; the error's own ErrorType() string
// method if one in its chain has it; else canceled, timeout, network or
// error.
func Class(err error) string {
	var typed interface{ ErrorType() string }
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &typed):
		return typed.ErrorType()
	case errors.Is(err, context.Canceled):
		return ClassCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return ClassTimeout
	case errors.As(err, &ne):
		if ne.Timeout() {
			return ClassTimeout
		}
		return ClassNetwork
	}
	return ClassError
}

// Start reports the start of an operation of type op to o (nil observes
// nothing) and returns the function that reports its end with err.
func Start(o Observer, op string) (end func(err error)) {
	if o == nil {
		return func(error) {}
	}
	start := time.Now()
	o.OperationStarted(op)
	return func(err error) { o.OperationEnded(op, start, time.Now(), Class(err)) }
}

// Multi returns an Observer that reports to each of obs in turn (nil ones
// skipped), and declares to each that is a Declarer and reports limits to
// each that is a LimitReporter.
func Multi(obs ...Observer) Observer {
	var m multi
	for _, o := range obs {
		if o != nil {
			m = append(m, o)
		}
	}
	return m
}

type multi []Observer

func (m multi) OperationStarted(op string) {
	for _, o := range m {
		o.OperationStarted(op)
	}
}

func (m multi) OperationEnded(op string, start, end time.Time, class string) {
	for _, o := range m {
		o.OperationEnded(op, start, end, class)
	}
}

func (m multi) DeclareOperations(ops ...string) {
	for _, o := range m {
		Declare(o, ops...)
	}
}

func (m multi) ConcurrencyLimit(op string, limit int) {
	for _, o := range m {
		ReportLimit(o, op, limit)
	}
}
