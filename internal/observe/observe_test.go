package observe_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/tickflow/tickflow/internal/observe"
)

type typed struct{}

func (typed) Error() string     { return "typed" }
func (typed) ErrorType() string { return "status_5xx" }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClass(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, ""},
		{fmt.Errorf("page 3: %w", typed{}), "status_5xx"},
		{context.Canceled, observe.ClassCanceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), observe.ClassTimeout},
		{&net.OpError{Op: "dial", Err: errors.New("no such host")}, observe.ClassNetwork},
		{timeoutErr{}, observe.ClassTimeout},
		{errors.New("boom"), observe.ClassError},
	} {
		if got := observe.Class(tc.err); got != tc.want {
			t.Errorf("Class(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

type recorder struct {
	events   []string
	declared []string
	limits   []string
}

func (r *recorder) ConcurrencyLimit(op string, n int) {
	r.limits = append(r.limits, fmt.Sprintf("%s %d", op, n))
}

func (r *recorder) OperationStarted(op string) { r.events = append(r.events, "start "+op) }
func (r *recorder) OperationEnded(op string, _, _ time.Time, class string) {
	r.events = append(r.events, "end "+op+" "+class)
}
func (r *recorder) DeclareOperations(ops ...string) { r.declared = append(r.declared, ops...) }

type plain struct{ n int }

func (p *plain) OperationStarted(string)                             { p.n++ }
func (p *plain) OperationEnded(string, time.Time, time.Time, string) { p.n++ }

// Multi reports to each observer, declares to those that want it, and a
// nil observer observes nothing.
func TestStartAndMulti(t *testing.T) {
	a, b := &recorder{}, &plain{}
	m := observe.Multi(a, nil, b)
	observe.Declare(m, "x.read")
	end := observe.Start(m, "x.read")
	end(context.DeadlineExceeded)
	observe.Start(nil, "x.read")(nil)
	observe.ReportLimit(m, "x.read", 7)
	observe.ReportLimit(b, "x.read", 8) // not a LimitReporter: nothing
	if !slices.Equal(a.limits, []string{"x.read 7"}) {
		t.Errorf("limits %v, want x.read 7 through Multi", a.limits)
	}
	if want := []string{"start x.read", "end x.read timeout"}; !slices.Equal(a.events, want) || !slices.Equal(a.declared, []string{"x.read"}) || b.n != 2 {
		t.Fatalf("events %v, declared %v, plain %d", a.events, a.declared, b.n)
	}
}
