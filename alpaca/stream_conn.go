package alpaca

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata/stream"

	"github.com/tickflow/tickflow/internal/retry"
	"github.com/tickflow/tickflow/market"
)

// sdkLogger sends the SDK's stream logs to slog: its Info at Debug level.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Infof(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s sdkLogger) Warnf(f string, v ...any)  { s.l.Warn(fmt.Sprintf(f, v...)) }
func (s sdkLogger) Errorf(f string, v ...any) { s.l.Error(fmt.Sprintf(f, v...)) }

func (lc *liveConn) stop() {
	lc.cancel()
	for range lc.term { // the SDK sends its last word, then closes
	}
}

// fatalStreamErr tells the errors a new connection cannot fix.
func fatalStreamErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, stream.ErrInvalidCredentials):
		return fmt.Errorf("%s: %w (402 auth failed); check APCA_API_KEY_ID and APCA_API_SECRET_KEY", streamName, ErrAuth)
	case errors.Is(err, stream.ErrSymbolLimitExceeded):
		return fmt.Errorf("%s: %w (405 symbol limit exceeded): the plan streams fewer symbols", streamName, ErrConfig)
	case errors.Is(err, stream.ErrInsufficientSubscription), errors.Is(err, stream.ErrInsufficientScope),
		errors.Is(err, stream.ErrSubscriptionChangeInvalidForFeed), strings.Contains(err.Error(), "irrecoverable"):
		return fmt.Errorf("%s: %w", streamName, err)
	}
	return nil
}

// connect dials a client for syms as generation gen, retrying with the
// client's back-off: Retry.Attempts times for the first connection,
// without limit (until ctx ends) for a replacement. Each dial is one
// operation of type OpStreamConnect.
func (r *streamRun) connect(ctx context.Context, crypto bool, syms []string, gen int, initial bool) (*liveConn, error) {
	p := r.rc.cfg.Retry
	if !initial {
		p.Attempts = math.MaxInt
	}
	p.Timeout = -1 // the connection outlives the attempt: the SDK bounds its dial
	p.OnRetry = func(attempt int, wait time.Duration, err error) {
		r.rc.log.Warn("alpaca stream connect failed", "source", streamName, "crypto", crypto,
			"attempt", attempt, "retry_in", wait, "err", err)
	}
	var lc *liveConn
	err := p.Do(ctx, r.rc.cfg.Observer, OpStreamConnect, func(context.Context) error {
		var err error
		lc, err = r.dial(ctx, crypto, syms, gen) // the connect callback tells the queue
		if ferr := fatalStreamErr(err); ferr != nil {
			return retry.Permanent(ferr)
		}
		return err
	})
	switch {
	case err == nil:
		return lc, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, ErrRetries):
		return nil, fmt.Errorf("%s: connect: %w", streamName, err)
	}
	return nil, err
}

func (r *streamRun) dial(ctx context.Context, crypto bool, syms []string, gen int) (*liveConn, error) {
	cctx, cancel := context.WithCancel(ctx)
	lc := &liveConn{gen: gen, crypto: crypto, syms: syms, cancel: cancel}
	lc.lastRecv.Store(time.Now().UnixNano())
	st := &r.s.stats
	cfg := r.rc.cfg
	common := []stream.Option{
		stream.WithCredentials(cfg.KeyID, cfg.SecretKey),
		stream.WithLogger(sdkLogger{r.rc.log}),
		stream.WithReconnectSettings(r.reconnectLimit, r.reconnectDelay),
		stream.WithConnectCallback(func() {
			if lc.connects.Add(1) > 1 { // a reconnection by the SDK
				st.reconnects.Add(1)
			}
			lc.lastRecv.Store(time.Now().UnixNano())
			r.q.connected(gen, syms)
		}),
		stream.WithDisconnectCallback(func() { r.q.disconnected(gen, syms) }),
		stream.WithBufferFillCallback(func([]byte) {
			st.sdkDropped.Add(1)
			r.q.lost(syms)
		}),
	}
	var connectFn func(context.Context) error
	var term func() <-chan error
	if crypto {
		opts := []stream.CryptoOption{stream.WithBaseURL(r.cryptoURL), stream.WithCryptoBars(func(b stream.CryptoBar) {
			lc.lastRecv.Store(time.Now().UnixNano())
			r.q.push(market.Bar{Symbol: b.Symbol, Time: b.Timestamp.UTC(), Open: b.Open, High: b.High,
				Low: b.Low, Close: b.Close, Volume: b.Volume})
		}, syms...)}
		for _, o := range common {
			opts = append(opts, o)
		}
		c := stream.NewCryptoClient(marketdata.CryptoFeed(cfg.CryptoLoc), opts...)
		connectFn, term = c.Connect, c.Terminated
	} else {
		opts := []stream.StockOption{stream.WithBaseURL(r.stockURL), stream.WithBars(func(b stream.Bar) {
			lc.lastRecv.Store(time.Now().UnixNano())
			r.q.push(market.Bar{Symbol: b.Symbol, Time: b.Timestamp.UTC(), Open: b.Open, High: b.High,
				Low: b.Low, Close: b.Close, Volume: float64(b.Volume)})
		}, syms...)}
		for _, o := range common {
			opts = append(opts, o)
		}
		c := stream.NewStocksClient(marketdata.Feed(cfg.Feed), opts...)
		connectFn, term = c.Connect, c.Terminated
	}
	lc.term = term()
	if err := connectFn(cctx); err != nil {
		lc.stop()
		return nil, err
	}
	return lc, nil
}

// replace swaps conns[i] for a new client: after the SDK gave up (err) or
// when the socket went silent (stale). The symbols' gap is back-filled once
// the new client is subscribed.
func (r *streamRun) replace(ctx context.Context, i int, termErr error, stale bool) error {
	old := r.conns[i]
	if ferr := fatalStreamErr(termErr); ferr != nil {
		return ferr
	}
	if termErr == nil && !stale && ctx.Err() != nil {
		return ctx.Err()
	}
	if termErr != nil {
		r.rc.log.Warn("alpaca stream client ended: replacing it", "source", streamName, "err", termErr)
	}
	r.gen++
	r.q.retire(old.gen, r.gen, old.syms)
	old.stop()
	r.conns[i] = nil
	lc, err := r.connect(ctx, old.crypto, old.syms, r.gen, false)
	if err != nil {
		return err
	}
	r.conns[i] = lc
	r.s.stats.replaced.Add(1)
	r.s.stats.reconnects.Add(1)
	return nil
}
