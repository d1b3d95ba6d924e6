//go:build full

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/internal/limit"
	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/server"
	"github.com/tickflow/tickflow/signals"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/webhook"
)

func streamCommand() *cli.Command {
	return &cli.Command{
		Name:  "stream",
		Usage: "run the pipeline live until stopped, with a dashboard, metrics and health checks",
		Description: `Runs the StochRSI/EMA pipeline on a live feed (by default synthetic ticks for
--synthetic-symbols symbols at --rate bars per second in all: no keys, no network; or, with
--source alpaca, Alpaca's live bars of --symbols AAPL,BTC/USD) and serves, on
--listen (loopback by default):

  /              the live dashboard       /metrics     Prometheus metrics
  /events        server-sent events       /healthz     health checks (200 or 503)
  /api/signals   recent signals           /readyz      readiness
  /api/symbols   latest bar per symbol

Signals are also written to stdout (see --format). With --webhook URL each signal is POSTed
as JSON. Settings come from --config FILE, TICKFLOW_* variables and flags (see "tickflow
config"). Interrupt (Ctrl-C or SIGTERM) to stop: in-flight bars drain and sinks flush; a
second interrupt exits at once. Stopping after --duration is a success (exit 0).

With --orders sim, a paper wallet fills the signals as "tickflow backtest" does (--cash, --fee,
--slippage, stops) and prints its statement when the stream stops (or writes it to --statement).
With --bus URL, the feed is instead the partitions this worker owns on the NATS JetStream bus
that tickflow ingest fills (see run --bus): signals also go to the bus's signals stream, /metrics
adds the consumer lag per partition and the bus counters, /healthz the bus connection.`,
		Flags: append(append(configFlags("async.", "indicators.", "strategy.", "pipeline.", "output.", "stream.", "webhook."),
			&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the synthetic feed"},
			&cli.DurationFlag{Name: "duration", Usage: "stop after this long, then exit 0 (0: run until interrupted)"},
			&cli.StringFlag{Name: "statement", Usage: "with --orders sim: write the paper wallet's statement as JSON to `FILE` (default: a table on stderr)"},
			&cli.StringSliceFlag{Name: "csv", Usage: "replay bars from CSV `PATH` (file, .csv.gz or folder) as a live feed, at --replay-speed"},
			&cli.StringFlag{Name: "replay-speed", Value: "60x", Usage: "with --csv: bar time per wall time, as 60x (a minute of bars a second), 1x (real time) or max"},
		), append(append(append(alpacaStreamFlags(), simFlags()...), csvReaderFlags()...), streamWorkerFlags()...)...),
		// --source alpaca --symbols AAPL,BTC/USD --orders ... (alpaca.go); --orders sim's broker (backtest_sim.go); --bus (bus.go)
		Action: streamAction,
	}
}

func streamAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("stream takes no arguments, got %q", c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	out, _, err := output(cfg, c.App.Writer)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: slog.LevelInfo}))

	ctx := c.Context
	if d := c.Duration("duration"); d < 0 {
		return usageError("--duration: must not be negative, got %v", d)
	} else if d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m, err := metrics.New(reg)
	if err != nil {
		return err
	}

	var p *pipeline.Pipeline[market.Event]
	stats := func() []pipeline.StageStats { return p.Stats() }
	alp, err := alpacaSelected(c)
	if err != nil {
		return err
	}
	staleAfter := cfg.Stream.StaleAfter
	if alp && cfg.Origin("stream.stale_after") == "default" {
		// Alpaca sends a bar a minute per symbol: the synthetic feed's 10 s
		// would report every quiet minute as a stalled stream.
		staleAfter = c.Duration("alpaca-stale-after")
	}
	mon := health.New(health.Options{StaleAfter: staleAfter, Activity: m, Stats: stats})
	// Every outbound operation reports to the metrics and to the health
	// checks (api_connectivity follows the last real outcome).
	obs := observe.Multi(m, mon)
	bs, err := streamBus(c, reg, m, mon) // --bus: a worker on the NATS bus (bus_stream.go); nil without
	if err != nil {
		return err
	}
	defer bs.Close()

	// Each sink is watched, so that a drain given up on because one of them
	// does not return (stdout piped to a reader that never reads) names it.
	var watched watchedSinks
	watched.add("metrics", m.Sink())
	var hook *webhook.Sink
	var hookQueue *sinks.AsyncSink
	if cfg.Webhook.URL != "" {
		wl, err := requestLimit(cfg, m, "webhook")
		if err != nil {
			return err
		}
		hook, err = webhook.New(webhook.Config{
			URL: cfg.Webhook.URL, Format: webhook.Format(cfg.Webhook.Format), TelegramChatID: cfg.Webhook.TelegramChatID,
			Transport: limit.Transport(wl, nil), Retry: retryPolicy(cfg), Rate: cfg.Webhook.Rate, Burst: cfg.Webhook.Burst,
			QueueSize: cfg.Webhook.QueueSize, Hook: m, Observer: obs, Logger: log,
		})
		if err != nil {
			return usageError("--webhook: %v", err)
		}
		// A full queue drops the newest signals: the queued ones are
		// delivered in order, and each drop is counted and logged.
		hookQueue = slowSink(m, log, hook, hook.Name(), hook.QueueSize(), pipeline.DropNewest)
		watched.add("the queue of "+hook.Name(), hookQueue)
	}

	feed, err := bs.feed(c, cfg, log, obs)
	if err != nil {
		return err
	}
	src := m.Source(feed)
	alpacaHealth(mon, feed)
	if hook != nil {
		// The webhook's last outcomes and a delivery hanging, not only
		// its breaker (the last attempt's outcome comes through obs).
		mon.AddAPI("webhook", health.CheckerFunc(func(ctx context.Context) health.Status {
			if err := hook.Health(ctx); err != nil {
				return health.Fail("%v", err)
			}
			return health.OK("delivering (%d queued)", hookQueue.Stats().Queued)
		}))
	}
	// --orders sim: a paper wallet (backtest_sim.go); made before the
	// server, which may show its Snapshot.
	broker, err := simBroker(c, feed)
	// The account's fills reach the strategies that want them
	// (signals.FillObserver), before their symbol's next bar.
	fills := &signals.Fills{}
	if err != nil {
		return err
	}
	srv, err := server.New(server.Options{
		Gatherer: reg, Registerer: reg, Health: mon, Stats: stats,
		RecentSignals: cfg.Stream.RecentSignals, Logger: log,
		Token: cfg.Stream.Token, Hosts: splitSymbols(cfg.Stream.Hosts),
		Wallet: walletOf(broker), // --orders sim: /api/positions and the dashboard's wallet panel
	})
	if err != nil {
		return err
	}
	watched.add("the dashboard feed", srv.Feed())
	watched.add(fmt.Sprintf("stdout (%T)", out), out)
	var orderQueues []*sinks.AsyncSink
	if broker != nil {
		watched.add("the paper wallet", broker) // --orders sim: the paper wallet is fast, no queue
	} else {
		orders, err := alpacaOrders(c, cfg, log, obs, m, feed, fills) // --orders: none unless asked
		if err != nil {
			return err
		}
		for _, o := range orders {
			// Orders wait on the trading API (its retries, a 429's
			// Retry-After), so they run behind a queue that never slows the
			// feed. A full queue drops its oldest signal, counted and logged:
			// a market order fills at the current price, so the freshest
			// signals are the ones worth placing.
			// On the bus a position is committed once the sinks have
			// flushed, so the queue must not drop what it was given: there
			// it back-pressures instead (the bus holds the bars).
			policy := pipeline.DropOldest
			if bs != nil {
				policy = pipeline.Block
			}
			q := slowSink(m, log, o, alpaca.OpOrder, ordersQueue, policy)
			orderQueues = append(orderQueues, q)
			watched.add("the queue of "+alpaca.OpOrder, q)
		}
	}

	pc := pipelineConfig(cfg)                       // periods, --indicators, --strategy, workers, sizes
	pc.Overflow = bs.overflow(streamOverflow(feed)) // a live feed is never slowed: overload drops the oldest, counted
	pc.Observer, pc.DrainTimeout = m, streamDrainTimeout
	pc.Fills = fills
	p, err = tickflow.New(src, bs.sink(sinks.Tee(watched.sinks()...)), pc)
	if err != nil {
		return usageError("%v", err)
	}
	m.WatchPipeline(p)

	ln, err := net.Listen("tcp", cfg.Stream.Listen)
	if err != nil {
		return cli.Exit(fmt.Sprintf("stream.listen: %v", err), exitFailure)
	}
	if a, ok := ln.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() && cfg.Stream.Token == "" {
		ln.Close()
		return usageError("stream.listen %s is reachable from other machines: set stream.token (--token or TICKFLOW_STREAM_TOKEN) so that every route requires it", cfg.Stream.Listen)
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: streaming %s; dashboard on http://%s/\n", bs.name(feedName(feed, cfg)), ln.Addr())

	// The server outlives the pipeline's drain, so /healthz can tell; it
	// stops when the pipeline has stopped, or stops the pipeline if it fails.
	srvCtx, stopSrv := context.WithCancel(context.WithoutCancel(ctx))
	pipeCtx, stopPipe := context.WithCancel(ctx)
	defer stopPipe()
	var wg sync.WaitGroup
	var srvErr error
	wg.Go(func() {
		if srvErr = srv.Serve(srvCtx, ln); srvErr != nil {
			stopPipe()
		}
	})
	start := time.Now()
	mon.Start()
	runErr := p.Run(pipeCtx)
	mon.Stop(runErr)
	stopSrv()
	wg.Wait()
	m.WatchPipeline(nil)

	st := srv.Feed().Stats()
	elapsed := time.Since(start)
	var dropped int64
	for _, s := range p.Stats() {
		dropped += s.Dropped
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: stopped after %s: %s, %d bars, %d signals, %.0f bars/s, %d bars dropped by overload\n",
		elapsed.Round(time.Millisecond), plural(st.Symbols, "symbol"), st.Bars, st.Signals, float64(st.Bars)/elapsed.Seconds(), dropped)
	if hook != nil {
		q := hookQueue.Stats()
		fmt.Fprintf(c.App.ErrWriter, "tickflow: webhook: %d delivered, %d given up, %d dropped by a full queue, %d discarded at stop\n",
			hook.Delivered(), hook.DiscardedSignals(), q.Dropped, q.Discarded)
	}
	for _, q := range orderQueues {
		st := q.Stats()
		fmt.Fprintf(c.App.ErrWriter, "tickflow: orders: %d signals sent to the order sink, %d dropped by a full queue, %d discarded at stop\n",
			st.Written, st.Dropped, st.Discarded)
	}
	var statementErr error
	if broker != nil {
		statementErr = writeStatement(c, broker)
	}
	switch {
	case srvErr != nil:
		return cli.Exit(fmt.Sprintf("server: %v", srvErr), exitFailure)
	case statementErr != nil && (runErr == nil || errors.Is(runErr, context.Canceled) || errors.Is(runErr, context.DeadlineExceeded)):
		return statementErr
	case runErr == nil, errors.Is(runErr, context.Canceled), errors.Is(runErr, context.DeadlineExceeded):
		return nil // stopped as asked: drained and flushed
	}
	msg := runErr.Error()
	switch stuck := watched.stuck(); len(stuck) {
	case 0:
	case 1:
		msg += "; the sink that did not return: " + stuck[0]
	default:
		msg += "; the sinks that did not return: " + strings.Join(stuck, "; ")
	}
	return cli.Exit(msg, exitFailure)
}

