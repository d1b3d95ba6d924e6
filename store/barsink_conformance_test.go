package store_test

import (
	"slices"
	"testing"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// The Store and Journal sinks pass the pipeline's conformance checks on both
// backends, and what they stored is the items given, once each, even though
// every check writes the same items again to the same database.
func TestStoreSinksConformance(t *testing.T) {
	events := signalEvents(600) // 200 signals
	storetest.Each(t, func(t *testing.T, dbURL string) {
		st := openDB(t, dbURL)
		for _, hold := range []string{"commit each write", "hold"} {
			t.Run("Store "+hold, func(t *testing.T) {
				pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] {
					s := &store.BarSink{DB: st, Timeframe: hold, BatchSize: 50}
					if hold == "hold" {
						s.MaxHold = 1 << 62
					}
					return s
				}, events, func(t *testing.T, _ pipeline.Sink[market.Event]) {
					if got := readBars(t, st, hold); !slices.Equal(got, wantBars(events)) {
						t.Errorf("store holds %d bars, want %d", len(got), len(events))
					}
				})
			})
			t.Run("Journal "+hold, func(t *testing.T) {
				pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] {
					j := &store.Journal{DB: st, Run: store.Run{Strategy: hold}, BatchSize: 50}
					if hold == "hold" {
						j.MaxHold = 1 << 62
					}
					return j
				}, events, func(t *testing.T, _ pipeline.Sink[market.Event]) {
					n := 0
					for _, k := range journalKeys(t, st) {
						if len(k) > len(hold) && k[:len(hold)+1] == hold+" " {
							n++
						}
					}
					if n != 200 {
						t.Errorf("journal holds %d signals of %q, want 200", n, hold)
					}
				})
			})
		}
	})
}
