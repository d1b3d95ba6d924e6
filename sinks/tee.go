package sinks

import (
	"context"
	"errors"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// TeeSink is a sink that hands every batch to several sinks; make one with
// [Tee].
type TeeSink struct {
	sinks []pipeline.Sink[market.Event]
}

// Tee returns a sink that writes every batch to each of sinks, in order. All
// of them get the same batch, which none may keep or change (as for any
// sink). Flush and Close are passed on to the sinks that have them.
//
// A sink's error does not keep the batch from the others: Write, Flush and
// Close call every sink and return their errors joined.
func Tee(sinks ...pipeline.Sink[market.Event]) *TeeSink {
	return &TeeSink{sinks: sinks}
}

// Write writes items to every sink.
func (t *TeeSink) Write(ctx context.Context, items []market.Event) error {
	var errs []error
	for _, s := range t.sinks {
		if err := s.Write(ctx, items); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Flush flushes every sink that is a pipeline.Flusher.
func (t *TeeSink) Flush(ctx context.Context) error {
	var errs []error
	for _, s := range t.sinks {
		if f, ok := s.(pipeline.Flusher); ok {
			if err := f.Flush(ctx); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Close closes every sink that is a pipeline.Closer.
func (t *TeeSink) Close() error {
	var errs []error
	for _, s := range t.sinks {
		if c, ok := s.(pipeline.Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
