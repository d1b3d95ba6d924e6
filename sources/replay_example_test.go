package sources_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/sources"
)

// A history that holds one symbol after the other goes out merged by bar
// time. At --replay-speed 60x, each minute of bars would take a second.
func ExampleReplay() {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	history := sources.BarSlice{
		{Symbol: "AAA", Time: t0, Open: 10, High: 11, Low: 9, Close: 10, Volume: 100},
		{Symbol: "AAA", Time: t0.Add(time.Minute), Open: 10, High: 12, Low: 10, Close: 12, Volume: 200},
		{Symbol: "BBB", Time: t0, Open: 50, High: 50, Low: 49, Close: 49, Volume: 300},
		{Symbol: "BBB", Time: t0.Add(time.Minute), Open: 49, High: 51, Low: 49, Close: 51, Volume: 400},
	}
	speed, err := sources.ParseReplaySpeed("max")
	if err != nil {
		fmt.Println(err)
		return
	}
	src := &sources.Replay{Source: history, Speed: speed}
	if err := src.Produce(context.Background(), examplePrinter{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// AAA  2024-01-02T14:30:00Z  10 11 9 10  100
	// BBB  2024-01-02T14:30:00Z  50 50 49 49  300
	// AAA  2024-01-02T14:31:00Z  10 12 10 12  200
	// BBB  2024-01-02T14:31:00Z  49 51 49 51  400
}
