//go:build full

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sources"
)

// alpacaFlags select Alpaca as the source of bars and configure it. The
// credential and endpoint flags read the SDK's environment variables.
func alpacaFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "source", Usage: "where bars come from: alpaca (default: built-in synthetic data; run also reads --csv)"},
		&cli.StringFlag{Name: "symbols", Usage: "comma-separated `SYMBOLS` (crypto pairs as BTC/USD)"},
		&cli.StringFlag{Name: "timeframe", Value: "1Min", Usage: "bar size: 1Min, 5Min, 15Min, 1Hour, 1Day, ... (Alpaca's 1-59Min, 1-23Hour, 1Day, 1Week, 1-12Month)"},
		&cli.StringFlag{Name: "start", Usage: "first bar `TIME`, inclusive: " + dateRule},
		&cli.StringFlag{Name: "end", Usage: "last bar `TIME`, inclusive (default now): " + dateRule},
		tzFlag(),
		&cli.StringFlag{Name: "feed", Value: "iex", Usage: "Alpaca stock feed: iex (free), sip, delayed_sip"},
		&cli.IntFlag{Name: "rate-limit", Value: alpaca.DefaultRequestsPerMinute, Usage: fmt.Sprintf("Alpaca REST requests per minute, 1 to %d (200 on the Basic plan)", maxRateLimit)},
		&cli.StringFlag{Name: "key", EnvVars: []string{"APCA_API_KEY_ID"}, Usage: "Alpaca API key ID"},
		&cli.StringFlag{Name: "secret", EnvVars: []string{"APCA_API_SECRET_KEY"}, Usage: "Alpaca API secret key"},
		&cli.StringFlag{Name: "base-url", EnvVars: []string{"APCA_API_BASE_URL"}, Usage: "Alpaca trading `URL` (default: paper trading)"},
		&cli.StringFlag{Name: "data-url", EnvVars: []string{"APCA_API_DATA_URL"}, Usage: "Alpaca market-data REST `URL` (default https://data.alpaca.markets)"},
		&cli.StringFlag{Name: "stream-url", EnvVars: []string{"DATA_PROXY_WS"}, Usage: "Alpaca stock stream base `URL` (default wss://stream.data.alpaca.markets/v2)"},
		&cli.StringFlag{Name: "crypto-stream-url", EnvVars: []string{"DATA_CRYPTO_PROXY_WS"}, Usage: "Alpaca crypto stream base `URL`"},
	}
}

// Bounds of the Alpaca flags that size requests or memory.
const (
	maxRateLimit = 100_000
	// An order size is money: a typo of three zeros must be an error.
	maxQty      = 1_000_000
	maxNotional = 10_000_000
)

// alpacaSelected tells whether the flags ask for Alpaca.
func alpacaSelected(c *cli.Context) (bool, error) {
	switch s := c.String("source"); s {
	case "alpaca":
		return true, nil
	case "", "csv", "synthetic":
		return false, nil
	default:
		return false, usageError("--source: %q is not alpaca, csv or synthetic", s)
	}
}

// alpacaREST reads credentials and endpoints; a missing key is a one-line
// error naming the variable to set. The async settings retry its requests,
// and max_concurrent_requests caps those in flight (the rate limit still
// paces them).
func alpacaREST(c *cli.Context, cfg *config.Config, log *slog.Logger) (alpaca.Config, error) {
	rest := alpaca.Config{
		KeyID: c.String("key"), SecretKey: c.String("secret"), DataURL: c.String("data-url"), Live: c.String("orders") == "live",
		TradingURL: c.String("base-url"), StreamURL: c.String("stream-url"), CryptoStreamURL: c.String("crypto-stream-url"),
		Feed: c.String("feed"), RequestsPerMinute: c.Int("rate-limit"), Logger: log,
		Retry: retryPolicy(cfg), MaxConcurrentRequests: min(alpaca.DefaultMaxConcurrentRequests, cfg.Async.MaxConcurrentRequests),
	}
	if n := rest.RequestsPerMinute; n < 1 || n > maxRateLimit {
		return rest, usageError("--rate-limit: must be from 1 to %d, got %d", maxRateLimit, n)
	}
	if rest.KeyID == "" {
		return rest, usageError("Alpaca needs an API key: set APCA_API_KEY_ID (or --key)")
	}
	if rest.SecretKey == "" {
		return rest, usageError("Alpaca needs an API secret: set APCA_API_SECRET_KEY (or --secret)")
	}
	return rest, nil
}

