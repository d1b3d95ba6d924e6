package sources_test

import (
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/sources/alpacatest"
)

// fastREST is an AlpacaREST for tests: fake credentials, quick back-off,
// no rate limit to speak of.
func fastREST(srv *alpacatest.Server) sources.AlpacaREST {
	return sources.AlpacaREST{
		KeyID: alpacatest.Key, SecretKey: alpacatest.Secret, DataURL: srv.DataURL,
		RequestsPerMinute: 1_000_000, InitialBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
		RequestTimeout: 10 * time.Second, Logger: quietLogger,
	}
}

func runBars(t *testing.T, src *sources.AlpacaBars) (*recorder, error) {
	t.Helper()
	rec := newRecorder()
	err := src.Produce(testCtx(t), rec)
	if cerr := src.Close(); cerr != nil {
		t.Error(cerr)
	}
	noSecret(t, err)
	return rec, err
}

func TestAlpacaBarsMultiPageEqualsFake(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "SPY", "QQQ", "IWM", "BTC/USD", "ETH/USD"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 1200, alpacaT0), PageSize: 700})
	defer srv.Close()
	src := &sources.AlpacaBars{
		AlpacaREST: fastREST(srv), Symbols: syms, TimeFrame: "1Min",
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
	if got := src.Stats().Requests; got != int64(st.RESTRequests) {
		t.Errorf("source counted %d requests, fake served %d", got, st.RESTRequests)
	}
}

func TestAlpacaBarsSurvivesEveryThirdRequestFailing(t *testing.T) {
	for _, status := range []int{500, 429} {
		syms := []string{"AAPL", "MSFT", "SPY", "BTC/USD"}
		srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 900, alpacaT0), PageSize: 300})
		srv.SetFaults(alpacatest.Faults{FailEvery: 3, FailStatus: status})
		rest := fastREST(srv)
		rest.Concurrency = 1 // one request at a time: a retry is the next request, which succeeds
		src := &sources.AlpacaBars{AlpacaREST: rest, Symbols: syms, Start: alpacaT0,
			End: alpacaT0.Add(24 * time.Hour), SymbolsPerRequest: 2}
		rec, err := runBars(t, src)
		if err != nil {
			t.Fatal(err)
		}
		if f := rec.failures(); len(f) > 0 {
			t.Fatalf("HTTP %d: failures: %v", status, f)
		}
		checkAll(t, srv, rec.bySymbol(), syms)
		st := srv.Stats()
		if st.FailedRequests == 0 || src.Stats().Retries != int64(st.FailedRequests) {
			t.Errorf("HTTP %d: %d injected failures, %d retries", status, st.FailedRequests, src.Stats().Retries)
		}
		srv.Close()
	}
}

func TestAlpacaBarsBadSymbolsFailAlone(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "SPY"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 100, alpacaT0)})
	defer srv.Close()
	src := &sources.AlpacaBars{AlpacaREST: fastREST(srv), Start: alpacaT0, End: alpacaT0.Add(time.Hour),
		Symbols: []string{"AAPL", "NOSUCH", "MSFT", "bad$sym", "SPY", "AAPL"}}
	rec, err := runBars(t, src)
	if err != nil {
		t.Fatal(err)
	}
	f := rec.failures()
	if len(f) != 2 || !errors.Is(f["NOSUCH"], sources.ErrAlpacaNoBars) || !errors.Is(f["bad$sym"], sources.ErrAlpacaInvalid) {
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

func TestAlpacaBarsFatalErrors(t *testing.T) {
	now := alpacaT0.Add(time.Hour)
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(alpacaSyms3, 100, alpacaT0), Now: func() time.Time { return now }})
	defer srv.Close()
	cases := []struct {
		name string
		edit func(*sources.AlpacaBars)
		want error
		text string
	}{
		{"auth", func(a *sources.AlpacaBars) { a.SecretKey = "wrong-secret" }, sources.ErrAlpacaAuth, "HTTP 401"},
		{"recent SIP", func(a *sources.AlpacaBars) { a.Feed = "sip"; a.End = now }, sources.ErrAlpacaRecentSIP, "feed iex"},
		{"empty range", func(a *sources.AlpacaBars) { a.End = a.Start.Add(-time.Minute) }, sources.ErrAlpacaConfig, "empty range"},
		{"timeframe", func(a *sources.AlpacaBars) { a.TimeFrame = "7Fortnights" }, sources.ErrAlpacaConfig, "timeframe"},
		{"no start", func(a *sources.AlpacaBars) { a.Start = time.Time{} }, sources.ErrAlpacaConfig, "start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := &sources.AlpacaBars{AlpacaREST: fastREST(srv), Symbols: alpacaSyms3, Start: alpacaT0, End: alpacaT0.Add(time.Hour)}
			c.edit(src)
			_, err := runBars(t, src)
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want %v mentioning %q on one line", err, c.want, c.text)
			}
		})
	}
}

func TestAlpacaBarsMissingKeyNamesVariable(t *testing.T) {
	t.Setenv("APCA_API_KEY_ID", "")
	t.Setenv("APCA_API_SECRET_KEY", "")
	src := &sources.AlpacaBars{Symbols: alpacaSyms3, Start: alpacaT0}
	_, err := runBars(t, src)
	if err == nil || !strings.Contains(err.Error(), "set APCA_API_KEY_ID") {
		t.Fatalf("err = %v", err)
	}
	t.Setenv("APCA_API_KEY_ID", "k")
	src = &sources.AlpacaBars{Symbols: alpacaSyms3, Start: alpacaT0}
	if _, err = runBars(t, src); err == nil || !strings.Contains(err.Error(), "set APCA_API_SECRET_KEY") {
		t.Fatalf("err = %v", err)
	}
}

