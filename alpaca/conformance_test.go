package alpaca_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	sdk "github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/shopspring/decimal"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

func TestBarsConformance(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "BTC/USD"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 300, alpacaT0), PageSize: 100})
	defer srv.Close()
	pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
		return &alpaca.Bars{Client: mustClient(fastREST(srv)), Symbols: syms, Start: alpacaT0,
			End: alpacaT0.Add(299 * time.Minute), SymbolsPerRequest: 1, MaxBarsPerCall: 150}
	}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 900})
}

func TestStreamConformance(t *testing.T) {
	syms := []string{"AAPL", "ETH/USD"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 20, alpacaT0)})
	defer srv.Close()
	pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
		return &alpaca.Stream{Client: mustClient(fastREST(srv)), Symbols: syms,
			WarmupBars: 10, WarmupLookback: time.Hour, StaleAfter: -1,
			Now: func() time.Time { return alpacaT0.Add(20 * time.Minute) }}
	}, pipelinetest.SourceOptions{MinItems: 15})
}

func TestTradeUpdatesConformance(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: walk("AAPL", 3, alpacaT0, 1)})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	// Place an order each time a trade-update stream opens, so every run
	// has events to emit.
	go func() {
		defer close(done)
		tc := sdk.NewClient(sdk.ClientOpts{APIKey: alpacatest.Key, APISecret: alpacatest.Secret, BaseURL: srv.TradingURL,
			HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
		qty := decimal.NewFromInt(1)
		for n := 1; ; n++ {
			if srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.TradeStreams >= n && s.TradeStreamsOpen > 0 }) != nil {
				return
			}
			_, _ = tc.PlaceOrder(sdk.PlaceOrderRequest{Symbol: "AAPL", Qty: &qty, Side: sdk.Buy,
				Type: sdk.Market, TimeInForce: sdk.Day})
		}
	}()
	pipelinetest.TestSource(t, func() pipeline.Source[alpaca.TradeUpdate] {
		return &alpaca.TradeUpdates{Client: mustClient(fastREST(srv))}
	}, pipelinetest.SourceOptions{MinItems: 1})
}
