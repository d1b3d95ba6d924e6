package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
	"github.com/tickflow/tickflow/server"
)

// userSchema is a pipeline's schema with user-added indicators after the
// default ones, as `--indicators "macd(12,26,9),slow=sma(200)"` builds.
var userSchema = market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "macd_hist", "slow")

// userEvent is bar i of sym with every value of userSchema defined but
// slow (not yet: null), and a signal when side is set.
func userEvent(sym string, i int, side market.Side) market.Event {
	e := event(sym, i, side)
	rec := market.Indicators{Schema: userSchema}
	rec.SetDefault(100.5, true, 15, 12, true)
	for name, v := range map[string]float64{"macd": 0.25 + float64(i), "macd_signal": 0.125, "macd_hist": 0.125 + float64(i)} {
		h, _ := userSchema.Lookup(name)
		rec.Set(h, v)
	}
	e.Indicators = rec
	if e.Signal != nil {
		e.Signal.Indicators = rec
	}
	return e
}

func getJSON(t *testing.T, h http.Handler, path string, want int, into any) {
	t.Helper()
	rec := get(t, h, path)
	if rec.Code != want {
		t.Fatalf("%s = %d %s, want %d", path, rec.Code, rec.Body, want)
	}
	if into != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), into); err != nil {
			t.Fatalf("%s: %v: %s", path, err, rec.Body)
		}
	}
}

