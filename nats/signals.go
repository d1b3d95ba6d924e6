package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"time"

	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// SignalVersionHeader carries the version of a signal message's encoding:
// "1" is market.Signal's JSON form. A later version may add fields.
const SignalVersionHeader = "Tickflow-Signal-Version"

// SignalSink publishes every signal to its symbol's subject on the signals
// stream, as market.Signal's JSON, with a [SignalMsgID] so that a signal
// produced again (by a worker replacing a dead one) is stored once. Write
// returns once the server has stored every signal it was given. Its zero
// value but JS is ready; Retries (default 5) bounds retries of a failed
// publish.
type SignalSink struct {
	JS jetstream.JetStream
	// Namespace names the stream (default "tickflow").
	Namespace Namespace
	Retries   int

	published, errs atomic.Int64
}

var _ pipeline.Sink[market.Event] = (*SignalSink)(nil)

// Published returns how many signals the server acknowledged; Errors how
// many publish attempts failed.
func (s *SignalSink) Published() int64 { return s.published.Load() }

// Errors returns how many publish attempts failed.
func (s *SignalSink) Errors() int64 { return s.errs.Load() }

// Write publishes the events' signals and waits for the acknowledgements.
// Signals of different symbols are in flight together, those of one symbol
// one after another, so a retried signal cannot land after its symbol's
// next one.
func (s *SignalSink) Write(ctx context.Context, events []market.Event) error {
	var rounds [][]*natsclient.Msg // round r: the r-th signal of each symbol
	nth := map[string]int{}
	for i := range events {
		sig := events[i].Signal
		if sig == nil {
			continue
		}
		data, err := json.Marshal(*sig)
		if err != nil {
			return fmt.Errorf("nats: signal of %s at %s: %w", sig.Symbol, sig.Time.Format(time.RFC3339), err)
		}
		m := &natsclient.Msg{Subject: s.Namespace.SignalSubject(sig.Symbol), Data: data, Header: natsclient.Header{}}
		m.Header.Set(jetstream.MsgIDHeader, SignalMsgID(*sig))
		m.Header.Set(SignalVersionHeader, "1")
		r := nth[sig.Symbol]
		nth[sig.Symbol] = r + 1
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], m)
	}
	for _, round := range rounds {
		futs := make([]jetstream.PubAckFuture, len(round))
		for i, m := range round {
			fut, err := s.JS.PublishMsgAsync(m)
			if err != nil {
				s.errs.Add(1) // retried below, with a reply
				continue
			}
			futs[i] = fut
		}
		for i, m := range round {
			if futs[i] != nil {
				select {
				case <-ctx.Done():
					return fmt.Errorf("nats: publish signal %s: %w", m.Header.Get(jetstream.MsgIDHeader), ctx.Err())
				case <-futs[i].Ok():
					s.published.Add(1)
					continue
				case <-futs[i].Err():
					s.errs.Add(1)
				}
			}
			if err := s.retry(ctx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// retry publishes m until the server stores it (or already had it: same
// id) or the retries run out.
func (s *SignalSink) retry(ctx context.Context, m *natsclient.Msg) error {
	retries := s.Retries
	if retries <= 0 {
		retries = DefaultRetries
	}
	var err error
	for try := 1; try <= retries; try++ {
		if _, err = s.JS.PublishMsg(ctx, m, jetstream.WithRetryAttempts(2)); err == nil {
			s.published.Add(1)
			return nil
		}
		s.errs.Add(1)
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("nats: publish signal %s on %s: %w", m.Header.Get(jetstream.MsgIDHeader), m.Subject, err)
}