// alpacaSymbols splits --symbols.
func alpacaSymbols(c *cli.Context) ([]string, error) {
	var syms []string
	for _, s := range strings.Split(c.String("symbols"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			syms = append(syms, strings.ToUpper(s))
		}
	}
	if len(syms) == 0 {
		return nil, usageError("Alpaca needs --symbols, e.g. --symbols AAPL,MSFT,BTC/USD")
	}
	return syms, nil
}

// alpacaBars builds the historical source the flags describe. Logs go to
// stderr at warning level (retries, the circuit breaker).
func alpacaBars(c *cli.Context, cfg *config.Config) (*alpaca.Bars, error) {
	log := stderrLogger(c.App.ErrWriter)
	if c.IsSet("synthetic-symbols") {
		return nil, usageError("--synthetic-symbols counts the synthetic feed's symbols; with --source alpaca, list them with --symbols")
	}
	rest, err := alpacaREST(c, cfg, log)
	if err != nil {
		return nil, err
	}
	syms, err := alpacaSymbols(c)
	if err != nil {
		return nil, err
	}
	r, err := parseRange(c)
	if err != nil {
		return nil, err
	}
	if r.Start.IsZero() {
		return nil, usageError("Alpaca history needs --start (and --end, default now)")
	}
	client, err := alpaca.NewClient(rest)
	if err != nil {
		return nil, err
	}
	return &alpaca.Bars{Client: client, Symbols: syms, TimeFrame: c.String("timeframe"), Start: r.Start, End: r.Last(),
		MaxConcurrentSymbols: cfg.Async.Fetch()}, nil
}

func stderrLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// alpacaInput is input's --source alpaca branch.
func alpacaInput(c *cli.Context, cfg *config.Config, err error) (pipeline.Source[market.Event], *sources.CSV, error) {
	if err != nil {
		return nil, nil, err
	}
	if len(c.StringSlice("csv")) > 0 {
		return nil, nil, usageError("--source alpaca and --csv: choose one")
	}
	src, err := alpacaBars(c, cfg)
	if err != nil {
		return nil, nil, err
	}
	return src, nil, nil
}

// alpacaNote names the source for summaries.
func alpacaNote(src *alpaca.Bars) string {
	st := src.Client.Stats()
	return fmt.Sprintf("alpaca: %d requests, %d retries, circuit breaker %s", st.Requests, st.Retries, src.Client.BreakerState())
}

// alpacaStreamFlags are the Alpaca flags of "tickflow stream": --symbols
// lists Alpaca's symbols (the synthetic feed's count is
// --synthetic-symbols); live bars are one-minute bars, so no --timeframe,
// --start or --end. Orders are off unless --orders asks.
func alpacaStreamFlags() []cli.Flag {
	var flags []cli.Flag
	for _, f := range alpacaFlags() {
		switch f.Names()[0] {
		case "timeframe", "start", "end", "tz":
			continue
		}
		flags = append(flags, f)
	}
	return append(flags,
		&cli.IntFlag{Name: "warmup", Value: alpaca.DefaultWarmupBars, Usage: fmt.Sprintf("with --source alpaca: bars of history per symbol before live bars, 0 to %d (exact indicators need 500)", maxWarmupBars)},
		&cli.DurationFlag{Name: "alpaca-stale-after", Value: alpaca.DefaultStaleAfter, Usage: "with --source alpaca: replace a socket silent this long (stocks are silent outside trading hours)"},
		&cli.StringFlag{Name: "orders", Value: "off", Usage: "turn signals into orders: off, sim (a simulated wallet, the backtest's fill rule), dry-run (log Alpaca orders only), paper, live (real money)"},
		&cli.Float64Flag{Name: "qty", Usage: fmt.Sprintf("with --orders: shares per buy, up to %d", maxQty), DefaultText: "1"},
		&cli.Float64Flag{Name: "notional", Usage: fmt.Sprintf("with --orders: dollars per buy, up to %d, instead of --qty", maxNotional)},
	)
}

