package alpaca_test

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

// fastREST is a client Config for tests: fake credentials, quick back-off,
// no rate limit to speak of.
func fastREST(srv *alpacatest.Server) alpaca.Config {
	return alpaca.Config{
		KeyID: alpacatest.Key, SecretKey: alpacatest.Secret, DataURL: srv.DataURL, TradingURL: srv.TradingURL,
		StreamURL: srv.StreamURL, CryptoStreamURL: srv.CryptoStreamURL,
		RequestsPerMinute: 1_000_000, Retry: alpaca.RetryPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond, Timeout: 10 * time.Second}, Logger: quietLogger,
	}
}

func runBars(t *testing.T, src *alpaca.Bars) (*recorder, error) {
	t.Helper()
	rec := newRecorder()
	err := src.Produce(testCtx(t), rec)
	if cerr := src.Client.Close(); cerr != nil {
		t.Error(cerr)
	}
	noSecret(t, err)
	return rec, err
}

func TestBarsMultiPageEqualsFake(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "SPY", "QQQ", "IWM", "BTC/USD", "ETH/USD"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 1200, alpacaT0), PageSize: 700})
	defer srv.Close()
	src := &alpaca.Bars{
		Client: mustClient(fastREST(srv)), Symbols: syms, TimeFrame: "1Min",
		Start: alpacaT0, End: alpacaT0.Add(1199 * time.Minute),
		SymbolsPerRequest: 2, MaxBarsPerCall: 1000, // batches of 2, windows of 500 bars
	}
	rec, err := runBars(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if f := rec.failures(); len(f) > 0 {
		t.Fatalf("failures: %v", f)
	}
	checkAll(t, srv, rec.bySymbol(), syms)
	st := srv.Stats()
	if st.BarRequests < 20 {
		t.Errorf("only %d bar requests: the test meant to force paging, batches and windows", st.BarRequests)
	}
	if got := src.Client.Stats().Requests; got != int64(st.RESTRequests) {
		t.Errorf("source counted %d requests, fake served %d", got, st.RESTRequests)
	}
}

func TestBarsSurvivesEveryThirdRequestFailing(t *testing.T) {
	for _, status := range []int{500, 429} {
		syms := []string{"AAPL", "MSFT", "SPY", "BTC/USD"}
		srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 900, alpacaT0), PageSize: 300})
		srv.SetFaults(alpacatest.Faults{FailEvery: 3, FailStatus: status})
		rest := fastREST(srv)
		rest.MaxConcurrentRequests = 1 // one request at a time: a retry is the next request, which succeeds
		src := &alpaca.Bars{Client: mustClient(rest), Symbols: syms, Start: alpacaT0,
			End: alpacaT0.Add(24 * time.Hour), SymbolsPerRequest: 2, MaxConcurrentSymbols: 1}
		rec, err := runBars(t, src)
		if err != nil {
			t.Fatal(err)
		}
		if f := rec.failures(); len(f) > 0 {
			t.Fatalf("HTTP %d: failures: %v", status, f)
		}
		checkAll(t, srv, rec.bySymbol(), syms)
		st := srv.Stats()
		if st.FailedRequests == 0 || src.Client.Stats().Retries != int64(st.FailedRequests) {
			t.Errorf("HTTP %d: %d injected failures, %d retries", status, st.FailedRequests, src.Client.Stats().Retries)
		}
		srv.Close()
	}
}

