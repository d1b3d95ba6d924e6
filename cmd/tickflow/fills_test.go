//go:build full

package main

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/signals"
)

func TestTradeUpdatesReportFills(t *testing.T) {
	at := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		u    alpaca.TradeUpdate
		want *signals.Fill
	}{
		{"fill", alpaca.TradeUpdate{At: at, Event: "fill", Symbol: "AAPL", Side: "buy", Qty: 3, Price: 185.5, OrderID: "o1"},
			&signals.Fill{Symbol: "AAPL", Time: at, Side: market.Buy, Qty: 3, Price: 185.5, OrderID: "o1"}},
		{"partial fill", alpaca.TradeUpdate{At: at, Event: "partial_fill", Symbol: "BTC/USD", Side: "sell", Qty: 0.25, Price: 42000},
			&signals.Fill{Symbol: "BTC/USD", Time: at, Side: market.Sell, Qty: 0.25, Price: 42000}},
		{"new order", alpaca.TradeUpdate{At: at, Event: "new", Symbol: "AAPL", Side: "buy"}, nil},
		{"canceled", alpaca.TradeUpdate{At: at, Event: "canceled", Symbol: "AAPL", Side: "buy", Qty: 3}, nil},
		{"no quantity", alpaca.TradeUpdate{At: at, Event: "fill", Symbol: "AAPL", Side: "buy"}, nil},
		{"unknown side", alpaca.TradeUpdate{At: at, Event: "fill", Symbol: "AAPL", Side: "short", Qty: 1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, ok := fillOf(tc.u)
			if tc.want == nil {
				assert.False(t, ok)
			} else {
				require.True(t, ok)
				assert.Equal(t, *tc.want, f)
			}
			fills := &signals.Fills{}
			require.NoError(t, tradeLog{slog.New(slog.NewTextHandler(io.Discard, nil)), fills}.Emit(tc.u))
			assert.Equal(t, map[bool]int{true: 1, false: 0}[tc.want != nil], fills.Pending(), "fills reported to the strategies")
		})
	}
}