// streamFeed is stream's live source: the synthetic feed of
// --synthetic-symbols, or Alpaca's stream of --symbols with --source alpaca.
func streamFeed(c *cli.Context, cfg *config.Config, log *slog.Logger, obs alpaca.Observer) (pipeline.Source[market.Event], error) {
	alp, err := alpacaSelected(c)
	if err != nil {
		return nil, err
	}
	if !alp && (c.String("source") == "csv" || len(c.StringSlice("csv")) > 0) {
		return replayFeed(c)
	}
	if !alp {
		if c.IsSet("symbols") {
			return nil, syntheticSymbolsError(c.String("symbols"))
		}
		return syntheticFeed(cfg, c.Uint64("seed")), nil
	}
	if c.IsSet("synthetic-symbols") {
		return nil, usageError("--synthetic-symbols counts the synthetic feed's symbols; with --source alpaca, list them with --symbols")
	}
	rest, err := alpacaREST(c, cfg, log)
	if err != nil {
		return nil, err
	}
	rest.Observer = obs
	syms, err := alpacaSymbols(c)
	if err != nil {
		return nil, err
	}
	warm := c.Int("warmup")
	if warm < 0 || warm > maxWarmupBars {
		return nil, usageError("--warmup: must be from 0 to %d, got %d", maxWarmupBars, warm)
	}
	if warm == 0 {
		warm = -1 // the source's zero is its default; the flag's is none
	}
	client, err := alpaca.NewClient(rest)
	if err != nil {
		return nil, err
	}
	return &alpaca.Stream{Client: client, Symbols: syms, WarmupBars: warm, StaleAfter: c.Duration("alpaca-stale-after"),
		MaxConcurrentSymbols: cfg.Async.Fetch()}, nil
}

// replayFeed is stream's --csv: the files' bars replayed as a live feed at
// --replay-speed (--source csv without --csv is an error, not the synthetic
// feed).
func replayFeed(c *cli.Context) (pipeline.Source[market.Event], error) {
	if len(c.StringSlice("csv")) == 0 {
		return nil, usageError("--source csv needs --csv PATH (the bars to replay)")
	}
	speed, err := sources.ParseReplaySpeed(c.String("replay-speed"))
	if err != nil {
		return nil, usageError("--replay-speed: %v", err)
	}
	csv, err := csvInput(c)
	if err != nil {
		return nil, err
	}
	return &sources.Replay{Source: csv, Speed: speed}, nil
}

// syntheticSymbolsError explains stream's --symbols without --source
// alpaca: it used to be the synthetic feed's count.
func syntheticSymbolsError(value string) error {
	if _, err := strconv.Atoi(strings.TrimSpace(value)); err == nil {
		return usageError("--symbols lists Alpaca symbols; the synthetic feed's count is now --synthetic-symbols %s", strings.TrimSpace(value))
	}
	return usageError("--symbols %s needs --source alpaca (the synthetic feed's count is --synthetic-symbols N)", value)
}

// alpacaHealth adds the REST circuit breaker of an Alpaca feed to the
// health checks.
func alpacaHealth(mon *health.Monitor, feed pipeline.Source[market.Event]) {
	if s, ok := feed.(*alpaca.Stream); ok {
		mon.AddAPI("alpaca", health.CheckerFunc(func(ctx context.Context) health.Status {
			if err := s.Client.Health(ctx); err != nil {
				return health.Fail("%v", err)
			}
			return health.OK("circuit breaker %s", s.Client.BreakerState())
		}))
	}
}

