package sources

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/store"
)

// DefaultMaxConcurrentSymbols is the ADR's max_concurrent_symbols: how many
// symbols a Store source reads at once by default.
const DefaultMaxConcurrentSymbols = 10

// ErrNoBars is the failure of a symbol that Store.Symbols names but that has
// no bars in the range.
var ErrNoBars = errors.New("no bars in the store for this symbol, timeframe and range")

// storeChunk is how many bars a reader hands to Produce at a time.
const storeChunk = 512

// Store reads bars from a bar store ([store.Store]) for a set of symbols and
// a time range. Each symbol is read by its own streaming query, several
// symbols at once, and emitted whole, one symbol after another in the order
// of Symbols (sorted when Symbols is empty), each in time order:
//
//	DB ──query AAPL──▶ reader 1 ─┐  (up to MaxConcurrentSymbols readers,
//	DB ──query MSFT──▶ reader 2 ─┼─▶ Produce ──Emit──▶ pipeline
//	DB ──query SPY ──▶ reader 3 ─┘   each holding a few chunks ahead)
//
// So the output is the same whatever the concurrency, and memory stays at
// a few chunks of bars per reader. A reader that loses its connection
// waits and retries (Retry) from the bar after the last one it read; a
// symbol whose read still fails, or that has no bars in the range, fails
// alone (Emitter.Fail) and the others go on.
//
// The zero value but DB is the default: every symbol of the empty
// timeframe, all times.
type Store struct {
	// DB is the store to read; required. Produce does not close it.
	DB store.Store
	// Symbols to read, in this order; empty means every symbol the store
	// has for Timeframe, sorted.
	Symbols []string
	// Timeframe of the bars (see store.Query).
	Timeframe string
	// Start and End bound bar times to [Start, End); zero is unbounded.
	Start, End time.Time
	// MaxConcurrentSymbols bounds how many symbols are read at once (default
	// DefaultMaxConcurrentSymbols). It is further capped at DB.MaxConns()-1,
	// leaving a connection for a sink writing to the same store: raise a
	// PostgreSQL pool with pool_max_conns in the URL.
	MaxConcurrentSymbols int
	// Retry governs retries of reads that fail with a transient error.
	Retry store.Backoff
}

var _ pipeline.Source[market.Event] = (*Store)(nil)

// storeRead is a chunk of one symbol's bars, or its final error.
type storeRead struct {
	bars []market.Bar
	err  error
}

// Produce emits the bars. It returns nil when every symbol has been read
// (failed symbols are reported through out.Fail), ctx.Err() once ctx is
// done, or an error when the symbols cannot be listed.
func (s *Store) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	if s.DB == nil {
		return errors.New("sources.Store: no DB")
	}
	var symbols []string
	seen := make(map[string]bool, len(s.Symbols))
	for _, sym := range s.Symbols { // a symbol named twice is read once
		if !seen[sym] {
			seen[sym] = true
			symbols = append(symbols, sym)
		}
	}
	if len(symbols) == 0 {
		err := s.Retry.Do(ctx, func(ctx context.Context) error {
			var err error
			symbols, err = s.DB.Symbols(ctx, s.Timeframe)
			return err
		})
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("sources.Store: list symbols: %w", err)
		}
	}
	limit := s.MaxConcurrentSymbols
	if limit <= 0 {
		limit = DefaultMaxConcurrentSymbols
	}
	limit = min(limit, max(1, s.DB.MaxConns()-1), max(1, len(symbols)))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The launcher starts one reader per symbol, in order, never more than
	// limit at once, and hands Produce each reader's channel in that order.
	// A reader that finished early holds its last chunks in its channel, so
	// at most limit more channels wait in order.
	slots := make(chan struct{}, limit)
	order := make(chan chan storeRead, limit)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(order)
		for _, sym := range symbols {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				return
			}
			ch := make(chan storeRead, 2)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				defer close(ch)
				s.read(ctx, sym, ch)
			}()
			select {
			case order <- ch:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: stop the readers on an early return

	i := 0
	for ch := range order {
		sym := symbols[i]
		i++
		n, failed := 0, false
		for r := range ch {
			if r.err != nil {
				out.Fail(sym, r.err)
				failed = true
				continue
			}
			for _, b := range r.bars {
				if err := out.Emit(market.Event{Bar: b}); err != nil {
					if cerr := ctx.Err(); cerr != nil {
						return cerr
					}
					return err
				}
			}
			n += len(r.bars)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if n == 0 && len(s.Symbols) > 0 && !failed {
			out.Fail(sym, fmt.Errorf("sources.Store: %s: %w", sym, ErrNoBars))
		}
	}
	return ctx.Err()
}

// read streams one symbol's bars into ch in chunks, retrying transient
// errors from the bar after the last one read. Its last message is an
// error, if any.
func (s *Store) read(ctx context.Context, sym string, ch chan<- storeRead) {
	var last time.Time // time of the last bar sent
	started := false
	send := func(r storeRead) bool {
		select {
		case ch <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	err := s.Retry.Do(ctx, func(ctx context.Context) error {
		q := store.Query{Symbols: []string{sym}, Timeframe: s.Timeframe, Start: s.Start, End: s.End}
		if started {
			q.Start = last // bars up to last are skipped below
		}
		buf := make([]market.Bar, 0, storeChunk)
		for b, err := range s.DB.Bars(ctx, q) {
			if err != nil {
				if len(buf) > 0 && send(storeRead{bars: buf}) {
					last, started = buf[len(buf)-1].Time, true
				}
				return err
			}
			if started && !b.Time.After(last) {
				continue
			}
			buf = append(buf, b)
			if len(buf) == storeChunk {
				if !send(storeRead{bars: buf}) {
					return ctx.Err()
				}
				last, started = b.Time, true
				buf = make([]market.Bar, 0, storeChunk)
			}
		}
		if len(buf) > 0 && !send(storeRead{bars: buf}) {
			return ctx.Err()
		}
		return nil
	})
	if err != nil && ctx.Err() == nil {
		send(storeRead{err: fmt.Errorf("sources.Store: %s: %w", sym, err)})
	}
}
