package signals_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
)

// positional is a strategy that knows its position from its fills: it
// buys when it holds nothing and sells what it holds, every 50 bars.
type positional struct {
	bar      int
	position float64
	seen     []signals.Fill
	log      *[]string // what happened, in order
}

func (p *positional) Filled(f signals.Fill) {
	p.seen = append(p.seen, f)
	if f.Side == market.Buy {
		p.position += f.Qty
	} else {
		p.position -= f.Qty
	}
	*p.log = append(*p.log, "filled "+f.Side.String())
}

func (p *positional) Decide(e market.Event) *signals.Signal {
	p.bar++
	*p.log = append(*p.log, "decide")
	if p.bar%50 != 0 {
		return nil
	}
	if p.position > 0 {
		return signals.Sell(&e, "holding")
	}
	return signals.Buy(&e, "flat")
}

func TestFillsDeliveredBeforeTheNextBar(t *testing.T) {
	var log []string
	var s *positional
	var fills signals.Fills
	f := fills.Observe(func(string) signals.Strategy { s = &positional{log: &log}; return s })
	st := f("X")
	e := market.Event{Bar: market.Bar{Symbol: "X", Close: 1}}
	st.Decide(e)
	fills.Report(signals.Fill{Symbol: "X", Side: market.Buy, Qty: 3})
	fills.Report(signals.Fill{Symbol: "Y", Side: market.Buy, Qty: 1}) // another symbol's
	fills.Report(signals.Fill{Symbol: "X", Side: market.Sell, Qty: 1})
	assert.Equal(t, 3, fills.Pending())
	st.Decide(e)
	assert.Equal(t, []string{"decide", "filled buy", "filled sell", "decide"}, log)
	assert.Equal(t, 2.0, s.position)
	assert.Equal(t, 1, fills.Pending(), "Y's fill waits for Y's strategy")

	plain, err := signals.NewStochRSIEMA(0, 0)
	require.NoError(t, err)
	_, wrapped := fills.Observe(plain)("Z").(*signals.StochRSIEMA)
	assert.True(t, wrapped, "a strategy that is not a FillObserver is returned as it is")
}

// fakeOrders is an order sink that fills every signal at once, at its
// price, and reports the fill, as a broker's sink would.
type fakeOrders struct {
	fills    *signals.Fills
	mu       sync.Mutex
	reported map[string][]signals.Fill
}

func (o *fakeOrders) Write(_ context.Context, es []market.Event) error {
	for _, e := range es {
		f := signals.Fill{Symbol: e.Symbol, Time: e.Time, Side: e.Signal.Side, Qty: 10, Price: e.Signal.Price}
		o.mu.Lock()
		o.reported[e.Symbol] = append(o.reported[e.Symbol], f)
		o.mu.Unlock()
		o.fills.Report(f)
	}
	return nil
}

func TestFillsFromAnOrderSink(t *testing.T) {
	var fills signals.Fills
	orders := &fakeOrders{fills: &fills, reported: map[string][]signals.Fill{}}
	var mu sync.Mutex
	strategies := map[string]*positional{}
	f := fills.Observe(func(sym string) signals.Strategy {
		s := &positional{log: new([]string)}
		mu.Lock()
		strategies[sym] = s
		mu.Unlock()
		return s
	})
	c, err := signals.NewComputed(indicators.Config{}, nil)
	require.NoError(t, err)
	var in []market.Event
	a, b := randomWalk("A", 3000, 1, 0), randomWalk("B", 3000, 2, 0)
	for i := range a {
		in = append(in, market.Event{Bar: a[i]}, market.Event{Bar: b[i]})
	}
	p := pipeline.New(pipeline.Config[market.Event]{Workers: 2, Key: market.Event.Key}).
		From("in", sourcesSlice(in)).Then("both", c.Decided(f, true)).To("orders", orders)
	require.NoError(t, p.Run(context.Background()))
	delivered := 0
	for sym, s := range strategies {
		rep := orders.reported[sym]
		require.NotEmpty(t, rep)
		require.Equal(t, rep[:len(s.seen)], s.seen, "%s: the fills seen are those reported, in order", sym)
		delivered += len(s.seen)
		for _, f := range s.seen {
			require.Equal(t, 10.0, f.Qty)
		}
	}
	assert.Equal(t, len(orders.reported["A"])+len(orders.reported["B"]), delivered+fills.Pending(),
		"every fill is delivered or still pending")
	assert.Positive(t, delivered)
}