func TestBarsBadSymbolsFailAlone(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "SPY"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 100, alpacaT0)})
	defer srv.Close()
	src := &alpaca.Bars{Client: mustClient(fastREST(srv)), Start: alpacaT0, End: alpacaT0.Add(time.Hour),
		Symbols: []string{"AAPL", "NOSUCH", "MSFT", "bad$sym", "SPY", "AAPL"}}
	rec, err := runBars(t, src)
	if err != nil {
		t.Fatal(err)
	}
	f := rec.failures()
	if len(f) != 2 || !errors.Is(f["NOSUCH"], alpaca.ErrNoBars) || !errors.Is(f["bad$sym"], alpaca.ErrInvalid) {
		t.Fatalf("failures = %v", f)
	}
	got := rec.bySymbol()
	for _, s := range syms {
		want := srv.Bars(s)[:61] // inclusive end: 14:30..15:30
		if err := sameBars(got[s], want); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestBarsFatalErrors(t *testing.T) {
	now := alpacaT0.Add(time.Hour)
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(alpacaSyms3, 100, alpacaT0), Now: func() time.Time { return now }})
	defer srv.Close()
	cases := []struct {
		name string
		edit func(*alpaca.Config, *alpaca.Bars)
		want error
		text string
	}{
		{"auth", func(c *alpaca.Config, _ *alpaca.Bars) { c.SecretKey = "wrong-secret" }, alpaca.ErrAuth, "HTTP 401"},
		{"recent SIP", func(c *alpaca.Config, a *alpaca.Bars) { c.Feed = "sip"; a.End = now }, alpaca.ErrRecentSIP, "feed iex"},
		{"empty range", func(_ *alpaca.Config, a *alpaca.Bars) { a.End = a.Start.Add(-time.Minute) }, alpaca.ErrConfig, "empty range"},
		{"timeframe", func(_ *alpaca.Config, a *alpaca.Bars) { a.TimeFrame = "7Fortnights" }, alpaca.ErrConfig, "timeframe"},
		{"no start", func(_ *alpaca.Config, a *alpaca.Bars) { a.Start = time.Time{} }, alpaca.ErrConfig, "start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := fastREST(srv)
			src := &alpaca.Bars{Symbols: alpacaSyms3, Start: alpacaT0, End: alpacaT0.Add(time.Hour)}
			c.edit(&cfg, src)
			src.Client = mustClient(cfg)
			_, err := runBars(t, src)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want %v mentioning %q on one line", err, c.want, c.text)
			}
		})
	}
}

func TestBarsMissingKeyNamesVariable(t *testing.T) {
	t.Setenv("APCA_API_KEY_ID", "")
	t.Setenv("APCA_API_SECRET_KEY", "")
	_, err := alpaca.NewClient(alpaca.Config{})
	if !errors.Is(err, alpaca.ErrConfig) || !strings.Contains(err.Error(), "set APCA_API_KEY_ID") {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("APCA_API_KEY_ID", "k")
	if _, err = alpaca.NewClient(alpaca.Config{}); err == nil || !strings.Contains(err.Error(), "set APCA_API_SECRET_KEY") {
		t.Fatalf("err = %v", err)
	}
	// A component without a client says so when it runs.
	if _, err = runBars(t, &alpaca.Bars{Symbols: alpacaSyms3, Start: alpacaT0}); !errors.Is(err, alpaca.ErrConfig) {
		t.Fatalf("err = %v", err)
	}
}

// A 429 storm: requests fail fast once the breaker opens, every symbol is
// reported, and the breaker says so; once the storm ends the next run
// recovers through a half-open trial.
func TestBars429StormOpensBreaker(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "SPY", "QQQ"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 50, alpacaT0)})
	defer srv.Close()
	srv.SetFaults(alpacatest.Faults{FailEvery: 1, FailStatus: 429})
	rest := fastREST(srv)
	rest.BreakerFailures = 3
	rest.BreakerCooldown = 200 * time.Millisecond
	rest.MaxConcurrentRequests = 1
	src := &alpaca.Bars{Client: mustClient(rest), Symbols: syms, Start: alpacaT0, End: alpacaT0.Add(time.Hour), SymbolsPerRequest: 1}
	rec, err := runBars(t, src)
	if err != nil {
		t.Fatal(err)
	}
	f := rec.failures()
	if len(f) != len(syms) {
		t.Fatalf("failures = %v", f)
	}
	for s, err := range f {
		if !errors.Is(err, alpaca.ErrRetries) && !errors.Is(err, alpaca.ErrCircuitOpen) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if src.Client.BreakerState() != "open" || !errors.Is(src.Client.Health(t.Context()), alpaca.ErrCircuitOpen) {
		t.Fatalf("breaker %s, health %v", src.Client.BreakerState(), src.Client.Health(t.Context()))
	}
	if served := srv.Stats().RESTRequests; served >= len(syms)*4 {
		t.Errorf("%d requests reached the server: the open breaker should fail fast", served)
	}

	srv.SetFaults(alpacatest.Faults{})
	// The breaker reads its (real) clock: once the cooldown has passed it
	// lets a trial through.
	for deadline := time.Now().Add(5 * time.Second); src.Client.BreakerState() == "open"; {
		if time.Now().After(deadline) {
			t.Fatal("the breaker stayed open past its cooldown")
		}
		runtime.Gosched()
	}
	rec = newRecorder()
	if err := src.Produce(testCtx(t), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.failures()) != 0 || src.Client.BreakerState() != "closed" || src.Client.Health(t.Context()) != nil {
		t.Fatalf("after the storm: failures %v, breaker %s", rec.failures(), src.Client.BreakerState())
	}
	checkAll(t, srv, rec.bySymbol(), syms)
}

