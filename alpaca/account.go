package alpaca

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"

	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/internal/retry"
	"github.com/tickflow/tickflow/pipeline"
)

// TradeUpdate is one event of the account's order stream (the ADR's
// stream_account_updates).
type TradeUpdate struct {
	At            time.Time
	Event         string // new, fill, partial_fill, canceled, expired, rejected, ...
	EventID       string
	OrderID       string
	ClientOrderID string
	Symbol        string
	Side          string // buy or sell
	OrderStatus   string
	Qty           float64 // this fill's quantity (fills only)
	Price         float64 // this fill's price (fills only)
	PositionQty   float64 // the position after the fill (fills only)
	FilledQty     float64 // the order's filled quantity so far
}

// Key returns the update's partition key, its symbol.
func (u TradeUpdate) Key() string { return u.Symbol }

// TradeUpdates is a source of the account's trade updates, Alpaca's
// server-sent-event stream GET /v2/events/trades.
//
// The SDK's StreamTradeUpdatesInBackground stops for good when the server
// ends the stream, retries in a tight loop on errors and spins after a
// context deadline; this source calls StreamTradeUpdates itself and
// reconnects with the client's jittered exponential back-off
// (Config.Retry's waits; reset once a connection delivered an event). On reconnecting it asks for the events since the
// last one it emitted, so events that happened meanwhile are not lost, and
// skips the ones it already emitted (by event id, or time, order and
// event), so none is emitted twice. Refused keys end Produce with a
// one-line error.
type TradeUpdates struct {
	// Client is the connection to Alpaca (its trading URL); required.
	Client *Client
	// MaxFailures ends Produce after that many connections in a row failed
	// without an event (default 0: never give up).
	MaxFailures                  int
	connects, events, duplicates atomic.Int64
}

var _ pipeline.Source[TradeUpdate] = (*TradeUpdates)(nil)

const tradesName = "alpaca.TradeUpdates"

// TradeUpdatesStats counts connections, events emitted and repeats
// skipped.
type TradeUpdatesStats struct{ Connects, Events, Duplicates int64 }

// Stats returns the counters; safe at any time.
func (a *TradeUpdates) Stats() TradeUpdatesStats {
	return TradeUpdatesStats{a.connects.Load(), a.events.Load(), a.duplicates.Load()}
}

// Produce streams trade updates until ctx is done.
func (a *TradeUpdates) Produce(ctx context.Context, out pipeline.Emitter[TradeUpdate]) error {
	if a.Client == nil {
		return fmt.Errorf("%s: %w: no Client", tradesName, ErrConfig)
	}
	log, policy := a.Client.log, a.Client.cfg.Retry
	// The event stream is one long response: it runs on the bare
	// transport, each connection observed as one operation; the
	// reconnections below are its retries.
	cfg := a.Client.cfg
	client := alpaca.NewClient(alpaca.ClientOpts{APIKey: cfg.KeyID, APISecret: cfg.SecretKey, BaseURL: cfg.TradingURL,
		HTTPClient: &http.Client{Transport: a.Client.transport}})

	var lastAt time.Time
	seenAtLast := map[string]bool{} // events at lastAt already emitted
	failures := 0
	started := time.Now().UTC()
	for first := true; ; first = false {
		got := false
		var emitErrV error
		// Since is inclusive: repeats are skipped below. Before any event,
		// a reconnection asks for everything since the first connection.
		req := alpaca.StreamTradeUpdatesRequest{Since: lastAt}
		if lastAt.IsZero() && !first {
			req.Since = started
		}
		a.connects.Add(1)
		connCtx, stop := context.WithCancel(ctx) // ends the stream when Emit fails
		end := observe.Start(cfg.Observer, OpTradeUpdates)
		err := client.StreamTradeUpdates(connCtx, func(tu alpaca.TradeUpdate) {
			if emitErrV != nil {
				return
			}
			id := tu.EventID
			if id == "" {
				id = tu.At.String() + "|" + tu.Order.ID + "|" + tu.Event
			}
			if tu.At.Before(lastAt) || (tu.At.Equal(lastAt) && seenAtLast[id]) {
				a.duplicates.Add(1)
				return
			}
			if !tu.At.Equal(lastAt) {
				lastAt = tu.At
				clear(seenAtLast)
			}
			seenAtLast[id] = true
			got = true
			if err := out.Emit(convertTradeUpdate(tu)); err != nil {
				emitErrV = err
				stop()
				return
			}
			a.events.Add(1)
			if err := out.Flush(); err != nil {
				emitErrV = err
				stop()
			}
		}, req)
		stop()
		if ctx.Err() == nil {
			end(err)
		} else {
			end(nil) // ended by the run, not by Alpaca
		}
		if emitErrV != nil {
			return emitErr(ctx, emitErrV)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && (strings.Contains(err.Error(), "(HTTP 401)") || strings.Contains(err.Error(), "(HTTP 403)")) {
			return fmt.Errorf("%s: %w (%s); check APCA_API_KEY_ID and APCA_API_SECRET_KEY", tradesName, ErrAuth, httpStatusOf(err))
		}
		if got {
			failures = 0
		} else {
			failures++
		}
		if a.MaxFailures > 0 && failures >= a.MaxFailures {
			if err == nil {
				err = errors.New("stream ended without events")
			}
			return fmt.Errorf("%s: %w after %d connections: %w", tradesName, ErrRetries, failures, err)
		}
		wait := policy.Backoff(max(failures-1, 0))
		log.Warn("alpaca trade updates stream ended: reconnecting", "source", tradesName, "err", err, "retry_in", wait)
		if err := retry.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// httpStatusOf keeps the "(HTTP n)" of an SDK error, not its body.
func httpStatusOf(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, "(HTTP "); i >= 0 {
		return s[i+1 : len(s)-1]
	}
	return "HTTP error"
}

func convertTradeUpdate(tu alpaca.TradeUpdate) TradeUpdate {
	u := TradeUpdate{
		At: tu.At.UTC(), Event: tu.Event, EventID: tu.EventID, OrderID: tu.Order.ID,
		ClientOrderID: tu.Order.ClientOrderID, Symbol: tu.Order.Symbol, Side: string(tu.Order.Side),
		OrderStatus: tu.Order.Status, FilledQty: tu.Order.FilledQty.InexactFloat64(),
	}
	if tu.Qty != nil {
		u.Qty = tu.Qty.InexactFloat64()
	}
	if tu.Price != nil {
		u.Price = tu.Price.InexactFloat64()
	}
	if tu.PositionQty != nil {
		u.PositionQty = tu.PositionQty.InexactFloat64()
	}
	return u
}
