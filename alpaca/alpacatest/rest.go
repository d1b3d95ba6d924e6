package alpacatest

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
)

var (
	timeframeRE = regexp.MustCompile(`^([1-9][0-9]*)(Min|T|Hour|H|Day|D|Week|W|Month|M)$`)
	symbolRE    = regexp.MustCompile(`^[A-Z0-9][A-Z0-9./:-]*$`)
)

// restBar is the JSON of one bar; Volume is an integer for stocks.
type restBar struct {
	T  string  `json:"t"`
	O  float64 `json:"o"`
	H  float64 `json:"h"`
	L  float64 `json:"l"`
	C  float64 `json:"c"`
	V  any     `json:"v"`
	N  uint64  `json:"n"`
	VW float64 `json:"vw"`
}

func toRESTBar(b market.Bar, crypto bool) restBar {
	var v any = uint64(b.Volume)
	if crypto {
		v = b.Volume
	}
	return restBar{
		T: b.Time.UTC().Format(time.RFC3339Nano), O: b.Open, H: b.High, L: b.Low, C: b.Close,
		V: v, N: 1, VW: (b.High + b.Low + b.Close) / 3,
	}
}

// page tokens name the next bar to serve: symbol and time.
func encodeToken(sym string, t time.Time) string {
	return base64.RawURLEncoding.EncodeToString([]byte(sym + "|" + t.Format(time.RFC3339Nano)))
}

func decodeToken(tok string) (string, time.Time, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", time.Time{}, false
	}
	sym, ts, ok := strings.Cut(string(raw), "|")
	if !ok {
		return "", time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	return sym, t, err == nil
}

func (s *Server) handleBars(crypto bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var syms []string
		for _, sym := range strings.Split(q.Get("symbols"), ",") {
			if sym == "" {
				continue
			}
			if !symbolRE.MatchString(sym) || strings.Contains(sym, "/") != crypto {
				apiError(w, http.StatusBadRequest, 40010001, "invalid symbol: "+sym)
				return
			}
			syms = append(syms, sym)
		}
		if len(syms) == 0 {
			apiError(w, http.StatusBadRequest, 40010001, "missing symbols")
			return
		}
		if tf := q.Get("timeframe"); tf != "" && !timeframeRE.MatchString(tf) {
			apiError(w, http.StatusBadRequest, 40010001, "invalid timeframe")
			return
		}
		now := s.opts.Now().UTC()
		start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		end := now
		var err error
		if v := q.Get("start"); v != "" {
			if start, err = time.Parse(time.RFC3339Nano, v); err != nil {
				apiError(w, http.StatusBadRequest, 40010001, "invalid start")
				return
			}
		}
		if v := q.Get("end"); v != "" {
			if end, err = time.Parse(time.RFC3339Nano, v); err != nil {
				apiError(w, http.StatusBadRequest, 40010001, "invalid end")
				return
			}
		}
		if end.Before(start) {
			apiError(w, http.StatusUnprocessableEntity, 42210000, "end should not be before start")
			return
		}
		if !crypto && q.Get("feed") == "sip" && !s.opts.PaidPlan && end.After(now.Add(-15*time.Minute)) {
			apiError(w, http.StatusForbidden, 40310000, "subscription does not permit querying recent SIP data")
			return
		}
		limit := s.opts.DefaultPageLimit
		if v := q.Get("limit"); v != "" {
			limit, err = strconv.Atoi(v)
			if err != nil || limit < 1 || limit > s.opts.MaxPageLimit {
				apiError(w, http.StatusUnprocessableEntity, 42210000, "invalid limit: exceeded the maximum allowed")
				return
			}
		}
		if s.opts.PageSize > 0 {
			limit = min(limit, s.opts.PageSize)
		}
		defer s.barRequestInFlight(r)()
		fromSym, fromTime := "", time.Time{}
		if tok := q.Get("page_token"); tok != "" {
			var ok bool
			if fromSym, fromTime, ok = decodeToken(tok); !ok {
				apiError(w, http.StatusBadRequest, 40010001, "invalid page token")
				return
			}
		}
		slices.Sort(syms)
		syms = slices.Compact(syms)

		out := map[string][]restBar{}
		var next *string
		count := 0
		s.mu.Lock()
		s.stats.BarRequests++
		s.notifyLocked()
	symbols:
		for _, sym := range syms {
			if sym < fromSym {
				continue
			}
			for _, b := range s.bars[sym] {
				if b.Time.Before(start) || b.Time.After(end) {
					continue
				}
				if sym == fromSym && b.Time.Before(fromTime) {
					continue
				}
				if count == limit {
					tok := encodeToken(sym, b.Time)
					next = &tok
					break symbols
				}
				out[sym] = append(out[sym], toRESTBar(b, crypto))
				count++
			}
		}
		s.mu.Unlock()
		writeJSON(w, map[string]any{"bars": out, "next_page_token": next})
	}
}

