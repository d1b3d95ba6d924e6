package backtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// TestBrokerEqualsRun: the live paper wallet, fed the pipeline's events as
// a stream sink, ends with the trades and equity of a backtest of the same
// bars.
func TestBrokerEqualsRun(t *testing.T) {
	src := func() *sources.Synthetic { return &sources.Synthetic{Symbols: 5, Bars: 3000, Seed: 3} }
	cfg := backtest.Config{StopLoss: 0.02, TrailingStop: 0.03}
	want, err := backtest.Run(context.Background(), src(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range want.Symbols {
		names = append(names, s.Symbol)
	}
	broker, err := backtest.NewBroker(cfg, names)
	if err != nil {
		t.Fatal(err)
	}
	var mid backtest.Snapshot
	seen := 0
	sink := pipeline.SinkFunc[market.Event](func(ctx context.Context, es []market.Event) error {
		if err := broker.Write(ctx, es); err != nil {
			return err
		}
		if seen += len(es); seen >= 7000 && mid.Holdings == nil {
			mid = broker.Snapshot()
		}
		return nil
	})
	p, err := tickflow.New(src(), sink, tickflow.Config{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, err := broker.Statement()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Portfolio, want.Portfolio) {
		t.Fatalf("portfolio:\nbroker %v\nrun    %v", got.Portfolio.Metrics, want.Portfolio.Metrics)
	}
	for i := range want.Symbols {
		if !reflect.DeepEqual(got.Symbols[i], want.Symbols[i]) {
			t.Fatalf("%s differs", want.Symbols[i].Symbol)
		}
	}
	// The snapshot taken mid-stream adds up.
	var eq, cash float64
	for _, h := range mid.Holdings {
		eq += h.Equity
		cash += h.Cash
		if h.Qty > 0 && !close9(h.Equity, h.Cash+h.Qty*h.LastPrice) {
			t.Fatalf("holding %+v: equity is not cash + qty*price", h)
		}
	}
	if len(mid.Holdings) != 5 || !close9(eq, mid.Equity) || !close9(cash, mid.Cash) {
		t.Fatalf("snapshot %+v", mid)
	}
	final := broker.Snapshot()
	if !close9(final.Equity, want.Portfolio.Metrics.FinalEquity) {
		t.Fatalf("final snapshot equity %v, backtest %v", final.Equity, want.Portfolio.Metrics.FinalEquity)
	}
	if err := broker.Write(context.Background(), []market.Event{{Bar: market.Bar{Symbol: names[0]}}}); err == nil {
		t.Fatal("Write after Statement succeeded")
	}
}

func TestBrokerRejectsBadEvents(t *testing.T) {
	b, err := backtest.NewBroker(backtest.Config{}, []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(sym string, d int) market.Event {
		return market.Event{Bar: market.Bar{Symbol: sym, Time: day0.AddDate(0, 0, d), Open: 1, High: 1, Low: 1, Close: 1}}
	}
	if err := b.Write(context.Background(), []market.Event{ev("B", 0)}); err == nil || !strings.Contains(err.Error(), "B") {
		t.Fatalf("unknown symbol: %v", err)
	}
	if err := b.Write(context.Background(), []market.Event{ev("A", 1), ev("A", 0)}); err == nil || !strings.Contains(err.Error(), "not after") {
		t.Fatalf("out of order: %v", err)
	}
	if _, err := backtest.NewBroker(backtest.Config{}, []string{"A", "A"}); !errors.Is(err, backtest.ErrUsage) {
		t.Fatalf("repeated symbol: %v", err)
	}
}

func TestWriters(t *testing.T) {
	r := checkAgainstReference(t, backtest.Config{Cash: 1000, Fee: -1, Slippage: -1},
		map[string][]refBar{"X": bars([][5]float64{{10, 10, 10, 10, B}, {10, 11, 9, 11, 0}, {11, 12, 11, 12, S}, {12, 13, 12, 13, B}})}, []string{"X"})
	var js bytes.Buffer
	if err := r.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Settings  map[string]any `json:"settings"`
		Portfolio struct {
			Metrics map[string]any `json:"metrics"`
		} `json:"portfolio"`
		Symbols []struct {
			Symbol  string           `json:"symbol"`
			Metrics map[string]any   `json:"metrics"`
			Trades  []map[string]any `json:"trades"`
			Open    *json.RawMessage `json:"open"`
		} `json:"symbols"`
	}
	dec := json.NewDecoder(bytes.NewReader(js.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%v\n%s", err, js.String())
	}
	if len(doc.Portfolio.Metrics) != len(backtest.MetricKeys()) || doc.Portfolio.Metrics["sortino"] != nil || doc.Settings["fee"] != 0.0 {
		t.Fatalf("portfolio %v settings %v", doc.Portfolio.Metrics, doc.Settings)
	}
	s := doc.Symbols[0]
	if s.Symbol != "X" || len(s.Trades) != 1 || s.Open != nil {
		t.Fatalf("symbol %+v", s)
	}
	wantTrade := map[string]any{"entry_time": "2024-01-02T00:00:00Z", "entry_price": 10.0, "exit_time": "2024-01-04T00:00:00Z",
		"exit_price": 12.0, "qty": 100.0, "pnl": 200.0, "return": 0.2}
	if !reflect.DeepEqual(s.Trades[0], wantTrade) {
		t.Fatalf("trade %v, want %v", s.Trades[0], wantTrade)
	}
	var tr, eq bytes.Buffer
	if err := r.WriteTrades(&tr); err != nil {
		t.Fatal(err)
	}
	if want := "symbol,entry_time,entry_price,exit_time,exit_price,qty,pnl,return,exit\n" +
		"X,2024-01-02T00:00:00Z,10,2024-01-04T00:00:00Z,12,100,200,0.2,signal\n"; tr.String() != want {
		t.Fatalf("trades CSV:\n%s\nwant\n%s", tr.String(), want)
	}
	if err := r.WriteEquity(&eq); err != nil {
		t.Fatal(err)
	}
	if want := "time,equity,drawdown\n2024-01-01T00:00:00Z,1000,0\n2024-01-02T00:00:00Z,1100,0\n" +
		"2024-01-03T00:00:00Z,1200,0\n2024-01-04T00:00:00Z,1200,0\n"; eq.String() != want {
		t.Fatalf("equity CSV:\n%s\nwant\n%s", eq.String(), want)
	}
}
