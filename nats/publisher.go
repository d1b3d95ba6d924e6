package nats

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Defaults of [PublisherConfig] fields left zero.
const (
	DefaultMaxBars     = 256
	DefaultMaxInFlight = 512
	DefaultRetries     = 5
)

// PublisherConfig configures a [Publisher]. Its zero value means the
// defaults.
type PublisherConfig struct {
	// Namespace names the streams (default "tickflow").
	Namespace Namespace
	// Partitions must equal the bars stream's (see [EnsureLayout]).
	Partitions int
	// MaxBars is the most bars of one symbol per message (default 256;
	// at most MaxBarsPerMessage). A message is sent when it is full, so a
	// rerun over the same bars cuts the same messages, with the same ids.
	MaxBars int
	// Linger, if positive, also sends a symbol's bars once the oldest has
	// waited this long (checked at each Write): for a live feed.
	Linger time.Duration
	// MaxInFlight bounds the messages sent and not yet acknowledged
	// (default 512). At most one per symbol is in flight, so a retried
	// message cannot overtake the next one of its symbol.
	MaxInFlight int
	// Retries is how often a failed publish is retried (default 5) before
	// Write or Flush returns the error.
	Retries int
}

// Publisher is the ingest side: a sink that groups bars by symbol into
// messages of up to MaxBars bars and publishes them to the bars stream with
// a [BarsMsgID], waiting for the server's acknowledgement of each before the
// symbol's next message goes out. Flush (at the end of input) sends what is
// held and waits for every acknowledgement, so a run that returned nil has
// every bar stored.
type Publisher struct {
	js  jetstream.JetStream
	cfg PublisherConfig

	held     map[string]*heldBars
	inflight map[string]*sent
	errs     atomic.Int64
	msgs     atomic.Int64
	bars     atomic.Int64
}

type heldBars struct {
	bars  []market.Bar
	since time.Time
}

type sent struct {
	fut    jetstream.PubAckFuture
	msg    *natsclient.Msg
	tries  int
	symbol string
	n      int
}

var (
	_ pipeline.Sink[market.Event] = (*Publisher)(nil)
	_ pipeline.Flusher            = (*Publisher)(nil)
)