// streamDrainTimeout bounds stream's shutdown: after an interrupt or
// --duration, the pipeline drains for at most this long, then gives up on
// what has not stopped (counted and named) and the command exits 1.
const streamDrainTimeout = 10 * time.Second

// watchedSink is one of stream's sinks under a name, noting when the call
// it is in began, so that a sink that never returns can be named.
type watchedSink struct {
	name  string
	inner pipeline.Sink[market.Event]
	since atomic.Int64 // Unix nanoseconds when the current call began; 0 between calls
}

func (w *watchedSink) enter() { w.since.Store(time.Now().UnixNano()) }
func (w *watchedSink) leave() { w.since.Store(0) }

func (w *watchedSink) Write(ctx context.Context, items []market.Event) error {
	w.enter()
	defer w.leave()
	return w.inner.Write(ctx, items)
}

func (w *watchedSink) Flush(ctx context.Context) error {
	f, ok := w.inner.(pipeline.Flusher)
	if !ok {
		return nil
	}
	w.enter()
	defer w.leave()
	return f.Flush(ctx)
}

func (w *watchedSink) Close() error {
	if c, ok := w.inner.(pipeline.Closer); ok {
		return c.Close()
	}
	return nil
}

// watchedSinks are stream's sinks, each under its name.
type watchedSinks []*watchedSink

func (ws *watchedSinks) add(name string, s pipeline.Sink[market.Event]) {
	*ws = append(*ws, &watchedSink{name: name, inner: s})
}

