package sources_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tickflow/tickflow/sources"
)

// Two symbols on whole-unit ticks, three bars each, interleaved by time.
func ExampleSynthetic() {
	src := &sources.Synthetic{
		Names:    []string{"AAA", "BBB"},
		Bars:     3,
		Seed:     42,
		Interval: time.Hour,
		Tick:     1,
	}
	if err := src.Produce(context.Background(), examplePrinter{}); err != nil {
		fmt.Println(err)
	}
	// Output:
	// AAA  2024-01-02T14:30:00Z  100 100 100 100  2379
	// BBB  2024-01-02T14:30:00Z  100 100 99 99  8159
	// AAA  2024-01-02T15:30:00Z  100 100 100 100  9429
	// BBB  2024-01-02T15:30:00Z  99 100 99 100  3056
	// AAA  2024-01-02T16:30:00Z  100 101 100 101  6627
	// BBB  2024-01-02T16:30:00Z  100 100 100 100  3780
}
