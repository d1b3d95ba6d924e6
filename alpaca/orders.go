package alpaca

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/shopspring/decimal"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Orders is a sink that turns signals (events whose Signal is set)
// into market orders through Alpaca's trading API; other events are
// ignored.
//
// Safety first:
//   - Paper trading by default: the URL is the client's TradingURL, else
//     APCA_API_BASE_URL, else the paper endpoint. NewOrders refuses
//     Alpaca's live endpoint unless the client's Config.Live is set, and
//     Live logs a warning.
//   - DryRun logs every order it would send and sends nothing (no client
//     needed); positions are then tracked locally.
//   - One position per symbol, long only: a BUY is skipped while the symbol
//     is held (Alpaca's position or an open buy order: Alpaca is asked
//     before every order), a SELL closes the whole position and is skipped
//     when flat.
//   - Idempotent: every order's client_order_id is derived from the signal
//     (symbol, time, side), so a retry, or the same signal again after a
//     restart, can never place a second order. Alpaca's 422
//     "client_order_id must be unique" then means "already placed". The
//     ids placed are remembered locally only up to MaxRemembered (the
//     newest), so a live run's memory stays bounded; an older signal again
//     is still refused by Alpaca as a duplicate.
//   - 429, 5xx, timeouts and network errors are retried by the client's
//     I/O layer (Config.Retry), the whole request each time.
//
// Alpaca's rejections of an order (403 insufficient buying power, 422 ...)
// are logged and counted (Stats.Rejected) and the run goes on; refused keys
// end the run with an error, and so does an order whose outcome is still
// unknown after the retries (or a position query that failed), unless
// OnFailure is set: then that signal is logged, counted (Stats.Failed) and
// passed to OnFailure, and the sink goes on with the next one.
type Orders struct {
	c      *Client
	cfg    OrdersConfig
	log    *slog.Logger
	held   map[string]float64 // dry run: the positions it would hold (qty; -1 = notional, quantity unknown)
	placed *idSet             // client_order_ids placed, the newest MaxRemembered

	signals, orders, duplicates, skippedHeld, skippedFlat, rejected, failed atomic.Int64
}

// DefaultMaxRemembered is how many client_order_ids an Orders sink keeps.
const DefaultMaxRemembered = 4096

// OrdersConfig configures an [Orders] sink. Its zero value places one share
// per BUY, day orders for stocks and gtc for crypto.
type OrdersConfig struct {
	// DryRun logs orders instead of sending them.
	DryRun bool
	// Qty is the quantity of each BUY (default 1), or Notional the dollars
	// of each BUY (fractional); set at most one. A SELL sells the position.
	Qty, Notional float64
	// TimeInForce of orders: default "day" for stocks, "gtc" for crypto.
	TimeInForce string
	// ClientOrderPrefix starts every client_order_id (default "tf").
	ClientOrderPrefix string
	// MaxRemembered bounds the client_order_ids kept to skip a repeated
	// signal without asking Alpaca (default DefaultMaxRemembered).
	MaxRemembered int
	// Logger receives orders, skips and rejections (default: the client's
	// logger, else slog.Default()).
	Logger *slog.Logger
	// OnFailure, when set, keeps a live run going past a signal whose
	// order failed for any reason but refused keys or a done context: the
	// network, the trading API down, retries exhausted with the outcome
	// unknown (its client_order_id keeps a later attempt safe). The signal
	// is logged, counted in Stats.Failed and passed to OnFailure with the
	// error. Nil ends the run with that error.
	OnFailure func(sig *market.Signal, err error)
}

var _ pipeline.Sink[market.Event] = (*Orders)(nil)

const ordersName = "alpaca.Orders"

// OrdersStats counts what the sink did with the signals it got.
type OrdersStats struct {
	Signals     int64 // signals received
	Orders      int64 // orders placed (or, in DryRun, logged)
	Duplicates  int64 // orders found already placed (422 on a repeated client_order_id)
	SkippedHeld int64 // BUYs skipped: the symbol is held
	SkippedFlat int64 // SELLs skipped: nothing to sell
	Rejected    int64 // orders Alpaca rejected
	Failed      int64 // signals given up after a failure, with OnFailure set
}

