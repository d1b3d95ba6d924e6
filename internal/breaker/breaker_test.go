package breaker_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tickflow/tickflow/internal/breaker"
)

func TestOpensThenLetsATrialThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var changes []string
		b := breaker.New(breaker.Settings{Name: "x", Failures: 2, Cooldown: time.Second,
			OnStateChange: func(_, from, to string) { changes = append(changes, from+">"+to) }})
		boom := errors.New("boom")
		// Cancelled attempts say nothing of the far end: they never open it.
		for range 3 {
			if err := b.Guard(func() error { return context.Canceled }); !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := b.Guard(func() error { return boom }); !errors.Is(err, boom) {
				t.Fatal(err)
			}
		}
		ran := false
		if err := b.Guard(func() error { ran = true; return nil }); !errors.Is(err, breaker.ErrOpen) || ran || b.State() != "open" {
			t.Fatalf("open breaker: err %v, ran %v, state %s", err, ran, b.State())
		}
		time.Sleep(time.Second + time.Millisecond) // past the cooldown
		if err := b.Guard(func() error { return nil }); err != nil || b.State() != "closed" {
			t.Fatalf("after the cooldown: %v, state %s, changes %v", err, b.State(), changes)
		}
	})
}
