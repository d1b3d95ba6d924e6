package main

import (
	"context"
	"sync"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// tally counts bars and symbols in the workers: each worker owns its
// symbols, so the distinct counts add up without a shared set.
type tally struct {
	mu     sync.Mutex
	stages []*tallyStage
}

type tallyStage struct {
	bars    int64
	symbols map[string]struct{}
}

func (t *tally) stage() pipeline.Stage[market.Event] {
	s := &tallyStage{symbols: map[string]struct{}{}}
	t.mu.Lock()
	t.stages = append(t.stages, s)
	t.mu.Unlock()
	return s
}

func (s *tallyStage) Process(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
	s.bars++
	if _, ok := s.symbols[e.Symbol]; !ok {
		s.symbols[e.Symbol] = struct{}{}
	}
	return out.Emit(e)
}

// totals must be called after the pipeline's Run has returned.
func (t *tally) totals() (bars int64, symbols int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.stages {
		bars += s.bars
		symbols += len(s.symbols)
	}
	return bars, symbols
}

// signalCount passes batches on to the real sink and counts signals.
type signalCount struct {
	next pipeline.Sink[market.Event]
	n    int64
}

func (s *signalCount) Write(ctx context.Context, items []market.Event) error {
	for i := range items {
		if items[i].Signal != nil {
			s.n++
		}
	}
	return s.next.Write(ctx, items)
}

func (s *signalCount) Flush(ctx context.Context) error {
	if f, ok := s.next.(pipeline.Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}

func (s *signalCount) Close() error {
	if c, ok := s.next.(pipeline.Closer); ok {
		return c.Close()
	}
	return nil
}