// order is the fake's record of an order.
type order struct {
	ID            string  `json:"id"`
	ClientOrderID string  `json:"client_order_id"`
	Symbol        string  `json:"symbol"`
	Side          string  `json:"side"`
	Type          string  `json:"type"`
	TimeInForce   string  `json:"time_in_force"`
	Qty           *string `json:"qty"`
	Notional      *string `json:"notional"`
	FilledQty     string  `json:"filled_qty"`
	FilledAvg     *string `json:"filled_avg_price"`
	Status        string  `json:"status"`
	CreatedAt     string  `json:"created_at"`
	SubmittedAt   string  `json:"submitted_at"`
	UpdatedAt     string  `json:"updated_at"`
	FilledAt      *string `json:"filled_at"`
	AssetClass    string  `json:"asset_class"`
}

// Order is an order as the fake recorded it.
type Order struct {
	ID, ClientOrderID, Symbol, Side string
	Qty, Notional, FilledQty, Price float64
}

// Orders returns the orders placed so far, in order.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, 0, len(s.orders))
	for _, o := range s.orders {
		out = append(out, exportOrder(o))
	}
	return out
}

func exportOrder(o order) Order {
	f := func(p *string) float64 {
		if p == nil {
			return 0
		}
		v, _ := strconv.ParseFloat(*p, 64)
		return v
	}
	fq, _ := strconv.ParseFloat(o.FilledQty, 64)
	return Order{ID: o.ID, ClientOrderID: o.ClientOrderID, Symbol: o.Symbol, Side: o.Side,
		Qty: f(o.Qty), Notional: f(o.Notional), FilledQty: fq, Price: f(o.FilledAvg)}
}

// posKey names a position as Alpaca does: crypto without the slash
// (BTC/USD's position is BTCUSD).
func posKey(sym string) string { return strings.ReplaceAll(sym, "/", "") }

// SetPosition sets the account's position in symbol (0 removes it).
func (s *Server) SetPosition(symbol string, qty float64) {
	symbol = posKey(symbol)
	s.mu.Lock()
	defer s.mu.Unlock()
	if qty == 0 {
		delete(s.positions, symbol)
	} else {
		s.positions[symbol] = qty
	}
	s.notifyLocked()
}

// Position returns the account's position in symbol.
func (s *Server) Position(symbol string) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.positions[posKey(symbol)]
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func (s *Server) handleAccount(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	bp := s.opts.BuyingPower
	s.mu.Unlock()
	writeJSON(w, map[string]any{
		"id": "acct-fake", "account_number": "PA0000000", "status": "ACTIVE", "currency": "USD",
		"buying_power": fmtNum(bp), "cash": fmtNum(bp / 2), "portfolio_value": fmtNum(bp / 2),
		"equity": fmtNum(bp / 2), "pattern_day_trader": false, "trading_blocked": false,
	})
}

