package server_test

import (
	"context"
	"net"
	"os"
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