// alpacaOrders is the order sink --orders asks for, if any.
// With --source alpaca the feed's client is shared (feed is then an
// *alpaca.Stream): one token bucket, breaker and request bound per account.
// A signal whose order failed is counted in m and the run goes on
// (alpaca.OrdersConfig.OnFailure; the sink logs it); refused keys still
// end it.
func alpacaOrders(c *cli.Context, cfg *config.Config, log *slog.Logger, obs alpaca.Observer, m *metrics.Metrics,
	feed pipeline.Source[market.Event], fills *signals.Fills) ([]pipeline.Sink[market.Event], error) {
	mode := c.String("orders")
	ocfg := alpaca.OrdersConfig{Qty: c.Float64("qty"), Notional: c.Float64("notional"), Logger: log,
		OnFailure: func(*market.Signal, error) { m.Discarded(alpaca.OpOrder, discardOrderFailed) }}
	ccfg := alpaca.Config{KeyID: c.String("key"), SecretKey: c.String("secret"), TradingURL: c.String("base-url"),
		Logger: log, Retry: retryPolicy(cfg), Observer: obs, MaxConcurrentRequests: cfg.Async.Actions()}
	switch mode {
	case "", "off":
		return nil, nil
	case "dry-run":
		ocfg.DryRun = true
	case "paper":
	case "live":
		ccfg.Live = true
	default:
		return nil, usageError("--orders: %q is not off, sim, dry-run, paper or live", mode)
	}
	if !ocfg.DryRun && (ccfg.KeyID == "" || ccfg.SecretKey == "") {
		return nil, usageError("--orders %s needs API keys: set APCA_API_KEY_ID and APCA_API_SECRET_KEY (or --key, --secret)", mode)
	}
	for _, v := range []struct {
		flag     string
		x, limit float64
	}{{"qty", ocfg.Qty, maxQty}, {"notional", ocfg.Notional, maxNotional}} {
		// !(x >= 0) also catches NaN, which passes every comparison.
		if !(v.x >= 0) || v.x > v.limit {
			return nil, usageError("--%s: must be from 0 to %.0f, got %s", v.flag, v.limit, strconv.FormatFloat(v.x, 'f', -1, 64))
		}
	}
	if ocfg.Qty > 0 && ocfg.Notional > 0 {
		return nil, usageError("--qty and --notional: choose one")
	}
	if ocfg.DryRun {
		o, err := alpaca.NewOrders(nil, ocfg)
		if err != nil {
			return nil, err
		}
		return []pipeline.Sink[market.Event]{o}, nil
	}
	var client *alpaca.Client
	if s, ok := feed.(*alpaca.Stream); ok {
		client = s.Client
	} else {
		var err error
		if client, err = alpaca.NewClient(ccfg); err != nil {
			return nil, err
		}
	}
	o, err := alpaca.NewOrders(client, ocfg)
	if err != nil {
		return nil, err
	}
	updates := &alpaca.TradeUpdates{Client: client}
	return []pipeline.Sink[market.Event]{&ordersSink{Orders: o, updates: updates, log: log, fills: fills}}, nil
}

// retryPolicy is the configuration's retry policy (config's Retries
// translates its "0 means none" into the library's -1).
func retryPolicy(cfg *config.Config) alpaca.RetryPolicy {
	return alpaca.RetryPolicy{Attempts: cfg.Async.Retries(), Factor: cfg.Async.BackoffFactor, Timeout: cfg.Async.RequestTimeout}
}

