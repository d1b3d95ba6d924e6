package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// DefaultMaxConcurrentSymbols is the ADR's max_concurrent_symbols: how many
// symbols a Source reads at once by default.
const DefaultMaxConcurrentSymbols = pipeline.DefaultFetchLimit

// ErrNoBars is the failure of a symbol that Source.Symbols names but that
// has no bars in the range.
var ErrNoBars = errors.New("no bars in the store for this symbol, timeframe and range")

// Source reads bars from a bar store for a set of symbols and a time
// range. Each symbol is read by its own query, several symbols at once
// (through pipeline.FetchEach), and emitted whole, one symbol after
// another in the order of Symbols (sorted when Symbols is empty), each in
// time order:
//
//	DB ──query AAPL──▶ fetch 1 ─┐  (up to MaxConcurrentSymbols at once)
//	DB ──query MSFT──▶ fetch 2 ─┼─▶ in symbol order ──Emit──▶ pipeline
//	DB ──query SPY ──▶ fetch 3 ─┘
//
// So the output is the same whatever the concurrency. A symbol's bars are
// held in memory until its turn, so at most MaxConcurrentSymbols symbols'
// bars are held at once. A read that fails with a transient error is
// retried whole (Retry); a symbol whose read still fails, or that has no
// bars in the range, fails alone (Emitter.Fail) and the others go on.
//
// The zero value but DB is the default: every symbol of the empty
// timeframe, all times.
type Source struct {
	// DB is the store to read; required. Produce does not close it.
	DB Store
	// Symbols to read, in this order; empty means every symbol the store
	// has for Timeframe, sorted.
	Symbols []string
	// Timeframe of the bars (see Query).
	Timeframe string
	// Start and End bound bar times to [Start, End); zero is unbounded.
	Start, End time.Time
	// Lookback, with a Start, also reads up to this many bars of each
	// symbol before Start: the warm-up of a window's indicators (a symbol
	// with fewer gets all of them). One indexed query per symbol finds
	// where its look-back begins. Zero reads from Start.
	Lookback int
	// MaxConcurrentSymbols bounds how many symbols are read at once (default
	// DefaultMaxConcurrentSymbols). It is further capped at DB.MaxConns()-1,
	// leaving a connection for a sink writing to the same store: raise a
	// PostgreSQL pool with pool_max_conns in the URL.
	MaxConcurrentSymbols int
	// Retry governs retries of reads that fail with a transient error.
	Retry RetryPolicy
	// Observer, if set, is told of every read (OpRead).
	Observer Observer
}

var _ pipeline.Source[market.Event] = (*Source)(nil)

const sourceName = "store.Source"

// Produce emits the bars. It returns nil when every symbol has been read
// (failed symbols are reported through out.Fail), ctx.Err() once ctx is
// done, or an error when the symbols cannot be listed.
func (s *Source) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	if s.DB == nil {
		return fmt.Errorf("%s: no DB", sourceName)
	}
	observeDeclare(s.Observer, OpRead)
	var symbols []string
	seen := make(map[string]bool, len(s.Symbols))
	for _, sym := range s.Symbols { // a symbol named twice is read once
		if !seen[sym] {
			seen[sym] = true
			symbols = append(symbols, sym)
		}
	}
	if len(symbols) == 0 {
		err := do(ctx, s.Retry, s.Observer, OpRead, func(ctx context.Context) error {
			var err error
			symbols, err = s.DB.Symbols(ctx, s.Timeframe)
			return err
		})
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return fmt.Errorf("%s: list symbols: %w", sourceName, err)
		}
	}
	limit := s.MaxConcurrentSymbols
	if limit <= 0 {
		limit = DefaultMaxConcurrentSymbols
	}
	limit = min(limit, max(1, s.DB.MaxConns()-1))
	named := len(s.Symbols) > 0
	fe := &pipeline.FetchEach[market.Event]{Keys: symbols, Limit: limit,
		Fetch: func(ctx context.Context, sym string) ([]market.Event, error) {
			events, err := s.read(ctx, sym)
			if err == nil && len(events) == 0 && named {
				err = fmt.Errorf("%s: %s: %w", sourceName, sym, ErrNoBars)
			}
			return events, err
		}}
	return fe.Produce(ctx, out)
}

// read reads one symbol's bars whole, retrying transient errors (a retry
// reads again from the start: the attempt's bars are dropped).
func (s *Source) read(ctx context.Context, sym string) ([]market.Event, error) {
	var events []market.Event
	err := do(ctx, s.Retry, s.Observer, OpRead, func(ctx context.Context) error {
		events = events[:0]
		q := Query{Symbols: []string{sym}, Timeframe: s.Timeframe, Start: s.Start, End: s.End}
		if s.Lookback > 0 && !s.Start.IsZero() {
			from, err := lookbackFrom(ctx, s.DB, sym, s.Timeframe, s.Start, s.Lookback)
			if err != nil {
				return err
			}
			q.Start = from
		}
		for b, err := range s.DB.Bars(ctx, q) {
			if err != nil {
				return err
			}
			events = append(events, market.Event{Bar: b})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", sourceName, sym, err)
	}
	return events, nil
}

// lookbackFrom is the time of sym's n-th bar before start, counting back:
// reading from it gives n bars before start (zero, all of them, when there
// are fewer). The SQL stores answer with one query on their primary key;
// another Store is scanned up to start.
func lookbackFrom(ctx context.Context, db Store, sym, timeframe string, start time.Time, n int) (time.Time, error) {
	switch d := db.(type) {
	case *sqliteStore:
		var ns int64
		err := d.db.QueryRowContext(ctx, `SELECT time FROM bars WHERE symbol = ? AND timeframe = ? AND time < ?
			ORDER BY time DESC LIMIT 1 OFFSET ?`, sym, timeframe, clampNano(start), n-1).Scan(&ns)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return time.Time{}, nil
		case err != nil:
			return time.Time{}, d.wrap("look back", err)
		}
		return time.Unix(0, ns).UTC(), nil
	case *pgStore:
		var t time.Time
		err := d.pool.QueryRow(ctx, `SELECT time FROM bars WHERE symbol = $1 AND timeframe = $2 AND time < $3
			ORDER BY time DESC LIMIT 1 OFFSET $4`, sym, timeframe, ceilMicro(start), n-1).Scan(&t)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return time.Time{}, nil
		case err != nil:
			return time.Time{}, d.wrap("look back", err)
		}
		return t.UTC(), nil
	}
	ring := make([]time.Time, 0, min(n, 1024))
	next := 0
	for b, err := range db.Bars(ctx, Query{Symbols: []string{sym}, Timeframe: timeframe, End: start}) {
		if err != nil {
			return time.Time{}, err
		}
		if len(ring) < n {
			ring = append(ring, b.Time)
		} else {
			ring[next] = b.Time
			next = (next + 1) % n
		}
	}
	if len(ring) < n {
		return time.Time{}, nil
	}
	return ring[next], nil
}
