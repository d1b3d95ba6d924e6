package alpaca_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

// printer is the smallest Emitter: it prints what a source emits.
type printer struct{}

func (printer) Emit(e market.Event) error {
	fmt.Printf("%s %s close %.2f\n", e.Symbol, e.Time.Format("15:04"), e.Close)
	return nil
}
func (printer) Flush() error { return nil }
func (printer) Fail(symbol string, err error) {
	fmt.Printf("FAIL %s: %v\n", symbol, err)
}

// Fetch historical minute bars of several symbols; here from the loopback
// fake, in a program from Alpaca (credentials from APCA_API_KEY_ID and
// APCA_API_SECRET_KEY). An unknown symbol fails alone.
func ExampleBars() {
	start := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	var hist []market.Bar
	for i, sym := range []string{"AAPL", "MSFT"} {
		for m := range 3 {
			c := 100*float64(i+1) + float64(m)
			hist = append(hist, market.Bar{Symbol: sym, Time: start.Add(time.Duration(m) * time.Minute),
				Open: c, High: c, Low: c, Close: c, Volume: 10})
		}
	}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: hist})
	defer srv.Close()

	client, err := alpaca.NewClient(alpaca.Config{KeyID: alpacatest.Key, SecretKey: alpacatest.Secret,
		DataURL: srv.DataURL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()
	src := &alpaca.Bars{
		Client:    client,
		Symbols:   []string{"AAPL", "MSFT", "ZZZZ"},
		TimeFrame: "1Min",
		Start:     start,
		End:       start.Add(time.Minute), // inclusive
	}
	if err := src.Produce(context.Background(), printer{}); err != nil {
		fmt.Println(err)
	}
	fmt.Println("breaker:", client.BreakerState())
	// Output:
	// AAPL 14:30 close 100.00
	// AAPL 14:31 close 101.00
	// MSFT 14:30 close 200.00
	// MSFT 14:31 close 201.00
	// FAIL ZZZZ: no bars from 2024-01-02T14:30:00Z to 2024-01-02T14:31:00Z (unknown symbol or no trading)
	// breaker: closed
}

// A dry run of the order sink needs no keys: it logs what it would place.
// Settings are checked when the sink is made.
func ExampleNewOrders() {
	log := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "client_order_id" {
				return slog.Attr{}
			}
			return a
		}}))
	if _, err := alpaca.NewOrders(nil, alpaca.OrdersConfig{Qty: 1, Notional: 100}); err != nil {
		fmt.Println(err)
	}
	sink, err := alpaca.NewOrders(nil, alpaca.OrdersConfig{DryRun: true, Qty: 5, Logger: log})
	if err != nil {
		fmt.Println(err)
		return
	}
	at := time.Date(2024, 1, 2, 15, 10, 0, 0, time.UTC)
	buy := market.Event{Bar: market.Bar{Symbol: "AAPL", Time: at},
		Signal: &market.Signal{Symbol: "AAPL", Time: at, Side: market.Buy, Price: 185.1}}
	if err := sink.Write(context.Background(), []market.Event{buy, buy}); err != nil {
		fmt.Println(err)
	}
	fmt.Printf("%+v\n", sink.Stats())
	// Output:
	// alpaca.Orders: invalid configuration: set Qty or Notional (positive), not both
	// level=INFO msg="alpaca dry run: would place order" sink=alpaca.Orders symbol=AAPL side=buy signal_time=2024-01-02T15:10:00.000Z type=market time_in_force=day qty=5
	// level=INFO msg="alpaca order already placed for this signal" sink=alpaca.Orders symbol=AAPL side=buy signal_time=2024-01-02T15:10:00.000Z
	// {Signals:2 Orders:1 Duplicates:1 SkippedHeld:0 SkippedFlat:0 Rejected:0 Failed:0}
}
