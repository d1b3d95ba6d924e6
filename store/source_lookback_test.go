package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// otherStore hides the SQL store behind another type: Source then finds the
// look-back by scanning, as it must for a Store it does not know.
type otherStore struct{ store.Store }

// TestStoreSourceLookback: with Start and Lookback, each symbol's read
// begins Lookback bars before Start (all of them when it has fewer), found
// by the SQL stores' query or by a scan of any other Store, to the same
// bars; a Start a nanosecond after a bar keeps that bar in the look-back.
func TestStoreSourceLookback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		st := openStore(t, dbURL)
		syms := []string{"AAA", "BBB", "DDD"}
		all := fillStore(t, st, syms, []int{1500, 3, 2000})
		for _, tc := range []struct {
			name     string
			start    time.Time
			lookback int
		}{
			{"100 bars", storeT0.Add(1000 * time.Hour), 100},
			{"start between bars", storeT0.Add(1000*time.Hour + time.Nanosecond), 100},
			{"one bar", storeT0.Add(1000 * time.Hour), 1},
			{"more than there are", storeT0.Add(1000 * time.Hour), 5000},
		} {
			end := tc.start.Add(200 * time.Hour)
			var want []market.Bar
			for _, s := range syms {
				var before []market.Bar
				for _, b := range all {
					if b.Symbol != s {
						continue
					}
					if b.Time.Before(tc.start) {
						before = append(before, b)
					} else if b.Time.Before(end) {
						if len(before) > tc.lookback {
							before = before[len(before)-tc.lookback:]
						}
						want = append(want, before...)
						before = nil
						want = append(want, b)
					}
				}
				if len(before) > tc.lookback {
					before = before[len(before)-tc.lookback:]
				}
				want = append(want, before...) // BBB: no bar in the window
			}
			for how, db := range map[string]store.Store{"query": st, "scan": otherStore{st}} {
				t.Run(tc.name+"/"+how, func(t *testing.T) {
					em := &storeEmitter{}
					src := &store.Source{DB: db, Timeframe: "1h", Symbols: syms, Start: tc.start, End: end, Lookback: tc.lookback}
					if err := src.Produce(context.Background(), em); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(em.bars, want) || len(em.fails) != 0 {
						t.Fatalf("got %d bars (fails %v), want %d", len(em.bars), em.fails, len(want))
					}
				})
			}
		}
		t.Run("no start", func(t *testing.T) {
			em := &storeEmitter{}
			src := &store.Source{DB: st, Timeframe: "1h", Lookback: 10}
			if err := src.Produce(context.Background(), em); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(em.bars, all) {
				t.Fatalf("got %d bars, want all %d", len(em.bars), len(all))
			}
		})
	})
}
