package alpaca_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

var ordT0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

// ordersFake starts a fake with one bar per symbol (its close is the fill
// price) and checks for leaks when the test ends.
func ordersFake(t *testing.T, closes map[string]float64) *alpacatest.Server {
	t.Helper()
	t.Cleanup(func() { goleak.VerifyNone(t) }) // runs after srv.Close
	var bars []market.Bar
	for sym, c := range closes {
		bars = append(bars, market.Bar{Symbol: sym, Time: ordT0, Open: c, High: c, Low: c, Close: c, Volume: 1})
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	t.Cleanup(func() {
		for _, c := range srvClients[srv] {
			c.Close()
		}
		delete(srvClients, srv)
		srv.Close()
	})
	return srv
}

func signal(sym string, minute int, side market.Side) market.Event {
	at := ordT0.Add(time.Duration(minute) * time.Minute)
	return market.Event{
		Bar:    market.Bar{Symbol: sym, Time: at, Close: 100},
		Signal: &market.Signal{Symbol: sym, Time: at, Side: side, Price: 100, Reason: "test"},
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func paperSink(srv *alpacatest.Server) *alpaca.Orders {
	return ordersSink(srv, nil)
}

// ordersSink is a paper sink on srv; edit, if set, changes its settings.
func ordersSink(srv *alpacatest.Server, edit func(*alpaca.Config, *alpaca.OrdersConfig)) *alpaca.Orders {
	cfg := alpaca.Config{KeyID: alpacatest.Key, SecretKey: alpacatest.Secret, TradingURL: srv.TradingURL,
		Retry: alpaca.RetryPolicy{Initial: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 5}, Logger: quiet}
	ocfg := alpaca.OrdersConfig{Qty: 10}
	if edit != nil {
		edit(&cfg, &ocfg)
	}
	c := mustClient(cfg)
	srvClients[srv] = append(srvClients[srv], c)
	o, err := alpaca.NewOrders(c, ocfg)
	if err != nil {
		panic(err)
	}
	return o
}

// srvClients are the clients made for a fake, closed with it.
var srvClients = map[*alpacatest.Server][]*alpaca.Client{}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// orderList renders the fake's orders as "side symbol filled-qty" lines.
func orderList(srv *alpacatest.Server) string {
	var b strings.Builder
	for _, o := range srv.Orders() {
		b.WriteString(o.Side + " " + o.Symbol + " " + strconv.FormatFloat(o.FilledQty, 'f', -1, 64) + "\n")
	}
	return b.String()
}

func TestOrdersNeverDuplicatedUnderRetries(t *testing.T) {
	srv := ordersFake(t, map[string]float64{"AAPL": 100, "MSFT": 50, "BTC/USD": 4000})
	sink := paperSink(srv)
	batches := [][]market.Event{
		{signal("AAPL", 1, market.Buy), {Bar: market.Bar{Symbol: "AAPL"}}, signal("AAPL", 1, market.Buy)}, // same signal twice
		{signal("AAPL", 2, market.Buy), signal("MSFT", 2, market.Buy)},                                    // AAPL held: skipped
		{signal("AAPL", 3, market.Sell), signal("AAPL", 4, market.Sell)},                                  // second sell: flat
		{signal("BTC/USD", 5, market.Buy), signal("BTC/USD", 6, market.Sell)},
	}
	// Every second request answers 429 (the SDK cannot retry a POST), and
	// every second order is placed but answered 500 (a lost response): the
	// retry meets 422 "client_order_id must be unique", i.e. already placed.
	srv.SetFaults(alpacatest.Faults{FailEvery: 2, FailStatus: 429, PlaceThenFailEvery: 2})
	for _, b := range batches {
		if err := sink.Write(ctxT(t), b); err != nil {
			t.Fatal(err)
		}
	}
	want := "buy AAPL 10\nbuy MSFT 10\nsell AAPL 10\nbuy BTC/USD 10\nsell BTC/USD 10\n"
	if got := orderList(srv); got != want {
		t.Fatalf("orders:\n%swant:\n%s", got, want)
	}
	st := sink.Stats()
	if st.Orders+st.Duplicates != 6 || st.Duplicates < 2 || srvClients[srv][0].Stats().Retries == 0 || st.SkippedHeld != 1 || st.SkippedFlat != 1 {
		t.Fatalf("stats %+v", st)
	}
	if srv.Position("AAPL") != 0 || srv.Position("MSFT") != 10 || srv.Position("BTC/USD") != 0 {
		t.Fatalf("positions AAPL %v MSFT %v BTC %v", srv.Position("AAPL"), srv.Position("MSFT"), srv.Position("BTC/USD"))
	}
}

// After a restart the new sink knows nothing: Alpaca's position, and
// failing that the client_order_id, keep the same signal from trading twice.
func TestOrdersRestartDoesNotRepeat(t *testing.T) {
	srv := ordersFake(t, map[string]float64{"AAPL": 100})
	buy := []market.Event{signal("AAPL", 1, market.Buy)}
	if err := paperSink(srv).Write(ctxT(t), buy); err != nil {
		t.Fatal(err)
	}
	again := paperSink(srv)
	if err := again.Write(ctxT(t), buy); err != nil {
		t.Fatal(err)
	}
	if st := again.Stats(); st.SkippedHeld != 1 || st.Orders != 0 {
		t.Fatalf("held: stats %+v", st)
	}
	srv.SetPosition("AAPL", 0) // closed elsewhere: only the client_order_id remains
	third := paperSink(srv)
	if err := third.Write(ctxT(t), buy); err != nil {
		t.Fatal(err)
	}
	if st := third.Stats(); st.Duplicates != 1 || st.Orders != 0 || len(srv.Orders()) != 1 {
		t.Fatalf("duplicate id: stats %+v, %d orders", st, len(srv.Orders()))
	}
}

func TestOrdersNotional(t *testing.T) {
	srv := ordersFake(t, map[string]float64{"AAPL": 200})
	sink := ordersSink(srv, func(_ *alpaca.Config, o *alpaca.OrdersConfig) { o.Qty, o.Notional = 0, 1000 })
	if err := sink.Write(ctxT(t), []market.Event{signal("AAPL", 1, market.Buy), signal("AAPL", 2, market.Sell)}); err != nil {
		t.Fatal(err)
	}
	o := srv.Orders()
	if len(o) != 2 || o[0].Notional != 1000 || o[0].FilledQty != 5 || o[1].Qty != 5 || srv.Position("AAPL") != 0 {
		t.Fatalf("orders %+v", o)
	}
}

func TestOrdersDryRunSendsNothing(t *testing.T) {
	srv := ordersFake(t, map[string]float64{"AAPL": 100})
	var logs bytes.Buffer
	var mu sync.Mutex
	t.Setenv("APCA_API_KEY_ID", "")
	t.Setenv("APCA_API_SECRET_KEY", "")
	sink, err := alpaca.NewOrders(nil, alpaca.OrdersConfig{DryRun: true, Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	err = sink.Write(ctxT(t), []market.Event{signal("AAPL", 1, market.Buy), signal("AAPL", 2, market.Buy), signal("AAPL", 3, market.Sell)})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().RESTRequests; n != 0 {
		t.Fatalf("dry run sent %d requests", n)
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if strings.Count(out, "would place order") != 2 || !strings.Contains(out, "client_order_id=tf-") || sink.Stats().SkippedHeld != 1 {
		t.Fatalf("logs:\n%s", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestOrdersLiveNeedsFlag(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	// Refused when the sink is made, not at the first signal.
	_, err := alpaca.NewOrders(mustClient(alpaca.Config{KeyID: "k", SecretKey: "s", TradingURL: alpaca.LiveURL, Logger: quiet}), alpaca.OrdersConfig{})
	if !errors.Is(err, alpaca.ErrLiveNotAllowed) {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("APCA_API_BASE_URL", alpaca.LiveURL)
	if _, err := alpaca.NewOrders(mustClient(alpaca.Config{KeyID: "k", SecretKey: "s", Logger: quiet}), alpaca.OrdersConfig{}); !errors.Is(err, alpaca.ErrLiveNotAllowed) {
		t.Fatalf("from the environment: err = %v", err)
	}
	if _, err := alpaca.NewOrders(nil, alpaca.OrdersConfig{Qty: 1, Notional: 5, DryRun: true}); !errors.Is(err, alpaca.ErrConfig) {
		t.Fatalf("qty and notional: err = %v", err)
	}

	srv := ordersFake(t, map[string]float64{"AAPL": 100})
	var logs bytes.Buffer
	var mu sync.Mutex
	live := ordersSink(srv, func(c *alpaca.Config, o *alpaca.OrdersConfig) {
		c.Live = true
		o.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	})
	if err := live.Write(ctxT(t), []market.Event{signal("AAPL", 1, market.Buy)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "LIVE TRADING") || len(srv.Orders()) != 1 {
		t.Fatalf("logs:\n%s", logs.String())
	}
}

func TestOrdersErrors(t *testing.T) {
	srv := ordersFake(t, map[string]float64{"AAPL": 100, "BRK.A": 600000})
	bad := ordersSink(srv, func(c *alpaca.Config, _ *alpaca.OrdersConfig) { c.SecretKey = "wrong-secret" })
	err := bad.Write(ctxT(t), []market.Event{signal("AAPL", 1, market.Buy)})
	if !errors.Is(err, alpaca.ErrAuth) || strings.Contains(err.Error(), "wrong-secret") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("auth: %v", err)
	}

	// Rejected by Alpaca: counted, logged, the run goes on.
	sink := paperSink(srv)
	if err := sink.Write(ctxT(t), []market.Event{signal("BRK.A", 1, market.Buy), signal("AAPL", 1, market.Buy)}); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Rejected != 1 || st.Orders != 1 {
		t.Fatalf("stats %+v", st)
	}

	// A 429 storm: the outcome stays unknown, the run stops.
	srv.SetFaults(alpacatest.Faults{FailEvery: 1, FailStatus: 429})
	sink = ordersSink(srv, func(c *alpaca.Config, _ *alpaca.OrdersConfig) { c.Retry.Attempts = 2 })
	err = sink.Write(ctxT(t), []market.Event{signal("AAPL", 9, market.Sell)})
	if !errors.Is(err, alpaca.ErrOrderUnknown) || !strings.Contains(err.Error(), "3 attempts") {
		t.Fatalf("storm: %v", err)
	}
}

// With OnFailure, a signal whose order failed is counted and reported, and
// the sink goes on; refused keys still end the run.
func TestOrdersOnFailureGoesOn(t *testing.T) {
	srv := ordersFake(t, map[string]float64{"AAPL": 100, "MSFT": 50})
	var failed []string
	onFailure := func(c *alpaca.Config, o *alpaca.OrdersConfig) {
		c.Retry.Attempts = 1
		o.OnFailure = func(sig *market.Signal, err error) { failed = append(failed, sig.Symbol+" "+err.Error()) }
	}
	srv.SetFaults(alpacatest.Faults{FailEvery: 1, FailStatus: 500})
	sink := ordersSink(srv, onFailure)
	if err := sink.Write(ctxT(t), []market.Event{signal("AAPL", 1, market.Buy), signal("MSFT", 1, market.Buy)}); err != nil {
		t.Fatalf("Write = %v, want nil: the failures are OnFailure's", err)
	}
	if st := sink.Stats(); st.Failed != 2 || st.Orders != 0 || len(failed) != 2 || !strings.HasPrefix(failed[1], "MSFT ") {
		t.Fatalf("stats %+v, failures %q", st, failed)
	}
	srv.SetFaults(alpacatest.Faults{})
	if err := sink.Write(ctxT(t), []market.Event{signal("AAPL", 2, market.Buy)}); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Orders != 1 || st.Failed != 2 {
		t.Fatalf("after recovery: stats %+v", st)
	}

	bad := ordersSink(srv, func(c *alpaca.Config, o *alpaca.OrdersConfig) {
		onFailure(c, o)
		c.SecretKey = "wrong-secret"
	})
	if err := bad.Write(ctxT(t), []market.Event{signal("MSFT", 3, market.Buy)}); !errors.Is(err, alpaca.ErrAuth) {
		t.Fatalf("refused keys: %v, want ErrAuth", err)
	}
}

func TestOrdersConformance(t *testing.T) {
	srv := ordersFake(t, map[string]float64{"AAPL": 100, "MSFT": 50})
	var items []market.Event
	for i := range 12 {
		sym := []string{"AAPL", "MSFT"}[i%2]
		side := market.Buy
		if i%4 >= 2 {
			side = market.Sell
		}
		items = append(items, signal(sym, i, side), market.Event{Bar: market.Bar{Symbol: sym}})
	}
	pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] { return paperSink(srv) }, items,
		func(t *testing.T, s pipeline.Sink[market.Event]) {
			// Whichever run placed them, each signal became one order.
			if n := len(srv.Orders()); n != 12 {
				t.Errorf("%d orders, want 12", n)
			}
			// A later run finds its buys placed (422) and, Alpaca's position
			// being flat, skips its sells: nothing happens twice.
			if st := s.(*alpaca.Orders).Stats(); st.Signals != 12 || st.Orders+st.Duplicates+st.SkippedFlat != 12 {
				t.Errorf("stats %+v", st)
			}
		})
}

// A live run's memory of placed orders stays bounded: only the newest
// MaxRemembered client_order_ids are kept, and a repeat of a remembered
// signal is still skipped.
func TestOrdersRememberedIsBounded(t *testing.T) {
	sink, err := alpaca.NewOrders(nil, alpaca.OrdersConfig{DryRun: true, MaxRemembered: 3, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		side := market.Buy
		if i%2 == 1 {
			side = market.Sell
		}
		if err := sink.Write(ctxT(t), []market.Event{signal("AAPL", i, side)}); err != nil {
			t.Fatal(err)
		}
		if n := sink.Remembered(); n > 3 {
			t.Fatalf("after %d signals %d ids remembered, want at most 3", i+1, n)
		}
	}
	if err := sink.Write(ctxT(t), []market.Event{signal("AAPL", 19, market.Sell)}); err != nil {
		t.Fatal(err)
	}
	if st := sink.Stats(); st.Orders != 20 || st.Duplicates != 1 || sink.Remembered() != 3 {
		t.Fatalf("stats %+v, remembered %d", st, sink.Remembered())
	}
}