// A shared limiter spaces requests: at one request per 50 ms with a burst
// of 1, ten requests take at least 450 ms. (Real time: the ordered fetcher's
// goroutines, from sourcegraph/conc, pool their channels across
// synctest bubbles.)
func TestBarsRateLimit(t *testing.T) {
	syms := []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 10, alpacaT0)})
	defer srv.Close()
	rest := fastREST(srv)
	rest.Limiter = rate.NewLimiter(rate.Every(50*time.Millisecond), 1)
	rest.Transport = handlerTransport{srv.Handler()}
	rest.MaxConcurrentRequests = 3
	src := &alpaca.Bars{Client: mustClient(rest), Symbols: syms, Start: alpacaT0, End: alpacaT0.Add(time.Hour), SymbolsPerRequest: 1}
	start := time.Now()
	rec := newRecorder()
	if err := src.Produce(testCtx(t), rec); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 450*time.Millisecond {
		t.Errorf("10 requests took %v, want at least 450ms", elapsed)
	}
	if n := len(rec.bySymbol()); n != len(syms) {
		t.Errorf("%d symbols", n)
	}
}

// Back-off grows by the factor and is bounded by Retry.Attempts: with
// every request failing, 1 + 3 attempts wait 10 + 20 + 40 ms (jittered
// between half and all of it) and then the symbol fails.
func TestBarsBackoffBounded(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: walk("AAPL", 10, alpacaT0, 1)})
	defer srv.Close()
	srv.SetFaults(alpacatest.Faults{FailEvery: 1, FailStatus: 500})
	rest := fastREST(srv)
	rest.Transport = handlerTransport{srv.Handler()}
	rest.Retry.Initial, rest.Retry.Max = 10*time.Millisecond, time.Minute
	src := &alpaca.Bars{Client: mustClient(rest), Symbols: []string{"AAPL"}, Start: alpacaT0, End: alpacaT0.Add(time.Hour)}
	start := time.Now()
	rec := newRecorder()
	if err := src.Produce(testCtx(t), rec); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 35*time.Millisecond {
		t.Errorf("retries took %v, want at least 35ms", elapsed)
	}
	if err := rec.failures()["AAPL"]; !errors.Is(err, alpaca.ErrRetries) || !strings.Contains(err.Error(), "4 attempts") {
		t.Errorf("AAPL: %v", err)
	}
	if got := src.Client.Stats(); got.Requests != 4 || got.Retries != 3 {
		t.Errorf("stats %+v", got)
	}
}

var _ = market.Bar{}

// max_concurrent_symbols: with a limit of 3 the fake sees at most 3 bar
// requests in flight (and it sees 3), one symbol per request, and the
// output keeps the order of Symbols.
func TestBarsBoundsConcurrentFetches(t *testing.T) {
	syms := []string{"A", "B", "C", "D", "E", "F", "G", "H"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 20, alpacaT0), GateBarRequests: 3})
	defer srv.Close()
	rest := fastREST(srv)
	rest.MaxConcurrentRequests = 8 // the client would allow more: the symbols' limit binds
	src := &alpaca.Bars{Client: mustClient(rest), Symbols: syms, Start: alpacaT0, End: alpacaT0.Add(time.Hour),
		SymbolsPerRequest: 1, MaxConcurrentSymbols: 3}
	rec, err := runBars(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if peak := srv.Stats().BarRequestsPeak; peak != 3 {
		t.Fatalf("peak %d bar requests at once, want 3", peak)
	}
	var order []string
	for _, e := range rec.events {
		if len(order) == 0 || order[len(order)-1] != e.Symbol {
			order = append(order, e.Symbol)
		}
	}
	if !slices.Equal(order, syms) {
		t.Fatalf("symbols emitted in order %v, want %v", order, syms)
	}
}

// max_concurrent_requests bounds the requests in flight of an operation
// type across the whole client, whatever the components using it ask for.
func TestClientBoundsRequestsInFlight(t *testing.T) {
	syms := []string{"A", "B", "C", "D", "E", "F", "G", "H"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 20, alpacaT0), GateBarRequests: 3})
	defer srv.Close()
	rest := fastREST(srv)
	rest.MaxConcurrentRequests = 3
	src := &alpaca.Bars{Client: mustClient(rest), Symbols: syms, Start: alpacaT0, End: alpacaT0.Add(time.Hour),
		SymbolsPerRequest: 1, MaxConcurrentSymbols: 8}
	if _, err := runBars(t, src); err != nil {
		t.Fatal(err)
	}
	if peak := srv.Stats().BarRequestsPeak; peak != 3 {
		t.Fatalf("peak %d requests at once, want 3", peak)
	}
}
