package alpacatest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/alpaca"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata/stream"
	"github.com/shopspring/decimal"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

func TestMain(m *testing.M) {
	log.SetOutput(io.Discard) // the SDK's stream client logs through package log
	goleak.VerifyTestMain(m)
}

var t0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

func minuteBars(sym string, n int, start time.Time) []market.Bar {
	out := make([]market.Bar, n)
	for i := range out {
		p := 100 + float64(i%17) - float64(i%5)*0.5
		out[i] = market.Bar{Symbol: sym, Time: start.Add(time.Duration(i) * time.Minute),
			Open: p, High: p + 1, Low: p - 1, Close: p + 0.25, Volume: float64(1000 + i)}
	}
	return out
}

// bufferedBodies reads every error body into memory: the SDK retries 429
// and 500 without closing the previous response, which would leak its
// connection's goroutines.
type bufferedBodies struct{}

func (bufferedBodies) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil || resp.StatusCode < 300 {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, err
}

var httpClient = &http.Client{Transport: bufferedBodies{}}

func dataClient(srv *alpacatest.Server, key string) *marketdata.Client {
	return marketdata.NewClient(marketdata.ClientOpts{
		APIKey: key, APISecret: alpacatest.Secret, BaseURL: srv.DataURL,
		RetryLimit: 5, RetryDelay: time.Millisecond, Feed: marketdata.IEX, HTTPClient: httpClient,
	})
}

func TestRESTPagination(t *testing.T) {
	var bars []market.Bar
	bars = append(bars, minuteBars("AAPL", 250, t0)...)
	bars = append(bars, minuteBars("MSFT", 130, t0)...)
	bars = append(bars, minuteBars("BTC/USD", 90, t0)...)
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars})
	defer srv.Close()
	md := dataClient(srv, alpacatest.Key)

	got, err := md.GetMultiBars([]string{"MSFT", "AAPL", "NOPE"}, marketdata.GetBarsRequest{
		TimeFrame: marketdata.OneMin, Start: t0, End: t0.Add(199 * time.Minute), PageLimit: 70,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got["AAPL"]) != 200 || len(got["MSFT"]) != 130 || len(got["NOPE"]) != 0 {
		t.Fatalf("got %d AAPL, %d MSFT, %d NOPE bars", len(got["AAPL"]), len(got["MSFT"]), len(got["NOPE"]))
	}
	// 330 bars at 70 a page: 5 pages.
	if st := srv.Stats(); st.BarRequests != 5 {
		t.Fatalf("bar requests = %d, want 5", st.BarRequests)
	}
	for i, b := range got["AAPL"] {
		want := bars[i]
		if !b.Timestamp.Equal(want.Time) || b.Close != want.Close || b.Volume != uint64(want.Volume) {
			t.Fatalf("AAPL bar %d = %+v, want %+v", i, b, want)
		}
	}
	// Inclusive start and end.
	one, err := md.GetBars("AAPL", marketdata.GetBarsRequest{TimeFrame: marketdata.OneMin, Start: t0.Add(time.Minute), End: t0.Add(time.Minute)})
	if err != nil || len(one) != 1 {
		t.Fatalf("inclusive range: %d bars, %v", len(one), err)
	}
	cb, err := md.GetCryptoMultiBars([]string{"BTC/USD"}, marketdata.GetCryptoBarsRequest{TimeFrame: marketdata.OneMin, Start: t0, PageLimit: 40})
	if err != nil || len(cb["BTC/USD"]) != 90 {
		t.Fatalf("crypto: %d bars, %v", len(cb["BTC/USD"]), err)
	}
}

func TestRESTErrors(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: minuteBars("AAPL", 10, t0), Now: func() time.Time { return t0.Add(time.Hour) }})
	defer srv.Close()
	_, err := dataClient(srv, "wrong").GetBars("AAPL", marketdata.GetBarsRequest{Start: t0})
	var apiErr *alpaca.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
		t.Fatalf("bad key: %v", err)
	}
	_, err = dataClient(srv, alpacatest.Key).GetBars("AAPL", marketdata.GetBarsRequest{Start: t0, Feed: marketdata.SIP})
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 403 || !strings.Contains(apiErr.Message, "recent SIP") {
		t.Fatalf("recent SIP: %v", err)
	}
	srv.SetFaults(alpacatest.Faults{FailEvery: 2, FailStatus: 429})
	bars, err := dataClient(srv, alpacatest.Key).GetBars("AAPL", marketdata.GetBarsRequest{Start: t0, PageLimit: 3})
	if err != nil || len(bars) != 10 {
		t.Fatalf("with faults: %d bars, %v", len(bars), err)
	}
	if st := srv.Stats(); st.FailedRequests != 3 {
		t.Fatalf("failed requests = %d, want 3 (4 pages, every second request fails)", st.FailedRequests)
	}
}

