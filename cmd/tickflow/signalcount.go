package main

import (
	"context"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

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
