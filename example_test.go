package tickflow_test

import (
	"context"
	"fmt"
	"os"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

// The StochRSI/EMA pipeline over two seeded random walks, its signals
// written as JSON lines.
func ExampleNew() {
	src := &sources.Synthetic{Symbols: 2, Bars: 130, Seed: 1}
	out := &sinks.JSONL{W: os.Stdout, Emit: sinks.EmitSignals}
	p, err := tickflow.New(src, out, tickflow.Config{SignalsOnly: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"symbol":"SYM2","time":"2024-01-02T16:21:00Z","side":"buy","price":114.01738156270532,"reason":"stochrsi crossed up below 20, close above ema"}
	// {"symbol":"SYM2","time":"2024-01-02T16:22:00Z","side":"sell","price":113.47961641982764,"reason":"close below ema"}
	// {"symbol":"SYM2","time":"2024-01-02T16:26:00Z","side":"buy","price":114.61273988548574,"reason":"stochrsi crossed up below 20, close above ema"}
	// {"symbol":"SYM1","time":"2024-01-02T16:30:00Z","side":"buy","price":87.94492581772651,"reason":"stochrsi crossed up below 20, close above ema"}
	// {"symbol":"SYM2","time":"2024-01-02T16:33:00Z","side":"sell","price":120.58986471520392,"reason":"stochrsi crossed down above 80"}
	// {"symbol":"SYM1","time":"2024-01-02T16:35:00Z","side":"sell","price":87.24631501891275,"reason":"close below ema"}
}