func (s *Server) positionJSON(sym string, qty float64) map[string]any {
	price := 0.0
	for bsym, h := range s.bars {
		if posKey(bsym) == sym && len(h) > 0 {
			price = h[len(h)-1].Close
		}
	}
	class := "us_equity"
	if _, stock := s.bars[sym]; !stock && price > 0 {
		class = "crypto"
	}
	return map[string]any{
		"asset_id": "asset-" + sym, "symbol": sym, "exchange": "FAKE", "asset_class": class,
		"qty": fmtNum(qty), "qty_available": fmtNum(qty), "avg_entry_price": fmtNum(price),
		"side": "long", "market_value": fmtNum(qty * price), "cost_basis": fmtNum(qty * price),
		"current_price": fmtNum(price),
	}
}

func (s *Server) handlePositions(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := []map[string]any{}
	syms := make([]string, 0, len(s.positions))
	for sym := range s.positions {
		syms = append(syms, sym)
	}
	slices.Sort(syms)
	for _, sym := range syms {
		out = append(out, s.positionJSON(sym, s.positions[sym]))
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

func (s *Server) handlePosition(w http.ResponseWriter, r *http.Request) {
	sym := posKey(r.PathValue("symbol"))
	s.mu.Lock()
	qty, ok := s.positions[sym]
	var body map[string]any
	if ok {
		body = s.positionJSON(sym, qty)
	}
	s.mu.Unlock()
	if !ok {
		apiError(w, http.StatusNotFound, 40410000, "position does not exist")
		return
	}
	writeJSON(w, body)
}

func (s *Server) handlePostOrder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Symbol        string  `json:"symbol"`
		Qty           *string `json:"qty"`
		Notional      *string `json:"notional"`
		Side          string  `json:"side"`
		Type          string  `json:"type"`
		TimeInForce   string  `json:"time_in_force"`
		ClientOrderID string  `json:"client_order_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		apiError(w, http.StatusUnprocessableEntity, 40010001, "invalid order request")
		return
	}
	num := func(p *string) (float64, bool) {
		if p == nil || *p == "" {
			return 0, false
		}
		v, err := strconv.ParseFloat(*p, 64)
		return v, err == nil && v > 0
	}
	qty, hasQty := num(req.Qty)
	notional, hasNotional := num(req.Notional)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.OrderPosts++
	s.postCount++
	defer s.notifyLocked()
	reject := func(status, code int, msg string) {
		s.stats.OrdersRejected++
		apiError(w, status, code, msg)
	}
	switch {
	case req.Side != "buy" && req.Side != "sell":
		reject(http.StatusUnprocessableEntity, 40010001, "invalid side")
		return
	case hasQty == hasNotional:
		reject(http.StatusUnprocessableEntity, 40010001, "qty or notional is required")
		return
	case req.ClientOrderID != "" && s.orderIDs[req.ClientOrderID] > 0:
		reject(http.StatusUnprocessableEntity, 40010001, "client_order_id must be unique")
		return
	}
	price := 0.0
	if h := s.bars[req.Symbol]; len(h) > 0 {
		price = h[len(h)-1].Close
	}
	if price <= 0 {
		reject(http.StatusUnprocessableEntity, 40010001, "asset "+req.Symbol+" not found")
		return
	}
	if hasNotional {
		qty = notional / price
	}
	if req.Side == "buy" && qty*price > s.opts.BuyingPower {
		reject(http.StatusForbidden, 40310000, "insufficient buying power")
		return
	}
	pk := posKey(req.Symbol)
	if req.Side == "sell" && s.positions[pk] < qty-1e-9 {
		reject(http.StatusForbidden, 40310000, fmt.Sprintf("insufficient qty available for order (requested: %s, available: %s)",
			fmtNum(qty), fmtNum(s.positions[pk])))
		return
	}
	now := s.opts.Now().UTC().Format(time.RFC3339Nano)
	o := order{
		ID: fmt.Sprintf("ord-%d", len(s.orders)+1), ClientOrderID: req.ClientOrderID,
		Symbol: req.Symbol, Side: req.Side, Type: req.Type, TimeInForce: req.TimeInForce,
		Qty: req.Qty, Notional: req.Notional, FilledQty: "0", Status: "accepted",
		CreatedAt: now, SubmittedAt: now, UpdatedAt: now, AssetClass: "us_equity",
	}
	if o.ClientOrderID == "" {
		o.ClientOrderID = "fake-" + o.ID
	}
	if strings.Contains(o.Symbol, "/") {
		o.AssetClass = "crypto"
	}
	accepted := o
	s.pushEventLocked("new", o, 0, 0)
	// Market orders fill at once at the last close.
	o.Status, o.FilledQty, o.FilledAt = "filled", fmtNum(qty), &now
	p := fmtNum(price)
	o.FilledAvg = &p
	pos := s.positions[pk]
	if o.Side == "buy" {
		pos += qty
		s.opts.BuyingPower -= qty * price
	} else {
		pos -= qty
		s.opts.BuyingPower += qty * price
	}
	if pos <= 1e-12 {
		delete(s.positions, pk)
		pos = 0
	} else {
		s.positions[pk] = pos
	}
	s.orders = append(s.orders, o)
	s.orderIDs[o.ClientOrderID] = len(s.orders)
	s.stats.OrdersPlaced++
	s.pushEventLocked("fill", o, qty, pos)
	if f := s.faults; f.PlaceThenFailEvery > 0 && s.postCount%f.PlaceThenFailEvery == 0 {
		s.stats.FailedRequests++
		apiError(w, http.StatusInternalServerError, 50010000, "internal server error")
		return
	}
	writeJSON(w, accepted)
}

// handleListOrders honours status (open, closed, all; default open) and
// symbols; the fake's market orders fill at once, so none stays open.
func (s *Server) handleListOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	var syms map[string]bool
	if v := q.Get("symbols"); v != "" {
		syms = map[string]bool{}
		for _, sym := range strings.Split(v, ",") {
			syms[sym] = true
		}
	}
	s.mu.Lock()
	out := []order{}
	for _, o := range s.orders {
		open := o.Status != "filled" && o.Status != "canceled" && o.Status != "expired" && o.Status != "rejected"
		if (status == "" || status == "open") && !open || status == "closed" && open {
			continue
		}
		if syms != nil && !syms[o.Symbol] {
			continue
		}
		out = append(out, o)
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

func (s *Server) handleOrderByClientID(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("client_order_id")
	s.mu.Lock()
	i := s.orderIDs[id]
	var o order
	if i > 0 {
		o = s.orders[i-1]
	}
	s.mu.Unlock()
	if i == 0 {
		apiError(w, http.StatusNotFound, 40410000, "order not found")
		return
	}
	writeJSON(w, o)
}

func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	var found *order
	for i := range s.orders {
		if s.orders[i].ID == id {
			o := s.orders[i]
			found = &o
		}
	}
	s.mu.Unlock()
	if found == nil {
		apiError(w, http.StatusNotFound, 40410000, "order not found")
		return
	}
	writeJSON(w, found)
}

// barRequestInFlight counts a bar request in flight, holds it at the gate
// (Options.GateBarRequests) and returns the function that ends it.
func (s *Server) barRequestInFlight(r *http.Request) func() {
	s.mu.Lock()
	s.barsLive++
	s.stats.BarRequestsPeak = max(s.stats.BarRequestsPeak, s.barsLive)
	if s.gate == nil {
		s.gate = make(chan struct{})
		if s.opts.GateBarRequests <= 0 {
			close(s.gate)
		}
	}
	gate := s.gate
	if s.opts.GateBarRequests > 0 && s.barsLive == s.opts.GateBarRequests {
		select {
		case <-gate:
		default:
			close(gate)
		}
	}
	s.mu.Unlock()
	var timeout <-chan time.Time
	if d := s.opts.GateTimeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-gate:
	case <-timeout:
	case <-r.Context().Done():
	}
	return func() {
		s.mu.Lock()
		s.barsLive--
		s.mu.Unlock()
	}
}
