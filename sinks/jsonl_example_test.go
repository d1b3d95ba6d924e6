package sinks_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/sinks"
)

// exampleEvents are three bars of AAPL as the strategy stage passes them on:
// indicators not yet defined, then defined, then a buy signal.
func exampleEvents() []market.Event {
	t := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	return []market.Event{
		{Bar: market.Bar{Symbol: "AAPL", Time: t, Close: 185.64}},
		{Bar: market.Bar{Symbol: "AAPL", Time: t.Add(time.Minute), Close: 185.5},
			Indicators: market.DefaultRecord(185.52, true, 12.5, 15.25, true)},
		{Bar: market.Bar{Symbol: "AAPL", Time: t.Add(2 * time.Minute), Close: 185.9},
			Indicators: market.DefaultRecord(185.56, true, 18.75, 16, true),
			Signal: &market.Signal{Symbol: "AAPL", Time: t.Add(2 * time.Minute), Side: market.Buy, Price: 185.9,
				Reason: "stochrsi K crossed above D below 20, close above EMA"}},
	}
}

func ExampleJSONL() {
	ctx := context.Background()
	sink := &sinks.JSONL{W: os.Stdout, Emit: sinks.EmitIndicators}
	if err := sink.Write(ctx, exampleEvents()); err != nil {
		fmt.Println(err)
	}
	if err := sink.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"symbol":"AAPL","time":"2024-01-02T14:30:00Z","close":185.64,"ema":null,"stochrsi_k":null,"stochrsi_d":null}
	// {"symbol":"AAPL","time":"2024-01-02T14:31:00Z","close":185.5,"ema":185.52,"stochrsi_k":12.5,"stochrsi_d":15.25}
	// {"symbol":"AAPL","time":"2024-01-02T14:32:00Z","close":185.9,"ema":185.56,"stochrsi_k":18.75,"stochrsi_d":16}
}

// The default record is one per signal.
func ExampleJSONL_signals() {
	ctx := context.Background()
	sink := &sinks.JSONL{W: os.Stdout}
	if err := sink.Write(ctx, exampleEvents()); err != nil {
		fmt.Println(err)
	}
	if err := sink.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"symbol":"AAPL","time":"2024-01-02T14:32:00Z","side":"buy","price":185.9,"reason":"stochrsi K crossed above D below 20, close above EMA"}
}

// Tee writes signals as a table for the terminal and, in the same run,
// indicators as CSV for a file (here also the terminal).
func ExampleTee() {
	ctx := context.Background()
	table := &sinks.Table{W: os.Stdout}
	csv := &sinks.CSV{W: os.Stdout, Emit: sinks.EmitIndicators}
	sink := sinks.Tee(table, csv)
	if err := sink.Write(ctx, exampleEvents()); err != nil {
		fmt.Println(err)
	}
	if err := sink.Flush(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SYMBOL     TIME                 SIDE        PRICE  REASON
	// AAPL       2024-01-02 14:32:00  buy         185.9  stochrsi K crossed above D below 20, close above EMA
	// symbol,time,close,ema,stochrsi_k,stochrsi_d
	// AAPL,2024-01-02T14:30:00Z,185.64,,,
	// AAPL,2024-01-02T14:31:00Z,185.5,185.52,12.5,15.25
	// AAPL,2024-01-02T14:32:00Z,185.9,185.56,18.75,16
}