// ordersSink places orders and, from its first Write until Close, logs the
// account's trade updates (the ADR's stream_account_updates): fills,
// cancellations and rejections of the orders it placed.
type ordersSink struct {
	*alpaca.Orders
	updates *alpaca.TradeUpdates
	log     *slog.Logger
	fills   *signals.Fills // told of each fill; nil: none
	once    sync.Once
	stop    context.CancelFunc
	done    chan struct{}
}

func (o *ordersSink) Write(ctx context.Context, items []market.Event) error {
	o.once.Do(func() {
		uctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		o.stop, o.done = stop, make(chan struct{})
		go func() {
			defer close(o.done)
			err := o.updates.Produce(uctx, tradeLog{o.log, o.fills})
			if err != nil && !errors.Is(err, context.Canceled) {
				o.log.Error("alpaca trade updates stopped", "err", err)
			}
		}()
	})
	return o.Orders.Write(ctx, items)
}

// Close stops the trade updates, then releases the sink's connections.
func (o *ordersSink) Close() error {
	if o.stop != nil {
		o.stop()
		<-o.done
	}
	return o.Orders.Close()
}

// tradeLog is an Emitter that logs trade updates and reports each fill to
// the strategies.
type tradeLog struct {
	log   *slog.Logger
	fills *signals.Fills
}

func (t tradeLog) Emit(u alpaca.TradeUpdate) error {
	if t.fills != nil {
		if f, ok := fillOf(u); ok {
			t.fills.Report(f)
		}
	}
	t.log.Info("alpaca trade update", "event", u.Event, "symbol", u.Symbol, "side", u.Side, "qty", u.Qty,
		"price", u.Price, "position_qty", u.PositionQty, "order_status", u.OrderStatus, "client_order_id", u.ClientOrderID)
	return nil
}

// fillOf is the fill a trade update reports: a fill or a partial fill of a
// buy or a sell, with its own quantity and price.
func fillOf(u alpaca.TradeUpdate) (signals.Fill, bool) {
	if u.Event != "fill" && u.Event != "partial_fill" || u.Qty <= 0 {
		return signals.Fill{}, false
	}
	side, err := market.ParseSide(u.Side)
	if err != nil {
		return signals.Fill{}, false
	}
	return signals.Fill{Symbol: u.Symbol, Time: u.At, Side: side, Qty: u.Qty, Price: u.Price, OrderID: u.OrderID}, true
}

func (tradeLog) Flush() error       { return nil }
func (tradeLog) Fail(string, error) {}

// streamOverflow is the edges' policy for a live feed: drop the oldest,
// except for Alpaca, whose source queues live bars itself and back-fills
// what its own queue drops: there blocking loses nothing, and the warm-up
// history (a burst of 500 bars a symbol) must not be dropped.
func streamOverflow(feed pipeline.Source[market.Event]) pipeline.Overflow {
	switch feed.(type) {
	case *alpaca.Stream, *sources.Replay: // a replay can wait: slowing it loses nothing
		return pipeline.Block
	}
	return pipeline.DropOldest
}

// feedName tells what stream is streaming.
func feedName(feed pipeline.Source[market.Event], cfg *config.Config) string {
	if s, ok := feed.(*alpaca.Stream); ok {
		return fmt.Sprintf("%s from Alpaca (1-minute bars)", plural(len(s.Symbols), "symbol"))
	}
	if r, ok := feed.(*sources.Replay); ok {
		if r.Speed == 0 {
			return "a replay of the CSV bars, as fast as they go"
		}
		return fmt.Sprintf("a replay of the CSV bars at %gx", r.Speed)
	}
	return fmt.Sprintf("%d synthetic symbols at %g bars/s", cfg.Stream.SyntheticSymbols, cfg.Stream.Rate)
}

// streamSymbols lists the symbols of an Alpaca live feed, for the paper
// wallet of stream --orders sim.
func streamSymbols(feed pipeline.Source[market.Event]) ([]string, bool) {
	s, ok := feed.(*alpaca.Stream)
	if !ok {
		return nil, false
	}
	return s.Symbols, true
}