func (ws watchedSinks) sinks() []pipeline.Sink[market.Event] {
	out := make([]pipeline.Sink[market.Event], len(ws))
	for i, w := range ws {
		out[i] = w
	}
	return out
}

// stuck describes the sinks still in a call, e.g. "stdout (*sinks.JSONL),
// in a call for 10s".
func (ws watchedSinks) stuck() []string {
	var out []string
	for _, w := range ws {
		if t := w.since.Load(); t != 0 {
			out = append(out, fmt.Sprintf("%s, in a call for %v", w.name, time.Since(time.Unix(0, t)).Round(100*time.Millisecond)))
		}
	}
	return out
}

// ordersQueue is how many signals wait for the order sink. A few minutes
// of signals: older ones would be stale orders.
const ordersQueue = 256

// discardOrderFailed is the reason of tickflow_discarded_total for a signal
// whose order failed (the trading API down or refusing, retries exhausted).
const discardOrderFailed = "order_failed"

// slowSink runs inner, a sink that waits on a remote, behind a bounded
// queue of signals (sinks.Async), so that the live feed never waits for
// it. What the queue gives up (full, or still queued at stop) is counted
// in tickflow_discarded_total{operation_type=name} and logged with the
// signal; the queue's depth is tickflow_sink_queued_items{sink=name}.
func slowSink(m *metrics.Metrics, log *slog.Logger, inner pipeline.Sink[market.Event], name string, capacity int, overflow pipeline.Overflow) *sinks.AsyncSink {
	q := sinks.Async(inner, sinks.AsyncConfig{
		// One signal per Write: a cancelled Write then cuts short exactly
		// the signal it was sending, which Close counts.
		Capacity: capacity, BatchSize: 1, Overflow: overflow, Keep: sinks.HasSignal,
		OnDrop: func(e market.Event, reason string) {
			m.Discarded(name, reason)
			s := e.Signal
			log.Warn("signal dropped", "sink", name, "reason", reason, "symbol", s.Symbol, "side", s.Side.String(),
				"signal_time", s.Time.UTC(), "price", s.Price)
		},
	})
	m.WatchQueue(name, func() int { return q.Stats().Queued })
	return q
}

// requestLimit is the adaptive bound on the requests in flight of op, an
// action (the webhook), at most async.actions_concurrency (by default
// async.max_concurrent_requests), its limit exported as a gauge.
func requestLimit(cfg *config.Config, m *metrics.Metrics, op string) (*limit.Limiter, error) {
	l, err := limit.New(limit.Config{Max: cfg.Async.Actions(), OnLimit: func(n int) { m.ConcurrencyLimit(op, n) }})
	if err != nil {
		return nil, usageError("async.actions_concurrency: %v", err)
	}
	return l, nil
}

// syntheticFeed is the live synthetic source for cfg: bar times follow the
// wall clock, each symbol getting a bar every Symbols/Rate seconds.
func syntheticFeed(cfg *config.Config, seed uint64) *sources.Synthetic {
	interval := time.Duration(float64(time.Second) * float64(cfg.Stream.SyntheticSymbols) / cfg.Stream.Rate)
	if interval < time.Microsecond {
		interval = time.Microsecond
	}
	return &sources.Synthetic{
		Live: true, Symbols: cfg.Stream.SyntheticSymbols, Rate: cfg.Stream.Rate, Seed: seed,
		Start: time.Now().UTC().Truncate(time.Second), Interval: interval,
	}
}

// walletOf shows the paper wallet b on the server; nil without one.
func walletOf(b *backtest.Broker) func() server.Wallet {
	if b == nil {
		return nil
	}
	return func() server.Wallet {
		s := b.Snapshot()
		w := server.Wallet{Cash: s.Cash, Equity: s.Equity, Realized: s.Realized, Unrealized: s.Unrealized,
			Positions: make([]server.Position, len(s.Holdings))}
		for i, h := range s.Holdings {
			w.Positions[i] = server.Position{Symbol: h.Symbol, Qty: h.Qty, EntryPrice: h.EntryPrice, LastPrice: h.LastPrice,
				LastTime: h.LastTime, Cash: h.Cash, Equity: h.Equity, Realized: h.Realized, Unrealized: h.Unrealized,
				Trades: h.Trades, Pending: h.Pending}
		}
		return w
	}
}
