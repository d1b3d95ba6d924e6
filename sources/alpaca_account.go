package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"

	"github.com/tickflow/tickflow/pipeline"
)

// Trading endpoints.
const (
	AlpacaPaperURL = "https://paper-api.alpaca.markets"
	AlpacaLiveURL  = "https://api.alpaca.markets"
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

// AlpacaTradeUpdates is a source of the account's trade updates, Alpaca's
// server-sent-event stream GET /v2/events/trades.
//
// The SDK's StreamTradeUpdatesInBackground stops for good when the server
// ends the stream, retries in a tight loop on errors and spins after a
// context deadline; this source calls StreamTradeUpdates itself and
// reconnects with jittered exponential back-off (reset once a connection
// delivered an event). On reconnecting it asks for the events since the
// last one it emitted, so events that happened meanwhile are not lost, and
// skips the ones it already emitted (by event id, or time, order and
// event), so none is emitted twice. Refused keys end Produce with a
// one-line error.
type AlpacaTradeUpdates struct {
	// KeyID and SecretKey default to APCA_API_KEY_ID and APCA_API_SECRET_KEY.
	KeyID, SecretKey string
	// TradingURL defaults to APCA_API_BASE_URL, else the paper endpoint.
	TradingURL string
	// InitialBackoff (default 1s), BackoffFactor (default 2) and MaxBackoff
	// (default 30s) space reconnections.
	InitialBackoff, MaxBackoff time.Duration
	BackoffFactor              float64
	// MaxFailures ends Produce after that many connections in a row failed
	// without an event (default 0: never give up).
	MaxFailures int
	// Logger receives reconnections (default slog.Default()).
	Logger *slog.Logger

	connects, events, duplicates atomic.Int64
}

var _ pipeline.Source[TradeUpdate] = (*AlpacaTradeUpdates)(nil)

const alpacaTradesName = "sources.AlpacaTradeUpdates"

// AlpacaTradeUpdatesStats counts connections, events emitted and repeats
// skipped.
type AlpacaTradeUpdatesStats struct{ Connects, Events, Duplicates int64 }

// Stats returns the counters; safe at any time.
func (a *AlpacaTradeUpdates) Stats() AlpacaTradeUpdatesStats {
	return AlpacaTradeUpdatesStats{a.connects.Load(), a.events.Load(), a.duplicates.Load()}
}

// Produce streams trade updates until ctx is done.
func (a *AlpacaTradeUpdates) Produce(ctx context.Context, out pipeline.Emitter[TradeUpdate]) error {
	key := firstNonEmpty(a.KeyID, os.Getenv("APCA_API_KEY_ID"))
	secret := firstNonEmpty(a.SecretKey, os.Getenv("APCA_API_SECRET_KEY"))
	if key == "" {
		return missingVarError(alpacaTradesName, "API key ID", "APCA_API_KEY_ID")
	}
	if secret == "" {
		return missingVarError(alpacaTradesName, "API secret key", "APCA_API_SECRET_KEY")
	}
	base := strings.TrimRight(firstNonEmpty(a.TradingURL, os.Getenv("APCA_API_BASE_URL"), AlpacaPaperURL), "/")
	if u, err := url.Parse(base); err != nil || u.Host == "" {
		return fmt.Errorf("%s: %w: trading URL %q is not a URL", alpacaTradesName, ErrAlpacaConfig, base)
	}
	log := a.Logger
	if log == nil {
		log = slog.Default()
	}
	initial := a.InitialBackoff
	if initial <= 0 {
		initial = DefaultAlpacaInitialBackoff
	}
	maxWait := a.MaxBackoff
	if maxWait <= 0 {
		maxWait = DefaultAlpacaMaxBackoff
	}
	factor := a.BackoffFactor
	if factor < 1 {
		factor = DefaultAlpacaBackoffFactor
	}
	client := alpaca.NewClient(alpaca.ClientOpts{APIKey: key, APISecret: secret, BaseURL: base})

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
		if emitErrV != nil {
			return emitErr(ctx, emitErrV)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil && (strings.Contains(err.Error(), "(HTTP 401)") || strings.Contains(err.Error(), "(HTTP 403)")) {
			return fmt.Errorf("%s: %w (%s); check APCA_API_KEY_ID and APCA_API_SECRET_KEY", alpacaTradesName, ErrAlpacaAuth, httpStatusOf(err))
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
			return fmt.Errorf("%s: %w after %d connections: %w", alpacaTradesName, ErrAlpacaRetries, failures, err)
		}
		wait := jitterBackoff(max(failures-1, 0), initial, maxWait, factor)
		log.Warn("alpaca trade updates stream ended: reconnecting", "source", alpacaTradesName, "err", err, "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
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
