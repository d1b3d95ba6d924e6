// Volumefilter adds its own Stage between the indicators and the strategy:
// bars traded on thin volume (below a fraction of the symbol's average so
// far) are held back from the strategy, so no signal comes from them. It
// prints the signals with and without the filter over the built-in data.
//
//	go run ./examples/volumefilter
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

// volumeFilter passes a bar on only when its volume is at least Fraction of
// the symbol's running average volume. The pipeline makes one per worker and
// sends each symbol to one worker, so the averages need no lock.
type volumeFilter struct {
	Fraction float64
	sum      map[string]float64
	n        map[string]float64
	held     int
}

func (f *volumeFilter) Process(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
	f.sum[e.Symbol] += e.Volume
	f.n[e.Symbol]++
	if avg := f.sum[e.Symbol] / f.n[e.Symbol]; e.Volume < f.Fraction*avg {
		f.held++
		return nil // thin bar: the strategy never sees it
	}
	return out.Emit(e)
}

func signalsWith(stages []tickflow.Stage) int64 {
	var count sinks.Discard
	p, err := tickflow.New(&sources.Synthetic{Symbols: 8, Bars: 5000, Seed: 3}, &count,
		tickflow.Config{Stages: stages, SignalsOnly: true})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
	return count.Signals()
}

func main() {
	// The pipeline makes every worker's filter before the workers start, one
	// at a time, and reading held after Run returns is ordered after the
	// workers' last writes: no lock is needed.
	var filters []*volumeFilter
	stage := tickflow.Stage{Name: "volume-filter", New: func() pipeline.Stage[market.Event] {
		f := &volumeFilter{Fraction: 0.5, sum: map[string]float64{}, n: map[string]float64{}}
		filters = append(filters, f)
		return f
	}}
	without := signalsWith(nil)
	with := signalsWith([]tickflow.Stage{stage})
	held := 0
	for _, f := range filters {
		held += f.held
	}
	fmt.Printf("without the filter: %d signals\n", without)
	fmt.Printf("with the filter:    %d signals (%d thin bars held back of %d)\n", with, held, 8*5000)
}