// NewPublisher returns a publisher to js's bars stream, which must have
// cfg.Partitions partitions.
func NewPublisher(ctx context.Context, js jetstream.JetStream, cfg PublisherConfig) (*Publisher, error) {
	n, err := OpenLayout(ctx, js, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	if cfg.Partitions != n {
		return nil, fmt.Errorf("nats: stream %s: %w: %d partitions, the publisher was given %d", cfg.Namespace.BarsStream(), ErrLayout, n, cfg.Partitions)
	}
	if cfg.MaxBars <= 0 {
		cfg.MaxBars = DefaultMaxBars
	}
	if cfg.MaxBars > MaxBarsPerMessage {
		return nil, fmt.Errorf("nats: MaxBars %d exceeds %d", cfg.MaxBars, MaxBarsPerMessage)
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Retries <= 0 {
		cfg.Retries = DefaultRetries
	}
	return &Publisher{js: js, cfg: cfg, held: map[string]*heldBars{}, inflight: map[string]*sent{}}, nil
}

// PublisherStats are a publisher's counters.
type PublisherStats struct {
	Messages, Bars int64 // acknowledged by the server
	PublishErrors  int64 // failed attempts (each retried or returned)
}

// Stats returns the counters; it may be called while the publisher runs.
func (p *Publisher) Stats() PublisherStats {
	return PublisherStats{Messages: p.msgs.Load(), Bars: p.bars.Load(), PublishErrors: p.errs.Load()}
}

// Write groups the events' bars and sends every full message.
func (p *Publisher) Write(ctx context.Context, events []market.Event) error {
	for i := range events {
		b := events[i].Bar
		h := p.held[b.Symbol]
		if h == nil {
			h = &heldBars{}
			p.held[b.Symbol] = h
		}
		if len(h.bars) == 0 && p.cfg.Linger > 0 {
			h.since = time.Now()
		}
		h.bars = append(h.bars, b)
		if len(h.bars) == p.cfg.MaxBars {
			if err := p.send(ctx, b.Symbol, h); err != nil {
				return err
			}
		}
	}
	if p.cfg.Linger > 0 {
		now := time.Now()
		for _, sym := range p.heldSymbols() {
			if h := p.held[sym]; now.Sub(h.since) >= p.cfg.Linger {
				if err := p.send(ctx, sym, h); err != nil {
					return err
				}
			}
		}
	}
	return p.reap(ctx, false)
}

// Flush sends every held bar and waits until the server has acknowledged
// all of them.
func (p *Publisher) Flush(ctx context.Context) error {
	for _, sym := range p.heldSymbols() {
		if err := p.send(ctx, sym, p.held[sym]); err != nil {
			return err
		}
	}
	return p.reap(ctx, true)
}

// heldSymbols lists the symbols with bars held, sorted, so that messages
// go out in the same order on every run.
func (p *Publisher) heldSymbols() []string {
	syms := make([]string, 0, len(p.held))
	for s, h := range p.held {
		if len(h.bars) > 0 {
			syms = append(syms, s)
		}
	}
	slices.Sort(syms)
	return syms
}

func (p *Publisher) send(ctx context.Context, symbol string, h *heldBars) error {
	if prev := p.inflight[symbol]; prev != nil {
		if err := p.wait(ctx, prev); err != nil {
			return err
		}
	}
	for len(p.inflight) >= p.cfg.MaxInFlight {
		if err := p.reap(ctx, false); err != nil {
			return err
		}
		if len(p.inflight) >= p.cfg.MaxInFlight {
			for _, s := range p.inflight { // any one: wait for it
				if err := p.wait(ctx, s); err != nil {
					return err
				}
				break
			}
		}
	}
	bars := h.bars
	msg := &natsclient.Msg{
		Subject: p.cfg.Namespace.BarsSubject(Partition(symbol, p.cfg.Partitions), symbol),
		Data:    AppendBars(nil, symbol, bars),
		Header:  natsclient.Header{},
	}
	msg.Header.Set(jetstream.MsgIDHeader, BarsMsgID(symbol, bars[0].Time, bars[len(bars)-1].Time, len(bars)))
	h.bars = h.bars[:0]
	s := &sent{msg: msg, symbol: symbol, n: len(bars)}
	if err := p.publish(ctx, s); err != nil {
		return err
	}
	p.inflight[symbol] = s
	return nil
}

func (p *Publisher) publish(ctx context.Context, s *sent) error {
	for {
		fut, err := p.js.PublishMsgAsync(s.msg)
		if err == nil {
			s.fut = fut
			return nil
		}
		if err := p.failed(ctx, s, err); err != nil {
			return err
		}
	}
}

// failed counts a failed attempt and waits before the next, or returns the
// error once the retries are spent.
func (p *Publisher) failed(ctx context.Context, s *sent, err error) error {
	p.errs.Add(1)
	s.tries++
	if s.tries > p.cfg.Retries {
		return fmt.Errorf("nats: publish %s (%d bars of %s, id %s): %w", s.msg.Subject, s.n, s.symbol,
			s.msg.Header.Get(jetstream.MsgIDHeader), err)
	}
	t := time.NewTimer(time.Duration(s.tries) * 100 * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("nats: publish %s: %w", s.msg.Subject, ctx.Err())
	case <-t.C:
		return nil
	}
}

// wait blocks until s is acknowledged, retrying it (same id, so the server
// keeps one copy) when it fails.
func (p *Publisher) wait(ctx context.Context, s *sent) error {
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("nats: publish %s: %w", s.msg.Subject, ctx.Err())
		case <-s.fut.Ok():
			p.done(s)
			return nil
		case err := <-s.fut.Err():
			if err := p.failed(ctx, s, err); err != nil {
				return err
			}
			if err := p.publish(ctx, s); err != nil {
				return err
			}
		}
	}
}

func (p *Publisher) done(s *sent) {
	if p.inflight[s.symbol] == s {
		delete(p.inflight, s.symbol)
	}
	p.msgs.Add(1)
	p.bars.Add(int64(s.n))
}

// reap collects finished publishes; with all, it waits for every one.
func (p *Publisher) reap(ctx context.Context, all bool) error {
	for _, s := range p.inflight {
		if all {
			if err := p.wait(ctx, s); err != nil {
				return err
			}
			continue
		}
		select {
		case <-s.fut.Ok():
			p.done(s)
		case err := <-s.fut.Err():
			if err := p.failed(ctx, s, err); err != nil {
				return err
			}
			if err := p.publish(ctx, s); err != nil {
				return err
			}
		default:
		}
	}
	return nil
}
