package sinks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/shopspring/decimal"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Trading endpoints.
const (
	AlpacaPaperURL = "https://paper-api.alpaca.markets"
	AlpacaLiveURL  = "https://api.alpaca.markets"
)

// Errors of AlpacaOrders; test with errors.Is.
var (
	// ErrAlpacaLiveNotAllowed: the trading URL is Alpaca's live endpoint
	// but Live is not set.
	ErrAlpacaLiveNotAllowed = errors.New("live trading endpoint without Live: true")
	// ErrAlpacaOrderAuth: the keys were refused.
	ErrAlpacaOrderAuth = errors.New("authentication failed")
	// ErrAlpacaOrderUnknown: an order request still failed after every
	// retry; whether it was placed is unknown, so the run stops rather than
	// guess. Its client_order_id makes a later retry safe.
	ErrAlpacaOrderUnknown = errors.New("order outcome unknown after retries")
	// ErrAlpacaOrderConfig: the configuration is contradictory.
	ErrAlpacaOrderConfig = errors.New("invalid configuration")
)

// AlpacaOrders is a sink that turns signals (events whose Signal is set)
// into market orders through Alpaca's trading API; other events are
// ignored.
//
// Safety first:
//   - Paper trading by default: the URL is TradingURL, else
//     APCA_API_BASE_URL, else the paper endpoint. Alpaca's live endpoint is
//     refused unless Live is true, and Live logs a warning.
//   - DryRun logs every order it would send and sends nothing (no keys
//     needed); positions are then tracked locally.
//   - One position per symbol, long only: a BUY is skipped while the symbol
//     is held (Alpaca's position or an open buy order: Alpaca is asked
//     before every order), a SELL closes the whole position and is skipped
//     when flat.
//   - Idempotent: every order's client_order_id is derived from the signal
//     (symbol, time, side), so a retry, or the same signal again after a
//     restart, can never place a second order. Alpaca's 422
//     "client_order_id must be unique" then means "already placed".
//   - The SDK does not retry a POST answered 429 (its body is gone); this
//     sink retries 429, 5xx, timeouts and network errors itself, with
//     jittered exponential back-off, RetryAttempts times.
//
// Alpaca's rejections of an order (403 insufficient buying power, 422 ...)
// are logged and counted (Stats.Rejected) and the run goes on; refused keys
// and an order whose outcome is still unknown after the retries end the run
// with an error.
type AlpacaOrders struct {
	// KeyID and SecretKey default to APCA_API_KEY_ID and APCA_API_SECRET_KEY.
	KeyID, SecretKey string
	// TradingURL defaults to APCA_API_BASE_URL, else the paper endpoint.
	TradingURL string
	// Live allows Alpaca's live endpoint (real money).
	Live bool
	// DryRun logs orders instead of sending them.
	DryRun bool
	// Qty is the quantity of each BUY (default 1), or Notional the dollars
	// of each BUY (fractional); set at most one. A SELL sells the position.
	Qty, Notional float64
	// TimeInForce of orders: default "day" for stocks, "gtc" for crypto.
	TimeInForce string
	// ClientOrderPrefix starts every client_order_id (default "tf").
	ClientOrderPrefix string
	// RetryAttempts (default 3; negative: none), InitialBackoff (1s),
	// BackoffFactor (2) and MaxBackoff (30s) shape the retries;
	// RequestTimeout (30s) bounds each request.
	RetryAttempts              int
	InitialBackoff, MaxBackoff time.Duration
	BackoffFactor              float64
	RequestTimeout             time.Duration
	// Transport performs HTTP requests (default: a private clone of
	// http.DefaultTransport, whose idle connections Close releases).
	Transport http.RoundTripper
	// Logger receives orders, skips and rejections (default slog.Default()).
	Logger *slog.Logger

	once    sync.Once
	initErr error
	own     *http.Transport
	cfg     ordersConfig
	held    map[string]float64 // dry run: the positions it would hold (qty; -1 = notional, quantity unknown)
	placed  map[string]bool    // client_order_ids placed

	signals, orders, duplicates, skippedHeld, skippedFlat, rejected, retries atomic.Int64
}