// Stats returns the counters; safe at any time.
func (o *Orders) Stats() OrdersStats {
	return OrdersStats{o.signals.Load(), o.orders.Load(), o.duplicates.Load(), o.skippedHeld.Load(),
		o.skippedFlat.Load(), o.rejected.Load(), o.failed.Load()}
}

// Remembered is how many client_order_ids the sink holds (at most
// MaxRemembered).
func (o *Orders) Remembered() int { return o.placed.len() }

// NewOrders checks cfg and returns the sink; c is required unless
// cfg.DryRun. Alpaca's live endpoint needs c's Config.Live.
func NewOrders(c *Client, cfg OrdersConfig) (*Orders, error) {
	o := &Orders{c: c, cfg: cfg, log: cfg.Logger, held: map[string]float64{}}
	if o.log == nil && c != nil {
		o.log = c.log
	}
	if o.log == nil {
		o.log = slog.Default()
	}
	if o.cfg.ClientOrderPrefix == "" {
		o.cfg.ClientOrderPrefix = "tf"
	}
	if o.cfg.MaxRemembered <= 0 {
		o.cfg.MaxRemembered = DefaultMaxRemembered
	}
	o.placed = newIDSet(o.cfg.MaxRemembered)
	switch {
	case cfg.Qty < 0 || cfg.Notional < 0 || math.IsNaN(cfg.Qty) || math.IsNaN(cfg.Notional) || (cfg.Qty > 0 && cfg.Notional > 0):
		return nil, fmt.Errorf("%s: %w: set Qty or Notional (positive), not both", ordersName, ErrConfig)
	case c == nil && !cfg.DryRun:
		return nil, fmt.Errorf("%s: %w: no Client (only a dry run needs none)", ordersName, ErrConfig)
	case c != nil && !cfg.DryRun && isLiveURL(c.cfg.TradingURL) && !c.cfg.Live:
		return nil, fmt.Errorf("%s: %w: %s is real money; use %s, or set Live", ordersName, ErrLiveNotAllowed, c.cfg.TradingURL, PaperURL)
	}
	if c != nil && c.cfg.Live && !cfg.DryRun {
		o.log.Warn("LIVE TRADING: orders are sent to Alpaca's live endpoint and use real money", "sink", ordersName, "url", c.cfg.TradingURL)
	}
	return o, nil
}

func isLiveURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Hostname() == "api.alpaca.markets"
}

// idSet is a set of the newest n ids: a ring evicts the oldest.
type idSet struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

func newIDSet(n int) *idSet {
	return &idSet{ids: make(map[string]struct{}, n), ring: make([]string, 0, n)}
}

func (s *idSet) has(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.ids[id]
	return ok
}

func (s *idSet) add(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ids[id]; ok {
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, id)
	} else {
		delete(s.ids, s.ring[s.next])
		s.ring[s.next] = id
		s.next = (s.next + 1) % len(s.ring)
	}
	s.ids[id] = struct{}{}
}

