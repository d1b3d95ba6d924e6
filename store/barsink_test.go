package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// The sinks package's TestMain belongs to the other sinks' tests; these tests
// check for leaks themselves, each at its end (none runs in parallel).
func noLeaks(t *testing.T) {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) })
}

func openDB(t *testing.T, dbURL string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

var sinkT0 = time.Date(2022, 6, 1, 9, 30, 0, 0, time.UTC)

// barEvents returns n events per symbol, interleaved by time.
func barEvents(syms []string, n int) []market.Event {
	var out []market.Event
	for i := range n {
		for k, s := range syms {
			p := 10 + float64(k) + float64(i%31)/4
			out = append(out, market.Event{Bar: market.Bar{Symbol: s, Time: sinkT0.Add(time.Duration(i) * time.Minute),
				Open: p, High: p + 1, Low: p - 1, Close: p, Volume: float64(i)}})
		}
	}
	return out
}

func readBars(t *testing.T, st store.Store, timeframe string) []market.Bar {
	t.Helper()
	var out []market.Bar
	for b, err := range st.Bars(context.Background(), store.Query{Timeframe: timeframe}) {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func wantBars(events []market.Event) []market.Bar {
	var out []market.Bar
	for _, e := range events {
		out = append(out, e.Bar)
	}
	slices.SortFunc(out, func(a, b market.Bar) int {
		if c := strings.Compare(a.Symbol, b.Symbol); c != 0 {
			return c
		}
		return a.Time.Compare(b.Time)
	})
	return out
}

func TestStoreSink(t *testing.T) {
	noLeaks(t)
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := openDB(t, dbURL)
		events := barEvents([]string{"X", "Y", "Z"}, 700) // 2100 events
		for _, tc := range []struct {
			name      string
			batchSize int
			maxHold   time.Duration
		}{
			{"defaults", 0, 0},
			{"small batches", 100, 0},
			{"held", 500, time.Hour},
		} {
			t.Run(tc.name, func(t *testing.T) {
				sink := &store.BarSink{DB: st, Timeframe: tc.name, BatchSize: tc.batchSize, MaxHold: tc.maxHold}
				for chunk := range slices.Chunk(events, 64) {
					if err := sink.Write(ctx, chunk); err != nil {
						t.Fatal(err)
					}
				}
				if tc.maxHold > 0 && sink.Written() != 2000 {
					t.Fatalf("held sink committed %d before Flush, want 4 batches of 500", sink.Written())
				}
				if err := sink.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				if sink.Written() != int64(len(events)) {
					t.Fatalf("Written = %d", sink.Written())
				}
				if got := readBars(t, st, tc.name); !slices.Equal(got, wantBars(events)) {
					t.Fatalf("store holds %d bars, want %d", len(got), len(events))
				}
				// Recording the same bars again changes nothing.
				if err := sink.Write(ctx, events); err != nil {
					t.Fatal(err)
				}
				if err := sink.Flush(ctx); err != nil {
					t.Fatal(err)
				}
				if got := readBars(t, st, tc.name); !slices.Equal(got, wantBars(events)) {
					t.Fatalf("after a rewrite the store holds %d bars", len(got))
				}
			})
		}
		t.Run("bad bar", func(t *testing.T) {
			bad := barEvents([]string{"Q"}, 5)
			bad[2].High = bad[2].Low - 1
			sink := &store.BarSink{DB: st, Timeframe: "bad"}
			err := sink.Write(ctx, bad)
			var be *store.BarError
			if !errors.As(err, &be) || be.Symbol != "Q" || !be.Time.Equal(bad[2].Time) {
				t.Fatalf("err = %v, want the key of the bad bar", err)
			}
		})
	})
}

// signalEvents returns n bar events of which every third carries a signal.
func signalEvents(n int) []market.Event {
	evs := barEvents([]string{"S1", "S2"}, n/2)
	for i := range evs {
		if i%3 == 0 {
			e := &evs[i]
			side := market.Buy
			if i%2 == 1 {
				side = market.Sell
			}
			e.Signal = &market.Signal{Symbol: e.Symbol, Time: e.Time, Side: side, Price: e.Close,
				Reason: fmt.Sprintf("test %d", i), Indicators: market.DefaultRecord(e.Close-0.5, true, 0.3, 0.2, i%2 == 0)}
		}
	}
	return evs
}

func journalKeys(t *testing.T, st store.Store) []string {
	t.Helper()
	var out []string
	for e, err := range st.Signals(context.Background(), store.SignalQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		s := e.Signal
		out = append(out, fmt.Sprintf("%s %s %s %s %v %q %v", e.Strategy, s.Symbol, s.Time.Format(time.RFC3339Nano), s.Side, s.Price, s.Reason, s.Indicators))
	}
	return out
}

func TestJournalSink(t *testing.T) {
	noLeaks(t)
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := openDB(t, dbURL)
		events := signalEvents(3000) // 1000 signals
		j := &store.Journal{DB: st, BatchSize: 150}
		// Delivered at least once: the first half twice, then all of it again.
		for _, part := range [][]market.Event{events[:1500], events[:1500], events} {
			for chunk := range slices.Chunk(part, 64) {
				if err := j.Write(ctx, chunk); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := j.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if j.Added() != 1000 || j.Duplicates() != 1000 {
			t.Fatalf("added %d, duplicates %d; want 1000 and 1000", j.Added(), j.Duplicates())
		}
		keys := journalKeys(t, st)
		if len(keys) != 1000 || len(slices.Compact(slices.Sorted(slices.Values(keys)))) != 1000 {
			t.Fatalf("journal holds %d entries", len(keys))
		}
		if !strings.HasPrefix(keys[0], store.DefaultStrategy+" ") {
			t.Fatalf("entry %q is not under the default strategy", keys[0])
		}
	})
}

// flakyWrites fails the first `fail` writes with err.
type flakyWrites struct {
	store.Store
	fail  atomic.Int32
	err   error
	calls atomic.Int32
}

func (f *flakyWrites) WriteSignals(ctx context.Context, run *store.Run, s []market.Signal) (int, error) {
	f.calls.Add(1)
	if f.fail.Add(-1) >= 0 {
		return 0, f.err
	}
	return f.Store.WriteSignals(ctx, run, s)
}

func (f *flakyWrites) WriteBars(ctx context.Context, timeframe string, b []market.Bar) error {
	f.calls.Add(1)
	if f.fail.Add(-1) >= 0 {
		return f.err
	}
	return f.Store.WriteBars(ctx, timeframe, b)
}

func TestSinksRetryAndNeverDropSilently(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	st := openDB(t, storetest.SQLiteURL(t))
	events := signalEvents(300) // 100 signals
	transient := fmt.Errorf("connection lost: %w", store.ErrUnavailable)
	fast := store.RetryPolicy{Attempts: 3, Initial: time.Microsecond} // 3 retries: 4 attempts

	// Three transient failures, four attempts: the write goes through.
	f := &flakyWrites{Store: st, err: transient}
	f.fail.Store(3)
	j := &store.Journal{DB: f, Retry: fast}
	if err := j.Write(ctx, events); err != nil {
		t.Fatal(err)
	}
	if j.Added() != 100 || f.calls.Load() != 4 {
		t.Fatalf("added %d in %d calls", j.Added(), f.calls.Load())
	}

	// Retries exhausted: Write fails, the signals stay held, Flush writes them later.
	events = signalEvents(600)
	f = &flakyWrites{Store: st, err: transient}
	f.fail.Store(4)
	j = &store.Journal{DB: f, Retry: fast, Run: store.Run{Strategy: "again"}}
	err := j.Write(ctx, events)
	if !errors.Is(err, store.ErrUnavailable) || !strings.Contains(err.Error(), "4 attempts") {
		t.Fatalf("err = %v", err)
	}
	if err := j.Flush(ctx); err != nil || j.Added() != 200 {
		t.Fatalf("Flush after the outage: %v, added %d", err, j.Added())
	}

	// A permanent error is not retried.
	f = &flakyWrites{Store: st, err: errors.New("disk full")}
	f.fail.Store(1)
	bs := &store.BarSink{DB: f, Retry: fast}
	if err := bs.Write(ctx, events); err == nil || f.calls.Load() != 1 {
		t.Fatalf("err = %v after %d calls", err, f.calls.Load())
	}
}

// TestJournalSurvivesLostConnections terminates the journal's PostgreSQL
// connections between writes: the sink reconnects and loses nothing.
func TestJournalSurvivesLostConnections(t *testing.T) {
	noLeaks(t)
	ctx := context.Background()
	dbURL := storetest.PostgresURL(t)
	app := "tickflow_" + storetest.Schema(dbURL)
	st := openDB(t, dbURL+"&application_name="+app)
	events := signalEvents(3000)
	var retries atomic.Int32
	j := &store.Journal{DB: st, Retry: store.RetryPolicy{Initial: time.Millisecond,
		OnRetry: func(_ int, _ time.Duration, err error) { retries.Add(1); t.Logf("retry after: %v", err) }}}
	for i, chunk := range slices.Collect(slices.Chunk(events, 64)) {
		if i%10 == 5 {
			storetest.Exec(t, dbURL, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, app)
		}
		if err := j.Write(ctx, chunk); err != nil {
			t.Fatal(err)
		}
	}
	if j.Added() != 1000 || len(journalKeys(t, st)) != 1000 {
		t.Fatalf("added %d", j.Added())
	}
	if retries.Load() == 0 {
		t.Fatal("no write met a terminated connection")
	}
}
