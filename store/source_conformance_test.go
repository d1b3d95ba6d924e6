package store_test

import (
	"testing"

	"github.com/tickflow/tickflow/store"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/store/storetest"
)

// The Store source passes the pipeline's conformance checks on both backends.
func TestStoreSourceConformance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		st := openStore(t, dbURL)
		fillStore(t, st, []string{"AAA", "BBB", "CCC"}, []int{1200, 40, 700})
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &store.Source{DB: st, Timeframe: "1h", MaxConcurrentSymbols: 2}
		}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 1000})
	})
}