var (
	_ pipeline.Sink[market.Event] = (*AlpacaOrders)(nil)
	_ pipeline.Closer             = (*AlpacaOrders)(nil)
)

const alpacaOrdersName = "sinks.AlpacaOrders"

type ordersConfig struct {
	key, secret, url string
	attempts         int
	initial, maxWait time.Duration
	factor           float64
	timeout          time.Duration
	log              *slog.Logger
	prefix           string
}

// AlpacaOrdersStats counts what the sink did with the signals it got.
type AlpacaOrdersStats struct {
	Signals     int64 // signals received
	Orders      int64 // orders placed (or, in DryRun, logged)
	Duplicates  int64 // orders found already placed (422 on a repeated client_order_id)
	SkippedHeld int64 // BUYs skipped: the symbol is held
	SkippedFlat int64 // SELLs skipped: nothing to sell
	Rejected    int64 // orders Alpaca rejected
	Retries     int64 // requests retried
}

// Stats returns the counters; safe at any time.
func (o *AlpacaOrders) Stats() AlpacaOrdersStats {
	return AlpacaOrdersStats{o.signals.Load(), o.orders.Load(), o.duplicates.Load(), o.skippedHeld.Load(),
		o.skippedFlat.Load(), o.rejected.Load(), o.retries.Load()}
}

func (o *AlpacaOrders) init() error {
	o.once.Do(func() {
		c := ordersConfig{
			key: firstSet(o.KeyID, os.Getenv("APCA_API_KEY_ID")), secret: firstSet(o.SecretKey, os.Getenv("APCA_API_SECRET_KEY")),
			attempts: o.RetryAttempts, initial: o.InitialBackoff, maxWait: o.MaxBackoff, factor: o.BackoffFactor,
			timeout: o.RequestTimeout, log: o.Logger, prefix: firstSet(o.ClientOrderPrefix, "tf"),
		}
		if c.log == nil {
			c.log = slog.Default()
		}
		switch {
		case c.attempts == 0:
			c.attempts = 3
		case c.attempts < 0:
			c.attempts = 0
		}
		if c.initial <= 0 {
			c.initial = time.Second
		}
		if c.maxWait <= 0 {
			c.maxWait = 30 * time.Second
		}
		if c.factor < 1 {
			c.factor = 2
		}
		if c.timeout <= 0 {
			c.timeout = 30 * time.Second
		}
		def := AlpacaPaperURL
		if o.Live {
			def = AlpacaLiveURL
		}
		c.url = strings.TrimRight(firstSet(o.TradingURL, os.Getenv("APCA_API_BASE_URL"), def), "/")
		o.held, o.placed = map[string]float64{}, map[string]bool{}
		u, err := url.Parse(c.url)
		switch {
		case o.Qty < 0 || o.Notional < 0 || math.IsNaN(o.Qty) || math.IsNaN(o.Notional) || (o.Qty > 0 && o.Notional > 0):
			o.initErr = fmt.Errorf("%s: %w: set Qty or Notional (positive), not both", alpacaOrdersName, ErrAlpacaOrderConfig)
		case err != nil || u.Host == "":
			o.initErr = fmt.Errorf("%s: %w: trading URL %q is not a URL", alpacaOrdersName, ErrAlpacaOrderConfig, c.url)
		case u.Host == "api.alpaca.markets" && !o.Live && !o.DryRun:
			o.initErr = fmt.Errorf("%s: %w: %s is real money; use %s, or set Live", alpacaOrdersName, ErrAlpacaLiveNotAllowed, c.url, AlpacaPaperURL)
		case !o.DryRun && c.key == "":
			o.initErr = fmt.Errorf("%s: %w: no API key ID: set APCA_API_KEY_ID", alpacaOrdersName, ErrAlpacaOrderConfig)
		case !o.DryRun && c.secret == "":
			o.initErr = fmt.Errorf("%s: %w: no API secret key: set APCA_API_SECRET_KEY", alpacaOrdersName, ErrAlpacaOrderConfig)
		}
		if o.initErr == nil && o.Live && !o.DryRun {
			c.log.Warn("LIVE TRADING: orders are sent to Alpaca's live endpoint and use real money", "sink", alpacaOrdersName, "url", c.url)
		}
		if o.Transport == nil {
			o.own = http.DefaultTransport.(*http.Transport).Clone()
		}
		o.cfg = c
	})
	return o.initErr
}

