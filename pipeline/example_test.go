package pipeline_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/tickflow/tickflow/pipeline"
)

// Words are counted per first letter by four workers; the output keeps the
// input's order.
func Example() {
	words := strings.Fields("apple avocado banana blueberry cherry apricot beet cress")
	type count struct {
		Word string
		N    int // how many words so far began with the same letter
	}
	counter := func() pipeline.Stage[count] {
		seen := map[byte]int{} // this worker's letters only: no lock needed
		return pipeline.StageFunc[count](func(_ context.Context, c count, out pipeline.Emitter[count]) error {
			seen[c.Word[0]]++
			c.N = seen[c.Word[0]]
			return out.Emit(c)
		})
	}
	p := pipeline.New(pipeline.Config[count]{Workers: 4, Key: func(c count) string { return c.Word[:1] }}).
		From("words", pipeline.SourceFunc[count](func(ctx context.Context, out pipeline.Emitter[count]) error {
			for _, w := range words {
				if err := out.Emit(count{Word: w}); err != nil {
					return err
				}
			}
			return nil
		})).
		Then("count", counter).
		To("print", pipeline.SinkFunc[count](func(_ context.Context, cs []count) error {
			for _, c := range cs {
				fmt.Println(c.Word, c.N)
			}
			return nil
		}))
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// apple 1
	// avocado 2
	// banana 1
	// blueberry 2
	// cherry 1
	// apricot 3
	// beet 3
	// cress 2
}

// Two stages keep state per key, in the worker's slots: one lookup of the
// key per item serves both.
func ExampleKeyed() {
	type trade struct {
		Symbol      string
		Qty         int
		Total, Seen int
	}
	symbol := func(t trade) string { return t.Symbol }
	total := pipeline.Keyed(symbol, func(string) *int { return new(int) },
		func(_ context.Context, t *trade, sum *int, out pipeline.Emitter[trade]) error {
			*sum += t.Qty
			t.Total = *sum
			return out.Emit(*t)
		})
	seen := pipeline.Keyed(symbol, func(string) *int { return new(int) },
		func(_ context.Context, t *trade, n *int, out pipeline.Emitter[trade]) error {
			*n++
			t.Seen = *n
			return out.Emit(*t)
		})
	p := pipeline.New(pipeline.Config[trade]{Workers: 2, Key: symbol}).
		From("trades", pipeline.SourceFunc[trade](func(_ context.Context, out pipeline.Emitter[trade]) error {
			for _, t := range []trade{{Symbol: "AAPL", Qty: 10}, {Symbol: "MSFT", Qty: 5}, {Symbol: "AAPL", Qty: -4}} {
				if err := out.Emit(t); err != nil {
					return err
				}
			}
			return nil
		})).
		Then("total", total).Then("seen", seen).
		To("print", pipeline.SinkFunc[trade](func(_ context.Context, ts []trade) error {
			for _, t := range ts {
				fmt.Println(t.Symbol, t.Total, t.Seen)
			}
			return nil
		}))
	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output:
	// AAPL 10 1
	// MSFT 5 1
	// AAPL 6 2
}
