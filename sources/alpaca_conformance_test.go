package sources_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/shopspring/decimal"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/sources/alpacatest"
)

func TestAlpacaBarsConformance(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "BTC/USD"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 300, alpacaT0), PageSize: 100})
	defer srv.Close()
	pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
		return &sources.AlpacaBars{AlpacaREST: fastREST(srv), Symbols: syms, Start: alpacaT0,
			End: alpacaT0.Add(299 * time.Minute), SymbolsPerRequest: 1, MaxBarsPerCall: 150}
	}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 900})
}

func TestAlpacaStreamConformance(t *testing.T) {
	syms := []string{"AAPL", "ETH/USD"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 20, alpacaT0)})
	defer srv.Close()
	pipelinetest.TestSource(t, func() pipeline.Source[market.Event] {
		return &sources.AlpacaStream{AlpacaREST: fastREST(srv), Symbols: syms,
			StreamURL: srv.StreamURL, CryptoStreamURL: srv.CryptoStreamURL,
			WarmupBars: 10, WarmupLookback: time.Hour, StaleAfter: -1,
			Now: func() time.Time { return alpacaT0.Add(20 * time.Minute) }}
	}, pipelinetest.SourceOptions{MinItems: 15})
}

func TestAlpacaTradeUpdatesConformance(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: walk("AAPL", 3, alpacaT0, 1)})
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	defer func() { cancel(); <-done }()
	// Place an order each time a trade-update stream opens, so every run
	// has events to emit.
	go func() {
		defer close(done)
		tc := alpaca.NewClient(alpaca.ClientOpts{APIKey: alpacatest.Key, APISecret: alpacatest.Secret, BaseURL: srv.TradingURL,
			HTTPClient: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}})
		qty := decimal.NewFromInt(1)
		for n := 1; ; n++ {
			if srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.TradeStreams >= n && s.TradeStreamsOpen > 0 }) != nil {
				return
			}
			_, _ = tc.PlaceOrder(alpaca.PlaceOrderRequest{Symbol: "AAPL", Qty: &qty, Side: alpaca.Buy,
				Type: alpaca.Market, TimeInForce: alpaca.Day})
		}
	}()
	pipelinetest.TestSource(t, func() pipeline.Source[sources.TradeUpdate] {
		return &sources.AlpacaTradeUpdates{KeyID: alpacatest.Key, SecretKey: alpacatest.Secret, TradingURL: srv.TradingURL,
			InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Logger: quietLogger}
	}, pipelinetest.SourceOptions{MinItems: 1})
}
