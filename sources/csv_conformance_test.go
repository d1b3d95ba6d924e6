package sources

import (
	"testing"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

// The sources of this file set pass the pipeline's conformance checks.
func TestBasicSourcesConformance(t *testing.T) {
	t.Run("CSV", func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &CSV{Paths: []string{"testdata/good.csv", "testdata/dir"}}
		}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 3})
	})
	t.Run("CSV with failures", func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &CSV{Paths: []string{"testdata/bad.csv"}}
		}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 3})
	})
	t.Run("Synthetic", func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &Synthetic{Symbols: 3, Bars: 500}
		}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 100})
	})
	t.Run("Synthetic live", func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return &Synthetic{Symbols: 3, Live: true, Rate: 5000}
		}, pipelinetest.SourceOptions{MinItems: 20})
	})
	t.Run("BarSlice", func(t *testing.T) {
		bars := make([]market.Bar, 3000)
		for i := range bars {
			bars[i] = market.Bar{Symbol: "A", Close: float64(i)}
		}
		pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
			return BarSlice(bars)
		}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 10})
	})
}
