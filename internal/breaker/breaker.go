package breaker

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Defaults of Settings' zero fields.
const (
	DefaultFailures = 5
	DefaultCooldown = 30 * time.Second
)

// ErrOpen is an attempt the open (or half-open, busy) breaker refused; its
// error class is "circuit_open".
var ErrOpen error = openError{}

type openError struct{}

func (openError) Error() string     { return "circuit breaker open" }
func (openError) ErrorType() string { return "circuit_open" }

// Settings configure a Breaker; the zero value of each field means its
// default.
type Settings struct {
	Name     string
	Failures int           // consecutive failures that open it (default 5)
	Cooldown time.Duration // how long it stays open before a trial (default 30 s)
	// IsSuccessful tells an attempt that shows the far end up (default:
	// err == nil). A cancelled attempt counts neither way.
	IsSuccessful func(err error) bool
	// OnStateChange, if set, is told of every change ("closed",
	// "half-open", "open").
	OnStateChange func(name, from, to string)
}

// Breaker guards attempts; safe for concurrent use.
type Breaker struct {
	cb *gobreaker.CircuitBreaker[struct{}]
}

// New returns a closed Breaker.
func New(s Settings) *Breaker {
	if s.Failures <= 0 {
		s.Failures = DefaultFailures
	}
	if s.Cooldown <= 0 {
		s.Cooldown = DefaultCooldown
	}
	failures := uint32(s.Failures)
	st := gobreaker.Settings{
		Name:         s.Name,
		MaxRequests:  1,
		Timeout:      s.Cooldown,
		ReadyToTrip:  func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= failures },
		IsSuccessful: s.IsSuccessful,
		IsExcluded:   func(err error) bool { return errors.Is(err, context.Canceled) },
	}
	if s.OnStateChange != nil {
		st.OnStateChange = func(name string, from, to gobreaker.State) { s.OnStateChange(name, from.String(), to.String()) }
	}
	return &Breaker{gobreaker.NewCircuitBreaker[struct{}](st)}
}

// Guard runs attempt unless the breaker refuses it (ErrOpen), and counts
// its outcome.
func (b *Breaker) Guard(attempt func() error) error {
	_, err := b.cb.Execute(func() (struct{}, error) { return struct{}{}, attempt() })
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return ErrOpen
	}
	return err
}

// State is "closed", "half-open" or "open".
func (b *Breaker) State() string { return b.cb.State().String() }
