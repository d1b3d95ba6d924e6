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
func (s *SignalSink) Write(ctx context.Context, events []market.Event) error {
	type pub struct {
		msg *natsclient.Msg
		fut jetstream.PubAckFuture
		sig *market.Signal
	}
	var pubs []pub
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
		pubs = append(pubs, pub{msg: m, sig: sig})
	}
	retries := s.Retries
	if retries <= 0 {
		retries = DefaultRetries
	}
	for i := range pubs {
		p := &pubs[i]
		for try := 0; ; try++ {
			fut, err := s.JS.PublishMsgAsync(p.msg)
			if err == nil {
				p.fut = fut
				break
			}
			s.errs.Add(1)
			if try >= retries {
				return fmt.Errorf("nats: publish signal %s: %w", p.msg.Header.Get(jetstream.MsgIDHeader), err)
			}
			if _, err := s.JS.PublishMsg(ctx, p.msg); err == nil { // in order, with a reply
				s.published.Add(1)
				break
			}
		}
	}
	for i := range pubs {
		p := &pubs[i]
		if p.fut == nil {
			continue
		}
		var err error
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats: publish signal %s: %w", p.msg.Header.Get(jetstream.MsgIDHeader), ctx.Err())
		case <-p.fut.Ok():
			s.published.Add(1)
			continue
		case err = <-p.fut.Err():
		}
		// Retried with the same id: the server keeps one copy.
		for try := 0; ; try++ {
			s.errs.Add(1)
			if try >= retries {
				return fmt.Errorf("nats: publish signal %s: %w", p.msg.Header.Get(jetstream.MsgIDHeader), err)
			}
			if _, err = s.JS.PublishMsg(ctx, p.msg); err == nil {
				s.published.Add(1)
				break
			}
		}
	}
	return nil
}