// TestSymbolsShowEveryIndicatorByName: /api/symbols keeps the default
// values where they were and shows every value of the record by name, in
// the schema's order, null where undefined.
func TestSymbolsShowEveryIndicatorByName(t *testing.T) {
	s, err := server.New(server.Options{SnapshotInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Feed().Write(context.Background(), []market.Event{userEvent("A", 3, 0)}); err != nil {
		t.Fatal(err)
	}
	rec := get(t, s.Handler(), "/api/symbols")
	var got []map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || len(got) != 1 {
		t.Fatalf("/api/symbols: %v: %s", err, rec.Body)
	}
	for k, want := range map[string]string{"ema": "100.5", "stochrsi_k": "15", "stochrsi_d": "12", "close": "103"} {
		if string(got[0][k]) != want {
			t.Errorf("%s = %s, want %s (where it always was)", k, got[0][k], want)
		}
	}
	// The names in the schema's order: decode the object token by token.
	dec := json.NewDecoder(strings.NewReader(string(got[0]["indicators"])))
	var names, values []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("indicators = %s: want an object", got[0]["indicators"])
	}
	for dec.More() {
		name, _ := dec.Token()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		names, values = append(names, name.(string)), append(values, string(v))
	}
	if want := userSchema.Names(); !reflect.DeepEqual(names, want) {
		t.Errorf("indicator names %q, want %q in that order", names, want)
	}
	if want := []string{"100.5", "15", "12", "3.25", "0.125", "3.125", "null"}; !reflect.DeepEqual(values, want) {
		t.Errorf("indicator values %q, want %q", values, want)
	}
}

// TestEventsCarryOHLCAndEveryIndicator: a "bars" item is the `--emit
// indicators` record (every value by name) followed by the bar's open,
// high, low and volume, and the signal's side.
func TestEventsCarryOHLCAndEveryIndicator(t *testing.T) {
	s, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	c := dial(t, ts.URL)
	e := userEvent("A", 2, market.Buy)
	if err := s.Feed().Write(context.Background(), []market.Event{e}); err != nil {
		t.Fatal(err)
	}
	ev, data := c.next(t)
	if ev != "bars" {
		t.Fatalf("event %q, want bars", ev)
	}
	record := strings.TrimSuffix(string(market.AppendEventJSON(nil, &e)), "}")
	if want := "[" + record + `,"open":100,"high":101,"low":99,"volume":1000,"signal":"buy"}]`; data != want {
		t.Errorf("bars data\n got %s\nwant %s", data, want)
	}
	if !strings.Contains(data, `"macd":2.25,"macd_signal":0.125,"macd_hist":2.125,"slow":null`) {
		t.Errorf("bars data %s lacks the user's indicators by name", data)
	}
}

type historyBody struct {
	Symbol     string                       `json:"symbol"`
	Indicators []string                     `json:"indicators"`
	Bars       []map[string]json.RawMessage `json:"bars"`
}

// TestHistoryKeepsTheLatestBars: /api/history gives a symbol's latest
// bars, oldest first, with OHLC, every indicator and the signals; it keeps
// Options.History of them, for the first Options.HistorySymbols symbols.
func TestHistoryKeepsTheLatestBars(t *testing.T) {
	const keep, written = 100, 1000
	s, err := server.New(server.Options{History: keep, HistorySymbols: 2})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range written {
		side := market.Side(0)
		if i%10 == 9 {
			side = market.Buy
		}
		batch := []market.Event{userEvent("A", i, side)}
		if i < 3 {
			batch = append(batch, userEvent("B", i, 0), userEvent("C", i, 0))
		}
		if err := s.Feed().Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	h := s.Handler()
	var body historyBody
	getJSON(t, h, "/api/history?symbol=A", http.StatusOK, &body)
	if body.Symbol != "A" || !reflect.DeepEqual(body.Indicators, userSchema.Names()) {
		t.Errorf("symbol %q, indicators %q", body.Symbol, body.Indicators)
	}
	if len(body.Bars) != keep {
		t.Fatalf("%d bars, want the last %d", len(body.Bars), keep)
	}
	signals := 0
	for j, b := range body.Bars {
		i := written - keep + j
		e := userEvent("A", i, 0)
		wantTime, _ := json.Marshal(e.Time)
		if string(b["time"]) != string(wantTime) || string(b["close"]) != fmt.Sprint(e.Close) ||
			string(b["open"]) != "100" || string(b["high"]) != "101" || string(b["low"]) != "99" ||
			string(b["macd"]) != fmt.Sprint(0.25+float64(i)) || string(b["slow"]) != "null" {
			t.Fatalf("bar %d (written %d) = %v", j, i, b)
		}
		if sig, ok := b["signal"]; ok {
			signals++
			if i%10 != 9 || string(sig) != `"buy"` {
				t.Errorf("bar %d: signal %s", i, sig)
			}
		} else if i%10 == 9 {
			t.Errorf("bar %d lost its signal", i)
		}
	}
	if signals != keep/10 {
		t.Errorf("%d signals, want %d", signals, keep/10)
	}
	getJSON(t, h, "/api/history?symbol=A&limit=5", http.StatusOK, &body)
	if len(body.Bars) != 5 || string(body.Bars[4]["macd"]) != fmt.Sprint(0.25+float64(written-1)) {
		t.Errorf("limit=5: %d bars, last %v", len(body.Bars), body.Bars[len(body.Bars)-1])
	}
	getJSON(t, h, "/api/history?symbol=B", http.StatusOK, &body)
	if len(body.Bars) != 3 {
		t.Errorf("B: %d bars, want 3", len(body.Bars))
	}
	getJSON(t, h, "/api/history?symbol=C", http.StatusNotFound, nil) // the third symbol: beyond HistorySymbols
	getJSON(t, h, "/api/history?symbol=NONE", http.StatusNotFound, nil)
	getJSON(t, h, "/api/history", http.StatusBadRequest, nil)
	getJSON(t, h, "/api/history?symbol=A&limit=x", http.StatusBadRequest, nil)

	off, err := server.New(server.Options{History: -1})
	if err != nil {
		t.Fatal(err)
	}
	_ = off.Feed().Write(ctx, []market.Event{userEvent("A", 0, 0)})
	getJSON(t, off.Handler(), "/api/history?symbol=A", http.StatusNotFound, nil)
}

// TestHistoryWhileWriting reads histories while the Feed writes (run with
// -race): every read is a run of consecutive bars ending at one written,
// never more than kept.
func TestHistoryWhileWriting(t *testing.T) {
	const keep, written = 70, 3000
	s, err := server.New(server.Options{History: keep})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_ = s.Feed().Write(ctx, []market.Event{userEvent("A", 0, 0)})
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for i := 1; i < written; i++ {
			_ = s.Feed().Write(ctx, []market.Event{userEvent("A", i, 0)})
		}
	})
	var bad sync.Once
	for range 2 {
		wg.Go(func() {
			for reads := 0; ; reads++ {
				select {
				case <-done:
					return
				default:
				}
				bars, ok := s.Feed().History("A", 0)
				if !ok || len(bars) == 0 || len(bars) > keep {
					bad.Do(func() { t.Errorf("read %d: %d bars (ok %v), want 1 to %d", reads, len(bars), ok, keep) })
					return
				}
				for j := 1; j < len(bars); j++ {
					if bars[j].Time.Sub(bars[j-1].Time) != time.Minute {
						bad.Do(func() { t.Errorf("read %d: bars %v then %v: not consecutive", reads, bars[j-1].Time, bars[j].Time) })
						return
					}
				}
			}
		})
	}
	wg.Wait()
	bars, _ := s.Feed().History("A", 0)
	if len(bars) != keep || bars[keep-1].Time != userEvent("A", written-1, 0).Time {
		t.Errorf("after the writes: %d bars ending %v", len(bars), bars[len(bars)-1].Time)
	}
}