func TestStreamHandshakeAndBars(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	var mu sync.Mutex
	var got []stream.Bar
	gotAll := make(chan struct{})
	c := stream.NewStocksClient(marketdata.IEX,
		stream.WithCredentials(alpacatest.Key, alpacatest.Secret), stream.WithBaseURL(srv.StreamURL),
		stream.WithLogger(stream.ErrorOnlyLogger()),
		stream.WithBars(func(b stream.Bar) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, b)
			if len(got) == 3 {
				close(gotAll)
			}
		}, "AAPL"))
	cctx, ccancel := context.WithCancel(ctx)
	if err := c.Connect(cctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SubscribeToBars(func(b stream.Bar) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, b)
		if len(got) == 3 {
			close(gotAll)
		}
	}, "MSFT"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.Subscribed == 2 }); err != nil {
		t.Fatal(err)
	}
	srv.Publish(append(minuteBars("AAPL", 2, t0), minuteBars("MSFT", 1, t0)[0], minuteBars("TSLA", 1, t0)[0])...)
	select {
	case <-gotAll:
	case <-ctx.Done():
		t.Fatal("bars not delivered")
	}
	mu.Lock()
	if got[0].Symbol != "AAPL" || !got[1].Timestamp.Equal(t0.Add(time.Minute)) || got[2].Symbol != "MSFT" || got[0].Volume != 1000 {
		t.Fatalf("got %+v", got)
	}
	mu.Unlock()

	// A second connection with the same key is refused with 406 while the
	// first holds the slot.
	c2 := stream.NewStocksClient(marketdata.IEX,
		stream.WithCredentials(alpacatest.Key, alpacatest.Secret), stream.WithBaseURL(srv.StreamURL),
		stream.WithLogger(stream.ErrorOnlyLogger()), stream.WithBars(func(stream.Bar) {}, "AAPL"))
	c2ctx, c2cancel := context.WithCancel(ctx)
	c2done := make(chan error, 1)
	go func() { c2done <- c2.Connect(c2ctx) }()
	if err := srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.StreamRefused >= 1 }); err != nil {
		t.Fatal(err)
	}
	c2cancel()
	<-c2done
	<-c2.Terminated()

	ccancel()
	<-c.Terminated()
	if err := srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.StreamOpen == 0 }); err != nil {
		t.Fatal(err)
	}
}

func TestStreamAuthFailed(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{})
	defer srv.Close()
	c := stream.NewStocksClient(marketdata.IEX,
		stream.WithCredentials("bad", "bad"), stream.WithBaseURL(srv.StreamURL),
		stream.WithLogger(stream.ErrorOnlyLogger()), stream.WithBars(func(stream.Bar) {}, "AAPL"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := c.Connect(ctx)
	if !errors.Is(err, stream.ErrInvalidCredentials) {
		t.Fatalf("err = %v, want auth failed", err)
	}
	<-c.Terminated()
}

func TestOrdersAndTradeUpdates(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: minuteBars("AAPL", 3, t0)})
	defer srv.Close()
	tc := alpaca.NewClient(alpaca.ClientOpts{APIKey: alpacatest.Key, APISecret: alpacatest.Secret, BaseURL: srv.TradingURL, HTTPClient: httpClient})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	updates := make(chan alpaca.TradeUpdate, 16)
	sctx, scancel := context.WithCancel(ctx)
	streamDone := make(chan error, 1)
	go func() {
		streamDone <- tc.StreamTradeUpdates(sctx, func(u alpaca.TradeUpdate) { updates <- u }, alpaca.StreamTradeUpdatesRequest{})
	}()
	if err := srv.Wait(ctx, func(s alpacatest.Stats) bool { return s.TradeStreamsOpen == 1 }); err != nil {
		t.Fatal(err)
	}

	qty := decimal.NewFromInt(10)
	req := alpaca.PlaceOrderRequest{Symbol: "AAPL", Qty: &qty, Side: alpaca.Buy, Type: alpaca.Market, TimeInForce: alpaca.Day, ClientOrderID: "cid-1"}
	o, err := tc.PlaceOrder(req)
	if err != nil || o.ClientOrderID != "cid-1" || o.Status != "accepted" {
		t.Fatalf("order %+v, %v", o, err)
	}
	_, err = tc.PlaceOrder(req)
	var apiErr *alpaca.APIError
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 422 || apiErr.Message != "client_order_id must be unique" {
		t.Fatalf("duplicate: %v", err)
	}
	pos, err := tc.GetPosition("AAPL")
	if err != nil || !pos.Qty.Equal(qty) {
		t.Fatalf("position %+v, %v", pos, err)
	}
	if _, err := tc.GetPosition("MSFT"); !errors.As(err, &apiErr) || apiErr.StatusCode != 404 {
		t.Fatalf("no position: %v", err)
	}
	acct, err := tc.GetAccount()
	if err != nil || acct.Status != "ACTIVE" {
		t.Fatalf("account %+v, %v", acct, err)
	}
	byID, err := tc.GetOrderByClientOrderID("cid-1")
	if err != nil || byID.Status != "filled" {
		t.Fatalf("by client id %+v, %v", byID, err)
	}
	for _, want := range []string{"new", "fill"} {
		if u := <-updates; u.Event != want || u.Order.ClientOrderID != "cid-1" {
			t.Fatalf("update %+v, want %s", u, want)
		}
	}
	srv.DropTradeStreams(false)
	if err := <-streamDone; err != nil {
		t.Fatalf("clean end: %v", err)
	}
	scancel()

	// A 429 on POST: the SDK cannot retry it (its body is gone).
	srv.SetFaults(alpacatest.Faults{FailEvery: 1, FailStatus: 429})
	req.ClientOrderID = "cid-2"
	if _, err := tc.PlaceOrder(req); err == nil {
		t.Fatal("429 storm: no error")
	}
	srv.SetFaults(alpacatest.Faults{})
	if n := len(srv.Orders()); n != 1 {
		t.Fatalf("%d orders, want 1", n)
	}
}
