package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
)

// serveChartJS serves the report's chart renderer, so that the dashboard
// and the backtest report draw with the same code.
func serveChartJS(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write([]byte(report.ChartJS()))
}

// apiHistory answers /api/history?symbol=SYM[&limit=N]:
//
//	{"symbol":"SYM","indicators":["ema","stochrsi_k","stochrsi_d","macd"],
//	 "bars":[{"symbol":"SYM","time":..,"close":..,"ema":..,...,"open":..,"high":..,"low":..,"volume":..,"signal":"buy"},...]}
//
// each bar in the form of an /events "bars" item, oldest first; 404 for
// a symbol without a history.
func (s *Server) apiHistory(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sym := q.Get("symbol")
	if sym == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "symbol is required: /api/history?symbol=SYM"})
		return
	}
	limit := 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a whole number >= 0"})
			return
		}
		limit = n
	}
	bars, ok := s.feed.History(sym, limit)
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no history of " + strconv.Quote(sym) + " (unknown, or beyond Options.HistorySymbols)"})
		return
	}
	b := make([]byte, 0, 64+len(bars)*256)
	b = append(b, `{"symbol":`...)
	b = market.AppendJSONString(b, sym)
	b = append(b, `,"indicators":[`...)
	var schema *market.Schema
	if len(bars) > 0 {
		schema = bars[len(bars)-1].Indicators.Schema
	}
	if schema == nil {
		schema = market.DefaultSchema
	}
	for i, n := range schema.Names() {
		if i > 0 {
			b = append(b, ',')
		}
		b = market.AppendJSONString(b, n)
	}
	b = append(b, `],"bars":[`...)
	for i := range bars {
		if i > 0 {
			b = append(b, ",\n"...)
		}
		b = appendUpdate(b, &bars[i])
	}
	b = append(b, "]}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

// Wallet is a paper wallet's or a broker's state, as /api/positions shows
// it: the sums over its symbols, then each symbol.
type Wallet struct {
	Cash       float64    `json:"cash"`
	Equity     float64    `json:"equity"`
	Realized   float64    `json:"realized_pnl"`
	Unrealized float64    `json:"unrealized_pnl"`
	Positions  []Position `json:"positions"`
}

// Position is one symbol of a [Wallet].
type Position struct {
	Symbol     string    `json:"symbol"`
	Qty        float64   `json:"qty"` // 0: flat
	EntryPrice float64   `json:"entry_price"`
	LastPrice  float64   `json:"last_price"`
	LastTime   time.Time `json:"last_time"`
	Cash       float64   `json:"cash"`
	Equity     float64   `json:"equity"`
	Realized   float64   `json:"realized_pnl"`
	Unrealized float64   `json:"unrealized_pnl"`
	Trades     int       `json:"trades"` // closed
	// Pending is the side of an order not filled yet ("buy", "sell"), or
	// empty.
	Pending string `json:"pending"`
}

func (s *Server) apiPositions(w http.ResponseWriter, _ *http.Request) {
	if s.o.Wallet == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no wallet: tickflow stream --orders sim keeps one"})
		return
	}
	wal := s.o.Wallet()
	if wal.Positions == nil {
		wal.Positions = []Position{}
	}
	writeJSON(w, http.StatusOK, wal)
}
