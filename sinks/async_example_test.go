package sinks_test

import (
	"context"
	"fmt"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
)

// A slow sink (an order API with retries) runs behind a queue, so the other
// sinks of the Tee and the source keep their pace; a full queue drops the
// oldest event, counted and reported.
func ExampleAsync() {
	orders := pipeline.SinkFunc[market.Event](func(_ context.Context, events []market.Event) error {
		for _, e := range events {
			fmt.Println("order", e.Symbol, e.Close) // waits on the API in real life
		}
		return nil
	})
	queued := sinks.Async(orders, sinks.AsyncConfig{Capacity: 256, Overflow: pipeline.DropOldest,
		OnDrop: func(e market.Event, reason string) { fmt.Println("dropped", e.Symbol, reason) }})
	var count sinks.Discard
	p := pipeline.New(pipeline.Config[market.Event]{}).
		From("bars", pipeline.SourceFunc[market.Event](func(_ context.Context, out pipeline.Emitter[market.Event]) error {
			for i, sym := range []string{"AAPL", "MSFT", "AAPL"} {
				if err := out.Emit(market.Event{Bar: market.Bar{Symbol: sym, Close: 100 + float64(i)}}); err != nil {
					return err
				}
			}
			return nil
		})).
		To("out", sinks.Tee(queued, &count))
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%d events counted, %+v\n", count.Items(), queued.Stats())
	// Output:
	// order AAPL 100
	// order MSFT 101
	// order AAPL 102
	// 3 events counted, {Queued:0 Written:3 Dropped:0 Discarded:0}
}