func (s *idSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

// ClientOrderID is the client_order_id of the order for signal s: a hash of
// its symbol, time and side, so the same signal always maps to the same
// order.
func ClientOrderID(prefix string, s *market.Signal) string {
	sum := sha256.Sum256([]byte(s.Symbol + "|" + s.Time.UTC().Format(time.RFC3339Nano) + "|" + s.Side.String()))
	return prefix + "-" + hex.EncodeToString(sum[:16])
}

// Write places an order for each signal in items, in order.
func (o *Orders) Write(ctx context.Context, items []market.Event) error {
	var q *tradingClients
	for i := range items {
		sig := items[i].Signal
		if sig == nil {
			continue
		}
		o.signals.Add(1)
		if q == nil && !o.cfg.DryRun {
			q = &tradingClients{query: o.c.trading(ctx, OpREST), place: o.c.trading(ctx, OpOrder)}
		}
		if err := o.handle(ctx, q, sig); err != nil {
			if o.cfg.OnFailure == nil || ctx.Err() != nil || errors.Is(err, ErrAuth) {
				return err
			}
			o.failed.Add(1)
			o.log.Error("alpaca order failed; signal given up", "sink", ordersName, "symbol", sig.Symbol,
				"side", sig.Side.String(), "signal_time", sig.Time.UTC(), "price", sig.Price,
				"client_order_id", ClientOrderID(o.cfg.ClientOrderPrefix, sig), "err", err)
			o.cfg.OnFailure(sig, err)
		}
	}
	return nil
}

// tradingClients are SDK clients bound to one Write's context: queries
// (positions, open orders) and placements are observed apart.
type tradingClients struct{ query, place *alpaca.Client }

func (o *Orders) handle(ctx context.Context, client *tradingClients, sig *market.Signal) error {
	sym := sig.Symbol
	log := o.log.With("sink", ordersName, "symbol", sym, "side", sig.Side.String(), "signal_time", sig.Time.UTC())
	cid := ClientOrderID(o.cfg.ClientOrderPrefix, sig)
	if o.placed.has(cid) {
		o.duplicates.Add(1)
		log.Info("alpaca order already placed for this signal", "client_order_id", cid)
		return nil
	}
	qty, err := o.position(ctx, client, sym)
	if err != nil {
		return err
	}
	req := alpaca.PlaceOrderRequest{Symbol: sym, Type: alpaca.Market, ClientOrderID: cid,
		TimeInForce: alpaca.TimeInForce(o.cfg.TimeInForce)}
	if req.TimeInForce == "" {
		req.TimeInForce = alpaca.Day
		if strings.Contains(sym, "/") {
			req.TimeInForce = alpaca.GTC
		}
	}
	switch sig.Side {
	case market.Buy:
		if qty != 0 {
			o.skippedHeld.Add(1)
			log.Info("alpaca buy skipped: already held", "position", qty)
			return nil
		}
		req.Side = alpaca.Buy
		if o.cfg.Notional > 0 {
			n := decimal.NewFromFloat(o.cfg.Notional)
			req.Notional = &n
		} else {
			q := decimal.NewFromFloat(max(o.cfg.Qty, 0))
			if o.cfg.Qty == 0 {
				q = decimal.NewFromInt(1)
			}
			req.Qty = &q
		}
	case market.Sell:
		if qty == 0 {
			o.skippedFlat.Add(1)
			log.Info("alpaca sell skipped: nothing held")
			return nil
		}
		req.Side = alpaca.Sell
		if qty < 0 { // held, quantity unknown
			if o.cfg.DryRun { // a notional buy
				return o.closeUnknown(log, sym, cid)
			}
			o.skippedFlat.Add(1)
			log.Warn("alpaca sell skipped: the buy order has not filled yet")
			return nil
		}
		q := decimal.NewFromFloat(qty)
		req.Qty = &q
	default:
		return nil
	}
	attrs := []any{"client_order_id", cid, "type", "market", "time_in_force", string(req.TimeInForce)}
	if req.Qty != nil {
		attrs = append(attrs, "qty", req.Qty.String())
	} else {
		attrs = append(attrs, "notional", req.Notional.String())
	}
	if o.cfg.DryRun {
		log.Info("alpaca dry run: would place order", attrs...)
		o.record(sym, sig.Side, req)
		o.placed.add(cid)
		o.orders.Add(1)
		return nil
	}
	placed, err := o.place(ctx, client, req, log)
	if err != nil {
		return err
	}
	if placed {
		o.record(sym, sig.Side, req)
		o.placed.add(cid)
		log.Info("alpaca order placed", attrs...)
	}
	return nil
}

func (o *Orders) closeUnknown(log *slog.Logger, sym, cid string) error {
	log.Info("alpaca dry run: would close the position", "client_order_id", cid)
	delete(o.held, sym)
	o.placed.add(cid)
	o.orders.Add(1)
	return nil
}

// record updates what the sink knows of the position after an order.
func (o *Orders) record(sym string, side market.Side, req alpaca.PlaceOrderRequest) {
	if side == market.Sell {
		delete(o.held, sym)
		return
	}
	if req.Qty != nil {
		o.held[sym] = req.Qty.InexactFloat64()
	} else {
		o.held[sym] = -1
	}
}

// position is the quantity held in sym, 0 when flat, -1 when held in an
// unknown quantity (an open buy order). Alpaca is the source of truth: its
// position, then its open buy orders, so an order that was cancelled or
// expired unfilled does not block the next BUY. A dry run has only what it
// would have done.
func (o *Orders) position(ctx context.Context, client *tradingClients, sym string) (float64, error) {
	if o.cfg.DryRun {
		return o.held[sym], nil
	}
	if q, err := o.alpacaPosition(ctx, client, sym); err != nil || q > 0 {
		return q, err
	}
	open, err := client.query.GetOrders(alpaca.GetOrdersRequest{Status: "open", Symbols: []string{sym}, Side: "buy"})
	if err != nil {
		return 0, o.fatal(err, "open orders "+sym)
	}
	for _, ord := range open {
		if ord.Side == alpaca.Buy && ord.Symbol == sym {
			return -1, nil
		}
	}
	return 0, nil
}

// alpacaPosition is Alpaca's position in sym (0 when there is none).
func (o *Orders) alpacaPosition(ctx context.Context, client *tradingClients, sym string) (float64, error) {
	pos, err := client.query.GetPosition(strings.ReplaceAll(sym, "/", ""))
	var apiErr *alpaca.APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return 0, nil // flat
	}
	if err != nil {
		return 0, o.fatal(err, "position "+sym)
	}
	if pos != nil && pos.Qty.IsPositive() {
		return pos.Qty.InexactFloat64(), nil
	}
	return 0, nil
}

