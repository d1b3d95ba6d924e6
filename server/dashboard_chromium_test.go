package server_test

import (
	"context"
	"math"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/internal/chromiumtest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/server"
)

// TestDashboardInChromium serves the dashboard fed with synthetic events,
// with a token, opens it in headless Chromium driven over the DevTools
// protocol at /?token=, and checks that the page logs no errors and shows
// live-updating data, and that the token left the address bar.
//
// It runs when TICKFLOW_TEST_CHROMIUM names a Chromium binary (Debian's
// chromium package: /usr/bin/chromium); TICKFLOW_TEST_SCREENSHOT, if set,
// is where a PNG of the page is written.
func TestDashboardInChromium(t *testing.T) {
	bin := chromiumtest.Bin(t, "the dashboard")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	url, stop := serveDashboard(t, ctx)
	defer stop()

	b := chromiumtest.Launch(t, ctx, bin)
	defer b.Close()
	page := b.Open(t, ctx, url)

	// Wait for the first live data, then for it to change.
	type view struct {
		Updates   int    `json:"updates"`
		Connected bool   `json:"connected"`
		Drawn     int    `json:"drawn"`
		Rows      int    `json:"rows"`
		First     string `json:"first"`
		Title     string `json:"title"`
		Health    string `json:"health"`
		Checks    int    `json:"checks"`
		Signals   int    `json:"signals"`
		Bars      string `json:"bars"`
	}
	const probe = `({
		updates: window.tickflow.updates, connected: window.tickflow.connected, drawn: window.tickflow.drawn,
		rows: document.querySelectorAll("#symbols tbody tr").length,
		first: (document.querySelector("#symbols tbody tr") || {innerText: ""}).innerText,
		title: document.getElementById("chart-title").textContent,
		health: document.getElementById("health").textContent,
		checks: document.querySelectorAll("#checks li").length,
		signals: document.querySelectorAll("#signals li").length,
		bars: document.getElementById("f-bars").textContent })`
	look := func() view {
		var v view
		_ = page.TryEval(t, ctx, probe, &v) // the page may not have run its script yet: nothing to see
		return v
	}
	var first view
	chromiumtest.WaitFor(t, ctx, "live data on the page", func() bool {
		first = look()
		return first.Connected && first.Updates >= 3 && first.Rows >= 1 && first.Drawn >= 1 && first.Checks == 4
	})
	var later view
	chromiumtest.WaitFor(t, ctx, "the page to update", func() bool {
		later = look()
		return later.Updates >= first.Updates+10 && later.First != first.First && later.Title != first.Title && later.Signals > 0
	})
	t.Logf("first: %+v", first)
	t.Logf("later: %+v", later)
	if !strings.HasPrefix(later.First, "SYM1") || !strings.HasPrefix(later.Title, "SYM1") {
		t.Errorf("first row %q, chart title %q: want SYM1's data", later.First, later.Title)
	}
	if later.Health != "healthy" {
		t.Errorf("health badge %q", later.Health)
	}
	var href, cookie string
	page.Eval(t, ctx, "location.href", &href)
	page.Eval(t, ctx, "document.cookie", &cookie)
	if strings.Contains(href, dashboardToken) || !strings.HasSuffix(href, "/") {
		t.Errorf("the page is at %s: want the token gone from the address", href)
	}
	if strings.Contains(cookie, "tickflow_session") {
		t.Errorf("the session cookie is readable by scripts: %q", cookie)
	}

	if path := os.Getenv("TICKFLOW_TEST_SCREENSHOT"); path != "" {
		page.Screenshot(t, ctx, path)
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// serveDashboard serves a healthy server on 127.0.0.1 with a goroutine
// writing synthetic events for 3 symbols to its Feed every 50 ms.
func serveDashboard(t *testing.T, ctx context.Context) (url string, stop func()) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	mon := health.New(health.Options{Activity: fresh{}})
	mon.Start()
	// With a token, as beyond loopback: the page is opened once with
	// ?token=, and its fetches and event stream carry the session cookie.
	s, err := server.New(server.Options{Gatherer: reg, Registerer: reg, Health: mon, Token: dashboardToken})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := s.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	wg.Go(func() {
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		price := map[string]float64{"SYM1": 100, "SYM2": 50, "SYM3": 20}
		for i := 0; ; i++ {
			var batch []market.Event
			for _, sym := range []string{"SYM1", "SYM2", "SYM3"} {
				p := price[sym] * (1 + 0.01*float64((i*7+len(sym))%11-5)/5)
				price[sym] = p
				e := market.Event{
					Bar:        market.Bar{Symbol: sym, Time: t0.Add(time.Duration(i) * time.Minute), Open: p, High: p * 1.01, Low: p * 0.99, Close: p, Volume: 1000},
					Indicators: market.DefaultRecord(p*0.995, i > 3, float64(i*13%100), float64(i*13%100+50)/2, i > 5),
				}
				if i%8 == 7 {
					side := market.Buy
					if i%16 == 15 {
						side = market.Sell
					}
					e.Signal = &market.Signal{Symbol: sym, Time: e.Time, Side: side, Price: p, Reason: "synthetic", Indicators: e.Indicators}
				}
				batch = append(batch, e)
			}
			_ = s.Feed().Write(ctx, batch)
			m.Processed("indicators", len(batch), len(batch), time.Millisecond)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return "http://" + ln.Addr().String() + "/?token=" + dashboardToken, func() { cancel(); wg.Wait() }
}

const dashboardToken = "dashboard-test-token"

// fresh is an Activity that has always just seen a bar and a batch.
type fresh struct{}

func (fresh) LastBar() time.Time       { return time.Now() }
func (fresh) LastProcessed() time.Time { return time.Now() }

// TestDashboardShowsUserIndicatorsInChromium feeds the dashboard events of
// a schema with user-added indicators (macd(12,26,9)'s three outputs and
// slow=sma(200)) and a paper wallet, opens it in headless Chromium, and
// checks that the page fills its chart from the server's history on load
// (300 bars before the page opened), lists and plots the user's
// indicators by name (slow over the candles, macd in a panel of its own),
// draws candles and the signals' markers with the report's renderer,
// shows the wallet, follows the live bars, and logs no error.
func TestDashboardShowsUserIndicatorsInChromium(t *testing.T) {
	bin := chromiumtest.Bin(t, "the dashboard")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	schema := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "macd_hist", "slow")
	handle := func(name string) market.Handle { h, _ := schema.Lookup(name); return h }
	macd, macdSignal, macdHist, slow := handle("macd"), handle("macd_signal"), handle("macd_hist"), handle("slow")
	ev := func(sym string, i int) market.Event {
		p := 100 + 10*math.Sin(float64(i)/15) + float64(len(sym))
		rec := market.Indicators{Schema: schema}
		rec.SetDefault(p*0.99, i > 3, float64(i*13%100), float64(i*7%100), i > 5)
		m := math.Cos(float64(i) / 15)
		rec.Set(macd, m)
		rec.Set(macdSignal, m*0.8)
		rec.Set(macdHist, m*0.2)
		if i >= 20 {
			rec.Set(slow, p*1.02)
		}
		e := market.Event{
			Bar:        market.Bar{Symbol: sym, Time: t0.Add(time.Duration(i) * time.Minute), Open: p - 0.5, High: p + 1, Low: p - 1, Close: p, Volume: 1000},
			Indicators: rec,
		}
		if i%20 == 19 {
			side := market.Buy
			if i%40 == 39 {
				side = market.Sell
			}
			e.Signal = &market.Signal{Symbol: sym, Time: e.Time, Side: side, Price: p, Reason: "synthetic", Indicators: rec}
		}
		return e
	}
	wallet := server.Wallet{Cash: 5000, Equity: 10100, Realized: 40, Unrealized: 60, Positions: []server.Position{
		{Symbol: "SYM1", Qty: 48.5, EntryPrice: 103, LastPrice: 104.2, LastTime: t0, Equity: 5060, Unrealized: 60, Trades: 3},
		{Symbol: "SYM2", Cash: 5040, Equity: 5040, Realized: 40, Trades: 4, Pending: "buy"},
	}}
	mon := health.New(health.Options{Activity: fresh{}})
	mon.Start()
	s, err := server.New(server.Options{Health: mon, Wallet: func() server.Wallet { return wallet }})
	if err != nil {
		t.Fatal(err)
	}
	const before = 300
	for i := range before {
		if err := s.Feed().Write(ctx, []market.Event{ev("SYM1", i), ev("SYM2", i)}); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stop(); wg.Wait() }()
	wg.Go(func() {
		if err := s.Serve(sctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	wg.Go(func() { // live bars every 50 ms
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := before; ; i++ {
			select {
			case <-sctx.Done():
				return
			case <-tick.C:
			}
			_ = s.Feed().Write(sctx, []market.Event{ev("SYM1", i), ev("SYM2", i)})
		}
	})

	b := chromiumtest.Launch(t, ctx, bin)
	defer b.Close()
	page := b.Open(t, ctx, "http://"+ln.Addr().String()+"/")

	type panel struct {
		Name   string   `json:"name"`
		Lines  []string `json:"lines"`
		Levels []int    `json:"levels"`
	}
	type view struct {
		Indicators []string `json:"indicators"`
		Legend     []string `json:"legend"`
		Head       []string `json:"head"`
		Row        []string `json:"row"`
		History    int      `json:"history"`
		Bars       int      `json:"bars"`
		Updates    int      `json:"updates"`
		Panels     []panel  `json:"panels"`
		Stats      struct{ Charts, Candles, Lines, Markers, Frames int }
		Wallet     int     `json:"wallet"`
		WalletShow bool    `json:"walletShown"`
		WalletSum  string  `json:"walletSum"`
		Ink        float64 `json:"ink"`
	}
	const probe = `(() => { const d = window.tickflow, c = d.chart, cv = document.getElementById("chart");
		const px = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
		let ink = 0;
		for (let i = 0; i < px.length; i += 4) if (px[i] !== 22 || px[i+1] !== 33 || px[i+2] !== 44) ink++;
		return {
		indicators: d.indicators, history: d.historyBars, bars: d.bars, updates: d.updates, wallet: d.wallet,
		legend: [...document.querySelectorAll("#legend [data-name]")].map(e => e.dataset.name),
		head: [...document.querySelectorAll("#symbols thead th")].map(e => e.textContent),
		row: [...document.querySelectorAll("#symbols tbody tr:first-child td")].map(e => e.textContent),
		panels: c.panels.map(p => ({name: p.name, lines: (p.lines || []).map(l => l.name), levels: p.levels || []})),
		stats: TickflowChart.stats(), walletShown: !document.getElementById("wallet-panel").hidden,
		walletSum: document.getElementById("wallet-sum").textContent, ink: ink / (px.length / 4) }; })()`
	look := func() view {
		var v view
		_ = page.TryEval(t, ctx, probe, &v) // the page may not have run its script yet
		return v
	}
	var first view
	chromiumtest.WaitFor(t, ctx, "the chart filled from history", func() bool {
		first = look()
		return first.Bars >= before && first.Stats.Candles > 0 && first.Wallet == 2
	})
	t.Logf("first: %+v", first)
	if first.History < before {
		t.Errorf("%d bars came from /api/history on load, want at least %d", first.History, before)
	}
	for _, name := range []string{"macd", "macd_signal", "macd_hist", "slow"} {
		if !slices.Contains(first.Indicators, name) || !slices.Contains(first.Legend, name) || !slices.Contains(first.Head, name) {
			t.Errorf("%s: indicators %q, legend %q, table head %q: want it in each", name, first.Indicators, first.Legend, first.Head)
		}
	}
	if i := slices.Index(first.Head, "macd"); i < 0 || i >= len(first.Row) || first.Row[i] == "–" || first.Row[i] == "" {
		t.Errorf("table row %q under head %q: want a macd value", first.Row, first.Head)
	}
	want := []panel{
		{Name: "SYM1", Lines: []string{"EMA", "slow"}, Levels: []int{}},
		{Name: "stochrsi", Lines: []string{"K", "D"}, Levels: []int{20, 80}},
		{Name: "macd", Lines: []string{"macd", "macd_signal", "macd_hist"}, Levels: []int{}},
	}
	if !reflect.DeepEqual(first.Panels, want) {
		t.Errorf("chart panels %+v, want %+v", first.Panels, want)
	}
	if first.Stats.Lines == 0 || first.Stats.Markers < before/20-1 {
		t.Errorf("chart drew %+v: want lines and the %d markers of the history", first.Stats, before/20)
	}
	if first.Ink < 0.02 {
		t.Errorf("%.1f%% of the chart's pixels drawn", 100*first.Ink)
	}
	if !first.WalletShow || !strings.Contains(first.WalletSum, "10100.00") {
		t.Errorf("wallet panel shown %v, sums %q", first.WalletShow, first.WalletSum)
	}
	var later view
	chromiumtest.WaitFor(t, ctx, "live bars on the chart", func() bool {
		later = look()
		return later.Updates >= first.Updates+10 && later.Bars > first.Bars
	})
	// History then live, without a gap or a bar twice: the page subscribes
	// before it reads the history.
	var steps []float64
	page.Eval(t, ctx, `(() => { const c = tickflow.chart, out = [];
		for (let i = 1; i < c.n; i++) out.push((c.times[i] - c.times[i-1]) / 60000);
		return out; })()`, &steps)
	for i, st := range steps {
		if st != 1 {
			t.Errorf("the chart's bar %d comes %v minutes after the one before, want 1 (%d bars)", i+1, st, len(steps)+1)
			break
		}
	}
	// Choosing another symbol fills the chart with its history.
	var clicked bool
	page.Eval(t, ctx, `(() => { const tr = document.querySelector('#symbols tbody tr[data-symbol="SYM2"]'); if (tr) tr.click(); return !!tr; })()`, &clicked)
	if !clicked {
		t.Fatal("no SYM2 row to click")
	}
	chromiumtest.WaitFor(t, ctx, "SYM2's history on the chart", func() bool {
		var v struct {
			Name string
			Bars int
		}
		_ = page.TryEval(t, ctx, `({name: tickflow.chart.panels[0].name, bars: tickflow.bars})`, &v)
		return v.Name == "SYM2" && v.Bars >= later.Bars
	})
	if path := os.Getenv("TICKFLOW_TEST_SCREENSHOT"); path != "" {
		page.Screenshot(t, ctx, strings.TrimSuffix(path, ".png")+"-indicators.png")
	}
	if errs := b.Errors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
