package alpaca_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/shopspring/decimal"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
)

// updates records trade updates; waitN blocks until n arrived.
type updates struct {
	mu      sync.Mutex
	got     []alpaca.TradeUpdate
	changed chan struct{}
}

func (u *updates) Emit(x alpaca.TradeUpdate) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.got = append(u.got, x)
	close(u.changed)
	u.changed = make(chan struct{})
	return nil
}
func (u *updates) Flush() error               { return nil }
func (u *updates) Fail(key string, err error) {}

func (u *updates) waitN(ctx context.Context, n int) error {
	for {
		u.mu.Lock()
		ok, ch := len(u.got) >= n, u.changed
		u.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func TestTradeUpdatesSurviveDroppedConnections(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: walk("AAPL", 3, alpacaT0, 1)})
	defer srv.Close()
	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	src := &alpaca.TradeUpdates{Client: mustClient(alpaca.Config{KeyID: alpacatest.Key, SecretKey: alpacatest.Secret,
		TradingURL: srv.TradingURL, Retry: alpaca.RetryPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond}, Logger: quietLogger})}
	rec := &updates{changed: make(chan struct{})}
	done := make(chan error, 1)
	go func() { done <- src.Produce(ctx, rec) }()

	tc := sdk.NewClient(sdk.ClientOpts{APIKey: alpacatest.Key, APISecret: alpacatest.Secret, BaseURL: srv.TradingURL})
	qty := decimal.NewFromInt(1)
	order := func(cid string, side sdk.Side) {
		t.Helper()
		if _, err := tc.PlaceOrder(sdk.PlaceOrderRequest{Symbol: "AAPL", Qty: &qty, Side: side,
			Type: sdk.Market, TimeInForce: sdk.Day, ClientOrderID: cid}); err != nil {
			t.Fatal(err)
		}
	}
	waitStreams := func(n int) {
		t.Helper()
		if err := srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.TradeStreamsOpen == 1 && s.TradeStreams >= n }); err != nil {
			t.Fatal(err)
		}
	}
	waitStreams(1)
	order("o1", sdk.Buy)
	if err := rec.waitN(ctx, 2); err != nil {
		t.Fatal(err)
	}
	// Broken mid-stream; an order fills while no stream is open (the
	// reconnection is held: it would otherwise race the order).
	srv.HoldTradeStreams()
	srv.DropTradeStreams(true)
	if err := srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.TradeStreamsOpen == 0 }); err != nil {
		t.Fatal(err)
	}
	order("o2", sdk.Sell)
	srv.ReleaseTradeStreams()
	waitStreams(2)
	if err := rec.waitN(ctx, 4); err != nil {
		t.Fatal(err)
	}
	// Ended cleanly (the SDK's background helper would stop for good).
	srv.DropTradeStreams(false)
	waitStreams(3)
	order("o3", sdk.Buy)
	if err := rec.waitN(ctx, 6); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var seq []string
	for _, u := range rec.got {
		seq = append(seq, u.ClientOrderID+":"+u.Event)
	}
	if got := strings.Join(seq, " "); got != "o1:new o1:fill o2:new o2:fill o3:new o3:fill" {
		t.Fatalf("events %s", got)
	}
	if u := rec.got[1]; u.Symbol != "AAPL" || u.Side != "buy" || u.Qty != 1 || u.PositionQty != 1 || u.Price == 0 {
		t.Fatalf("fill %+v", u)
	}
	if st := src.Stats(); st.Events != 6 || st.Connects < 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTradeUpdatesAuthFailure(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{})
	defer srv.Close()
	src := &alpaca.TradeUpdates{Client: mustClient(alpaca.Config{KeyID: alpacatest.Key, SecretKey: "wrong-secret", TradingURL: srv.TradingURL, Logger: quietLogger})}
	err := src.Produce(testCtx(t), &updates{changed: make(chan struct{})})
	noSecret(t, err)
	if !errors.Is(err, alpaca.ErrAuth) || !strings.Contains(err.Error(), "HTTP 401") {
		t.Fatalf("err = %v", err)
	}
}
