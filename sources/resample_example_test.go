package sources_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/sources"
)

// Six 1-minute bars from 14:30 make two 5-minute bars: 14:30 of five bars,
// and 14:35 of one, emitted at the end of the input.
func ExampleResample() {
	src := &sources.Resample{
		Source:    &sources.Synthetic{Names: []string{"SPY"}, Bars: 6, Tick: 0.01},
		Timeframe: 5 * time.Minute,
	}
	if err := src.Produce(context.Background(), examplePrinter{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// SPY  2024-01-02T14:30:00Z  100 102.64 99.65 102.25  24645
	// SPY  2024-01-02T14:35:00Z  102.25 102.32 101.3 101.44  6694
}
