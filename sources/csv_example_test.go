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