// TestPositionsShowTheWallet: /api/positions is the Wallet callback's
// answer, 404 without one.
func TestPositionsShowTheWallet(t *testing.T) {
	at := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	w := server.Wallet{Cash: 5000, Equity: 10125.5, Realized: 25, Unrealized: 100.5, Positions: []server.Position{
		{Symbol: "A", Qty: 50, EntryPrice: 100, LastPrice: 102.01, LastTime: at, Equity: 5100.5, Unrealized: 100.5},
		{Symbol: "B", Cash: 5000, Equity: 5025, Realized: 25, Trades: 1, Pending: "buy"},
	}}
	calls := 0
	s, err := server.New(server.Options{Wallet: func() server.Wallet { calls++; return w }})
	if err != nil {
		t.Fatal(err)
	}
	var got server.Wallet
	getJSON(t, s.Handler(), "/api/positions", http.StatusOK, &got)
	if !reflect.DeepEqual(got, w) || calls != 1 {
		t.Errorf("/api/positions = %+v (%d calls), want %+v", got, calls, w)
	}
	var raw map[string]any
	getJSON(t, s.Handler(), "/api/positions", http.StatusOK, &raw)
	for _, k := range []string{"cash", "equity", "realized_pnl", "unrealized_pnl", "positions"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("/api/positions lacks %q: %v", k, raw)
		}
	}
	none, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	getJSON(t, none.Handler(), "/api/positions", http.StatusNotFound, nil)
}

// TestDashboardServesTheReportsChart: the dashboard draws with the
// report's renderer, byte for byte.
func TestDashboardServesTheReportsChart(t *testing.T) {
	s, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rec := get(t, s.Handler(), "/static/chart.js")
	if rec.Code != http.StatusOK || rec.Body.String() != report.ChartJS() {
		t.Errorf("/static/chart.js = %d, %d bytes: want report.ChartJS()'s %d", rec.Code, rec.Body.Len(), len(report.ChartJS()))
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/javascript") {
		t.Errorf("Content-Type %q", ct)
	}
	page := get(t, s.Handler(), "/").Body.String()
	if i, j := strings.Index(page, `src="/static/chart.js"`), strings.Index(page, `src="/static/app.js"`); i < 0 || j < i {
		t.Errorf("the page loads chart.js at %d and app.js at %d: want chart.js first", i, j)
	}
	app := get(t, s.Handler(), "/static/app.js").Body.String()
	if !strings.Contains(app, "TickflowChart.TimeChart") || strings.Contains(app, "function drawChart") {
		t.Error("app.js should draw with TickflowChart.TimeChart, not a chart of its own")
	}
}
