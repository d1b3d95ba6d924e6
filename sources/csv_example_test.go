package sources_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/sources"
)

// examplePrinter is a stand-in for the pipeline: it prints what a source
// emits (symbol, time, open high low close, volume) and the symbols that
// fail.
type examplePrinter struct{}

func (examplePrinter) Emit(e market.Event) error {
	fmt.Printf("%-4s %s  %v %v %v %v  %v\n", e.Symbol, e.Time.Format(time.RFC3339), e.Open, e.High, e.Low, e.Close, e.Volume)
	return nil
}

func (examplePrinter) Flush() error { return nil }

func (examplePrinter) Fail(symbol string, err error) {
	fmt.Printf("FAIL %s: %v\n", symbol, err)
}

// A bad row fails its symbol; the other symbols go on.
func ExampleCSV() {
	src := &sources.CSV{Paths: []string{"testdata/example.csv"}}
	if err := src.Produce(context.Background(), examplePrinter{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// AAPL 2024-01-02T14:30:00Z  185.5 186 185 185.64  1000
	// MSFT 2024-01-02T14:30:00Z  375 376 374.5 375.25  2000
	// FAIL AAPL: sources.CSV: testdata/example.csv:4: close: "abc" is not a number
	// MSFT 2024-01-02T14:31:00Z  375.25 375.4 375.2 375.3  2100
}

// With SkipBadRows the bad row is skipped and counted instead.
func ExampleCSV_skipBadRows() {
	src := &sources.CSV{Paths: []string{"testdata/example.csv"}, SkipBadRows: true}
	if err := src.Produce(context.Background(), examplePrinter{}); err != nil {
		fmt.Println(err)
	}
	fmt.Println("skipped:", src.Skipped(), src.SkipReasons())
	// Output:
	// AAPL 2024-01-02T14:30:00Z  185.5 186 185 185.64  1000
	// MSFT 2024-01-02T14:30:00Z  375 376 374.5 375.25  2000
	// MSFT 2024-01-02T14:31:00Z  375.25 375.4 375.2 375.3  2100
	// AAPL 2024-01-02T14:32:00Z  185.7 185.8 185.7 185.8  900
	// skipped: 1 [sources.CSV: testdata/example.csv:4: close: "abc" is not a number]
}

// A Yahoo Finance export, newest first with a repeated day: the symbol is the
// file name, close the Close column, the repeat is dropped, and Stats tells.
func ExampleCSV_Stats() {
	src := &sources.CSV{Paths: []string{"testdata/yahoo"}}
	if err := src.Produce(context.Background(), examplePrinter{}); err != nil {
		fmt.Println(err)
	}
	for _, f := range src.Stats() {
		for _, s := range f.Symbols {
			fmt.Printf("%s (%s, %q): %s %d rows, %d bars, %d duplicates, %v\n",
				f.Path, f.Layout, f.Delimiter, s.Symbol, s.Rows, s.Bars, s.Duplicates, s.Order)
		}
	}
	// Output:
	// SPY  2024-01-02T00:00:00Z  472.16 473.67 470.49 472.65  1.236237e+08
	// SPY  2024-01-03T00:00:00Z  470.43 471.19 468.17 468.79  1.035859e+08
	// SPY  2024-01-04T00:00:00Z  468.3 470.96 467.05 467.28  8.42322e+07
	// SPY  2024-01-05T00:00:00Z  467.49 470.44 466.43 467.92  8.60608e+07
	// testdata/yahoo/SPY.csv (header, ','): SPY 5 rows, 4 bars, 1 duplicates, descending
}

// Columns picks other columns: here Yahoo's Adj Close as close, which
// adjusts open, high and low by the same ratio.
func ExampleCSV_columns() {
	cols, err := sources.ParseCSVColumns("close=Adj Close") // as --columns takes it
	if err != nil {
		fmt.Println(err)
		return
	}
	src := &sources.CSV{Paths: []string{"testdata/yahoo/SPY.csv"}, Columns: cols}
	if err := src.Produce(context.Background(), examplePrinter{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SPY  2024-01-02T00:00:00Z  466.71565005818263 468.20823865439553 465.06490637892733 467.2  1.236237e+08
	// SPY  2024-01-03T00:00:00Z  465.00107382836666 465.7523031634634 462.7671550161053 463.38  1.035859e+08
	// SPY  2024-01-04T00:00:00Z  462.8982344632769 465.5275517890772 461.6626530131827 461.89  8.42322e+07
	// SPY  2024-01-05T00:00:00Z  462.09496238673273 465.0109181056591 461.04719524705075 462.52  8.60608e+07
}