// A 429 storm: requests fail fast once the breaker opens, every symbol is
// reported, and the breaker says so; once the storm ends the next run
// recovers through a half-open trial.
func TestAlpacaBars429StormOpensBreaker(t *testing.T) {
	syms := []string{"AAPL", "MSFT", "SPY", "QQQ"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 50, alpacaT0)})
	defer srv.Close()
	srv.SetFaults(alpacatest.Faults{FailEvery: 1, FailStatus: 429})
	rest := fastREST(srv)
	rest.BreakerFailures = 3
	rest.BreakerCooldown = 200 * time.Millisecond
	rest.Concurrency = 1
	src := &sources.AlpacaBars{AlpacaREST: rest, Symbols: syms, Start: alpacaT0, End: alpacaT0.Add(time.Hour), SymbolsPerRequest: 1}
	rec, err := runBars(t, src)
	if err != nil {
		t.Fatal(err)
	}
	f := rec.failures()
	if len(f) != len(syms) {
		t.Fatalf("failures = %v", f)
	}
	for s, err := range f {
		if !errors.Is(err, sources.ErrAlpacaRetries) && !errors.Is(err, sources.ErrAlpacaCircuitOpen) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if src.BreakerState() != "open" || !errors.Is(src.Health(t.Context()), sources.ErrAlpacaCircuitOpen) {
		t.Fatalf("breaker %s, health %v", src.BreakerState(), src.Health(t.Context()))
	}
	if served := srv.Stats().RESTRequests; served >= len(syms)*4 {
		t.Errorf("%d requests reached the server: the open breaker should fail fast", served)
	}

	srv.SetFaults(alpacatest.Faults{})
	src.InitialBackoff, src.MaxBackoff = 100*time.Millisecond, 200*time.Millisecond
	src.RetryAttempts = 6 // waits outlast the cooldown: a half-open trial gets through
	rec = newRecorder()
	if err := src.Produce(testCtx(t), rec); err != nil {
		t.Fatal(err)
	}
	if len(rec.failures()) != 0 || src.BreakerState() != "closed" || src.Health(t.Context()) != nil {
		t.Fatalf("after the storm: failures %v, breaker %s", rec.failures(), src.BreakerState())
	}
	checkAll(t, srv, rec.bySymbol(), syms)
}

// The token bucket spaces requests: at 60 a minute with a burst of 3, ten
// requests take at least 7 s of (fake) time.
func TestAlpacaBarsRateLimit(t *testing.T) {
	syms := []string{"A", "B", "C", "D", "E", "F", "G", "H", "I", "J"}
	srv := alpacatest.NewServer(alpacatest.Options{Bars: multiWalk(syms, 10, alpacaT0)})
	defer srv.Close()
	synctest.Test(t, func(t *testing.T) {
		rest := fastREST(srv)
		rest.RequestsPerMinute = 60
		rest.Transport = handlerTransport{srv.Handler()}
		rest.Concurrency = 3
		src := &sources.AlpacaBars{AlpacaREST: rest, Symbols: syms, Start: alpacaT0, End: alpacaT0.Add(time.Hour), SymbolsPerRequest: 1}
		start := time.Now()
		rec := newRecorder()
		if err := src.Produce(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		if elapsed < 7*time.Second || elapsed > 8*time.Second {
			t.Errorf("10 requests took %v, want 7s..8s", elapsed)
		}
		if n := len(rec.bySymbol()); n != len(syms) {
			t.Errorf("%d symbols", n)
		}
	})
}

// Back-off grows by BackoffFactor and is bounded by RetryAttempts: with
// every request failing, 1 + 3 attempts wait about 1 + 2 + 4 s (jittered
// between half and all of it) and then the symbol fails.
func TestAlpacaBarsBackoffBounded(t *testing.T) {
	srv := alpacatest.NewServer(alpacatest.Options{Bars: walk("AAPL", 10, alpacaT0, 1)})
	defer srv.Close()
	srv.SetFaults(alpacatest.Faults{FailEvery: 1, FailStatus: 500})
	synctest.Test(t, func(t *testing.T) {
		rest := fastREST(srv)
		rest.Transport = handlerTransport{srv.Handler()}
		rest.InitialBackoff, rest.MaxBackoff = time.Second, time.Minute
		src := &sources.AlpacaBars{AlpacaREST: rest, Symbols: []string{"AAPL"}, Start: alpacaT0, End: alpacaT0.Add(time.Hour)}
		start := time.Now()
		rec := newRecorder()
		if err := src.Produce(t.Context(), rec); err != nil {
			t.Fatal(err)
		}
		elapsed := time.Since(start)
		if elapsed < 3500*time.Millisecond || elapsed > 7*time.Second {
			t.Errorf("retries took %v, want 3.5s..7s", elapsed)
		}
		if err := rec.failures()["AAPL"]; !errors.Is(err, sources.ErrAlpacaRetries) || !strings.Contains(err.Error(), "4 attempts") {
			t.Errorf("AAPL: %v", err)
		}
		if got := src.Stats(); got.Requests != 4 || got.Retries != 3 {
			t.Errorf("stats %+v", got)
		}
	})
}

var _ = market.Bar{}