// Close releases idle connections; the pipeline calls it after the last
// Write.
func (o *AlpacaOrders) Close() error {
	if o.own != nil {
		o.own.CloseIdleConnections()
	}
	return nil
}

func firstSet(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// ClientOrderID is the client_order_id of the order for signal s: a hash of
// its symbol, time and side, so the same signal always maps to the same
// order.
func ClientOrderID(prefix string, s *market.Signal) string {
	sum := sha256.Sum256([]byte(s.Symbol + "|" + s.Time.UTC().Format(time.RFC3339Nano) + "|" + s.Side.String()))
	return prefix + "-" + hex.EncodeToString(sum[:16])
}

// Write places an order for each signal in items, in order.
func (o *AlpacaOrders) Write(ctx context.Context, items []market.Event) error {
	if err := o.init(); err != nil {
		return err
	}
	var client *alpaca.Client
	for i := range items {
		sig := items[i].Signal
		if sig == nil {
			continue
		}
		o.signals.Add(1)
		if client == nil && !o.DryRun {
			client = o.client(ctx)
		}
		if err := o.handle(ctx, client, sig); err != nil {
			return err
		}
	}
	return nil
}

// client is a trading client whose requests run under ctx, each bounded by
// RequestTimeout. The SDK's own 429 retry is off: it resends an emptied
// body.
func (o *AlpacaOrders) client(ctx context.Context) *alpaca.Client {
	var base http.RoundTripper = o.own
	if o.Transport != nil {
		base = o.Transport
	}
	return alpaca.NewClient(alpaca.ClientOpts{
		APIKey: o.cfg.key, APISecret: o.cfg.secret, BaseURL: o.cfg.url, RetryLimit: -1,
		HTTPClient: &http.Client{Transport: ctxTransport{ctx: ctx, base: base, timeout: o.cfg.timeout}},
	})
}

type ctxTransport struct {
	ctx     context.Context
	base    http.RoundTripper
	timeout time.Duration
}

func (t ctxTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(t.ctx, t.timeout)
	resp, err := t.base.RoundTrip(r.Clone(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

func (o *AlpacaOrders) handle(ctx context.Context, client *alpaca.Client, sig *market.Signal) error {
	sym := sig.Symbol
	log := o.cfg.log.With("sink", alpacaOrdersName, "symbol", sym, "side", sig.Side.String(), "signal_time", sig.Time.UTC())
	cid := ClientOrderID(o.cfg.prefix, sig)
	if o.placed[cid] {
		o.duplicates.Add(1)
		log.Info("alpaca order already placed for this signal", "client_order_id", cid)
		return nil
	}
	qty, err := o.position(ctx, client, sym)
	if err != nil {
		return err
	}
	req := alpaca.PlaceOrderRequest{Symbol: sym, Type: alpaca.Market, ClientOrderID: cid,
		TimeInForce: alpaca.TimeInForce(o.TimeInForce)}
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
		if o.Notional > 0 {
			n := decimal.NewFromFloat(o.Notional)
			req.Notional = &n
		} else {
			q := decimal.NewFromFloat(max(o.Qty, 0))
			if o.Qty == 0 {
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
			if o.DryRun { // a notional buy
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
	if o.DryRun {
		log.Info("alpaca dry run: would place order", attrs...)
		o.record(sym, sig.Side, req)
		o.placed[cid] = true
		o.orders.Add(1)
		return nil
	}
	placed, err := o.place(ctx, client, req, log)
	if err != nil {
		return err
	}
	if placed {
		o.record(sym, sig.Side, req)
		o.placed[cid] = true
		log.Info("alpaca order placed", attrs...)
	}
	return nil
}

func (o *AlpacaOrders) closeUnknown(log *slog.Logger, sym, cid string) error {
	log.Info("alpaca dry run: would close the position", "client_order_id", cid)
	delete(o.held, sym)
	o.placed[cid] = true
	o.orders.Add(1)
	return nil
}

// record updates what the sink knows of the position after an order.
func (o *AlpacaOrders) record(sym string, side market.Side, req alpaca.PlaceOrderRequest) {
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
func (o *AlpacaOrders) position(ctx context.Context, client *alpaca.Client, sym string) (float64, error) {
	if o.DryRun {
		return o.held[sym], nil
	}
	if q, err := o.alpacaPosition(ctx, client, sym); err != nil || q > 0 {
		return q, err
	}
	var open []alpaca.Order
	err := o.retry(ctx, func() error {
		var err error
		open, err = client.GetOrders(alpaca.GetOrdersRequest{Status: "open", Symbols: []string{sym}, Side: "buy"})
		return err
	})
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
func (o *AlpacaOrders) alpacaPosition(ctx context.Context, client *alpaca.Client, sym string) (float64, error) {
	var pos *alpaca.Position
	err := o.retry(ctx, func() error {
		p, err := client.GetPosition(strings.ReplaceAll(sym, "/", ""))
		var apiErr *alpaca.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			return nil // flat
		}
		pos = p
		return err
	})
	if err != nil {
		return 0, o.fatal(err, "position "+sym)
	}
	if pos != nil && pos.Qty.IsPositive() {
		return pos.Qty.InexactFloat64(), nil
	}
	return 0, nil
}

// place sends the order with retries. It returns whether the order is (now
// or already) placed; false with a nil error means Alpaca rejected it.
func (o *AlpacaOrders) place(ctx context.Context, client *alpaca.Client, req alpaca.PlaceOrderRequest, log *slog.Logger) (bool, error) {
	var rejected error
	err := o.retry(ctx, func() error {
		_, err := client.PlaceOrder(req)
		var apiErr *alpaca.APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusUnprocessableEntity &&
			strings.Contains(apiErr.Message, "client_order_id must be unique") {
			o.duplicates.Add(1)
			log.Info("alpaca order already placed (client_order_id known to Alpaca)", "client_order_id", req.ClientOrderID)
			return nil
		}
		if err == nil {
			o.orders.Add(1)
			return nil
		}
		if errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 &&
			apiErr.StatusCode != http.StatusTooManyRequests && apiErr.StatusCode != http.StatusUnauthorized &&
			!(apiErr.StatusCode == http.StatusForbidden && strings.Contains(apiErr.Message, "not authorized")) {
			rejected = err
			return nil
		}
		return err
	})
	if err != nil {
		return false, o.fatal(err, "order "+req.ClientOrderID)
	}
	if rejected != nil {
		o.rejected.Add(1)
		log.Warn("alpaca order rejected", "client_order_id", req.ClientOrderID, "err", rejected)
		return false, nil
	}
	return true, nil
}

// retryable: 429, 5xx and transport errors (the SDK's emptied-body error
// included); not other HTTP answers, not cancellation.
func retryableOrderErr(err error) bool {
	var apiErr *alpaca.APIError
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode == http.StatusTooManyRequests || apiErr.StatusCode >= 500
	}
	return !errors.Is(err, context.Canceled)
}

func (o *AlpacaOrders) retry(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !retryableOrderErr(err) || attempt >= o.cfg.attempts {
			if retryableOrderErr(err) {
				return fmt.Errorf("%w (%d attempts): %w", ErrAlpacaOrderUnknown, attempt+1, err)
			}
			return err
		}
		o.retries.Add(1)
		d := float64(o.cfg.initial) * math.Pow(o.cfg.factor, float64(attempt))
		d = min(d, float64(o.cfg.maxWait))
		t := time.NewTimer(time.Duration(d/2 + rand.Float64()*d/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// fatal words an error that ends the run, without URLs or secrets.
func (o *AlpacaOrders) fatal(err error, what string) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	var apiErr *alpaca.APIError
	if errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden) {
		return fmt.Errorf("%s: %s: %w (HTTP %d: %s); check APCA_API_KEY_ID and APCA_API_SECRET_KEY",
			alpacaOrdersName, what, ErrAlpacaOrderAuth, apiErr.StatusCode, apiErr.Message)
	}
	return fmt.Errorf("%s: %s: %w", alpacaOrdersName, what, err)
}