// place sends the order (the I/O layer retries it). It returns whether
// the order is (now or already) placed; false with a nil error means
// Alpaca rejected it.
func (o *Orders) place(ctx context.Context, client *tradingClients, req alpaca.PlaceOrderRequest, log *slog.Logger) (bool, error) {
	_, err := client.place.PlaceOrder(req)
	var apiErr *alpaca.APIError
	switch {
	case err == nil:
		o.orders.Add(1)
		return true, nil
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity &&
		strings.Contains(apiErr.Message, "client_order_id must be unique"):
		o.duplicates.Add(1)
		log.Info("alpaca order already placed (client_order_id known to Alpaca)", "client_order_id", req.ClientOrderID)
		return true, nil
	case errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 &&
		apiErr.StatusCode != http.StatusUnauthorized &&
		!(apiErr.StatusCode == http.StatusForbidden && strings.Contains(apiErr.Message, "not authorized")):
		o.rejected.Add(1)
		log.Warn("alpaca order rejected", "client_order_id", req.ClientOrderID, "err", err)
		return false, nil
	case errors.As(err, &apiErr) || ctx.Err() != nil:
		return false, o.fatal(err, "order "+req.ClientOrderID)
	}
	// Retries exhausted, or a failure no retry may cure: the order may
	// have reached Alpaca.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err // it quotes the URL
	}
	return false, o.fatal(fmt.Errorf("%w: %w", ErrOrderUnknown, err), "order "+req.ClientOrderID)
}

// fatal words an error that ends the run, without URLs or secrets.
func (o *Orders) fatal(err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	if errors.Is(err, ErrRetries) && !errors.Is(err, ErrOrderUnknown) {
		err = fmt.Errorf("%w: %w", ErrOrderUnknown, err)
	}
	var apiErr *alpaca.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s: %s: %w (HTTP %d: %s); check APCA_API_KEY_ID and APCA_API_SECRET_KEY",
			ordersName, what, ErrAuth, apiErr.StatusCode, apiErr.Message)
	}
	return fmt.Errorf("%s: %s: %w", ordersName, what, err)
}
