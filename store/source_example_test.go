package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/store"
)

// A pipeline that copies bars from one store to another: store.Source reads
// the symbols (up to MaxConcurrentSymbols at once, emitted in a fixed
// order), store.BarSink writes them.
func ExampleSource() {
	dir, err := os.MkdirTemp("", "tickflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	from, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "from.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer from.Close()
	to, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "to.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer to.Close()
	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	for i, sym := range []string{"SPY", "QQQ"} {
		p := 400 + 10*float64(i)
		if err := from.WriteBars(ctx, "1d", []market.Bar{{Symbol: sym, Time: day, Open: p, High: p, Low: p, Close: p, Volume: 1}}); err != nil {
			log.Fatal(err)
		}
	}

	sink := &store.BarSink{DB: to, Timeframe: "1d"}
	p := pipeline.New(pipeline.Config[market.Event]{Key: market.Event.Key}).
		From("store", &store.Source{DB: from, Timeframe: "1d", Symbols: []string{"SPY", "QQQ"}, MaxConcurrentSymbols: 3}).
		To("copy", sink)
	if err := p.Run(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("copied", sink.Written(), "bars")
	for b, err := range to.Bars(ctx, store.Query{Timeframe: "1d"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.Symbol, b.Close)
	}
	// Output:
	// copied 2 bars
	// QQQ 410
	// SPY 400
}
