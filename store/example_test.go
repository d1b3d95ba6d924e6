package store_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
)

func Example() {
	dir, err := os.MkdirTemp("", "tickflow-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "bars.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	day := time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)
	bars := []market.Bar{
		{Symbol: "SPY", Time: day, Open: 472.2, High: 473.7, Low: 470.5, Close: 472.7, Volume: 1.2e8},
		{Symbol: "SPY", Time: day.AddDate(0, 0, 1), Open: 470.4, High: 471.2, Low: 468.2, Close: 468.8, Volume: 1.0e8},
	}
	// Importing twice stores each bar once.
	for range 2 {
		if err := st.WriteBars(ctx, "1d", bars); err != nil {
			log.Fatal(err)
		}
	}
	for b, err := range st.Bars(ctx, store.Query{Symbols: []string{"SPY"}, Timeframe: "1d"}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.Symbol, b.Time.Format(time.DateOnly), b.Close)
	}

	// A run's signals are journaled under its ID; journaling the same
	// signal twice records it once.
	run, err := st.StartRun(ctx, store.Run{Command: "example", Strategy: "stochrsi-ema",
		Params: []store.Param{{Name: "oversold", Value: 20}, {Name: "overbought", Value: 80}}})
	if err != nil {
		log.Fatal(err)
	}
	sig := market.Signal{Symbol: "SPY", Time: bars[1].Time, Side: market.Sell, Price: 468.8, Reason: "close below EMA",
		Indicators: market.DefaultRecord(470.1, true, 0, 0, false)}
	for range 2 {
		added, err := st.WriteSignals(ctx, &run, []market.Signal{sig})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("new signals:", added)
	}
	for e, err := range st.Signals(ctx, store.SignalQuery{Run: run.ID}) {
		if err != nil {
			log.Fatal(err)
		}
		ema, _ := e.Signal.Indicators.Lookup("ema")
		fmt.Println("run", e.Run, e.Signal.Symbol, e.Signal.Side, "ema", ema)
	}
	// Output:
	// SPY 2024-01-02 472.7
	// SPY 2024-01-03 468.8
	// new signals: 1
	// new signals: 0
	// run 1 SPY sell ema 470.1
}
