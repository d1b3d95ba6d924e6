// Embed shows tickflow inside another bot: the bot brings its own Strategy
// (a mean-reversion rule on StochRSI alone) and its own Sink (a paper
// portfolio that books every signal), and runs tickflow's pipeline over the
// built-in synthetic data.
//
//	go run ./examples/embed
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"sort"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sources"
)

// meanReversion buys when %K leaves the bottom (crosses 10 upwards) and sells
// when it reaches the top (crosses 90), ignoring the EMA. One per symbol.
type meanReversion struct {
	prevK  float64
	primed bool
	long   bool
}

func (m *meanReversion) Decide(e market.Event) *signals.Signal {
	k, ok := e.Indicators.Get(market.DefaultStochK)
	if !ok {
		return nil
	}
	prev, primed := m.prevK, m.primed
	m.prevK, m.primed = k, true
	switch {
	case primed && !m.long && prev <= 10 && k > 10:
		m.long = true
		return &signals.Signal{Symbol: e.Symbol, Time: e.Time, Side: market.Buy, Price: e.Close, Reason: "%K left the bottom", Indicators: e.Indicators}
	case primed && m.long && prev < 90 && k >= 90:
		m.long = false
		return &signals.Signal{Symbol: e.Symbol, Time: e.Time, Side: market.Sell, Price: e.Close, Reason: "%K reached the top", Indicators: e.Indicators}
	}
	return nil
}

// portfolio is the bot's sink: it trades one unit per signal and books the
// profit of every round trip. The pipeline calls Write from one goroutine.
type portfolio struct {
	open   map[string]float64 // symbol -> entry price
	profit map[string]float64
	trades int
}

func (p *portfolio) Write(_ context.Context, events []market.Event) error {
	for _, e := range events {
		s := e.Signal
		if s == nil {
			continue
		}
		switch s.Side {
		case market.Buy:
			p.open[s.Symbol] = s.Price
		case market.Sell:
			p.profit[s.Symbol] += s.Price - p.open[s.Symbol]
			delete(p.open, s.Symbol)
			p.trades++
		}
	}
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	book := &portfolio{open: map[string]float64{}, profit: map[string]float64{}}
	p, err := tickflow.New(
		&sources.Synthetic{Symbols: 6, Bars: 5000, Seed: 7},
		book,
		tickflow.Config{
			Strategy:    func(string) signals.Strategy { return &meanReversion{} },
			SignalsOnly: true,
		})
	if err != nil {
		log.Fatal(err)
	}
	if err := p.Run(ctx); err != nil {
		log.Fatal(err)
	}

	symbols := make([]string, 0, len(book.profit))
	for s := range book.profit {
		symbols = append(symbols, s)
	}
	sort.Strings(symbols)
	total := 0.0
	for _, s := range symbols {
		fmt.Printf("%-6s profit %8.2f\n", s, book.profit[s])
		total += book.profit[s]
	}
	fmt.Printf("%d round trips, total profit %.2f, %d positions still open\n", book.trades, total, len(book.open))
}
