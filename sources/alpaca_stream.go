package sources

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"
	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata/stream"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Defaults of [AlpacaStream].
const (
	DefaultAlpacaStreamURL       = "wss://stream.data.alpaca.markets/v2"
	DefaultAlpacaCryptoStreamURL = "wss://stream.data.alpaca.markets/v1beta3/crypto"
	DefaultAlpacaWarmupBars      = 500 // guides/indicators.md: 500 bars give exact values
	DefaultAlpacaWarmupLookback  = 5 * 24 * time.Hour
	DefaultAlpacaStaleAfter      = 3 * time.Minute
	DefaultAlpacaQueueSize       = 100_000
)

// ErrAlpacaGap: bars missed by the stream (a reconnect, a full queue) could
// not be back-filled from REST; the symbol fails rather than go on with a
// hole.
var ErrAlpacaGap = errors.New("gap not back-filled")

// AlpacaStream is a live source of one-minute bars from Alpaca's market-data
// websocket, for many symbols (stocks on the Feed's stream, crypto pairs such
// as "BTC/USD" on the crypto stream; both may be mixed).
//
// # Life of a run
//
//	connect + subscribe ─▶ warm-up from REST (last WarmupBars bars per symbol)
//	  ─▶ live bars ─▶ queue ─▶ Emit (deduplicated per symbol by time)
//	       ▲                       │
//	       └── reconnect, back-fill the gap from REST ◀── cut / silent socket / full queue
//
// The stream is connected first, then history is fetched, so no bar falls
// between the two: live bars that arrive meanwhile wait in the queue.
// The SDK's handler only appends to a bounded queue (QueueSize bars) and
// never blocks the SDK's reader; Produce, the only goroutine that calls
// Emit, drains it. When the queue is full the newest bar is dropped,
// counted, and its symbol back-filled from REST.
//
// # Reconnects and gaps
//
// The SDK reconnects and resubscribes by itself (ReconnectLimit attempts,
// ReconnectDelay × attempt apart); when it gives up, or when a socket has
// been silent for StaleAfter (the watchdog), the client is replaced by a
// new one, with jittered exponential back-off (InitialBackoff,
// BackoffFactor, MaxBackoff). After every reconnect, the bars the stream
// may have missed are back-filled from REST before any later live bar of
// those symbols is emitted. The last emitted bar time is kept per symbol:
// a bar at or before it (a live bar also fetched by the back-fill, a
// replay) is skipped and counted, so no bar is processed twice, and each
// symbol's bars are emitted in time order.
//
// Refused keys (402), too many symbols for the plan (405), an insufficient
// subscription (409, 411) or an invalid feed (410) end Produce with a
// one-line error; a back-fill that
// fails after its retries fails its symbols (ErrAlpacaGap).
type AlpacaStream struct {
	AlpacaREST
	// Symbols to stream; "/" marks a crypto pair.
	Symbols []string
	// StreamURL is the stocks stream base (default DATA_PROXY_WS, else
	// wss://stream.data.alpaca.markets/v2); the SDK appends "/"+Feed.
	StreamURL string
	// CryptoStreamURL is the crypto stream base (default
	// DATA_CRYPTO_PROXY_WS, else wss://stream.data.alpaca.markets/v1beta3/crypto);
	// the SDK appends "/"+CryptoLoc.
	CryptoStreamURL string
	// WarmupBars is how many bars of history each symbol gets before live
	// bars (default 500; negative: none), searched within WarmupLookback
	// (default 5 days, spanning weekends and holidays).
	WarmupBars     int
	WarmupLookback time.Duration
	// StaleAfter is how long a socket may stay silent before it is replaced
	// (default 3 minutes; negative: never). Stocks are silent outside
	// trading hours: raise it, or expect a reconnect (and a cheap
	// back-fill) every StaleAfter then.
	StaleAfter time.Duration
	// QueueSize bounds the bars waiting between the SDK and Produce
	// (default 100,000).
	QueueSize int
	// ReconnectLimit and ReconnectDelay are the SDK's own reconnect settings
	// (defaults 20 and 150 ms).
	ReconnectLimit int
	ReconnectDelay time.Duration
	// Now is the clock for the warm-up range (default time.Now).
	Now func() time.Time

	mu    sync.Mutex
	rc    *restClient
	stats streamCounters
}

var _ pipeline.Source[market.Event] = (*AlpacaStream)(nil)

const alpacaStreamName = "sources.AlpacaStream"

type streamCounters struct {
	received, emitted, warmup, backfilled, duplicates, dropped, sdkDropped atomic.Int64
	reconnects, replaced, stale                                            atomic.Int64
}

// AlpacaStreamStats counts what a stream source has done.
type AlpacaStreamStats struct {
	Received   int64 // bars from the socket
	Emitted    int64 // bars emitted, all origins
	Warmup     int64 // of which warm-up history
	Backfilled int64 // of which back-filled after a gap
	Duplicates int64 // bars skipped: at or before their symbol's last emitted bar
	Dropped    int64 // bars dropped by the full queue (then back-filled)
	SDKDropped int64 // frames the SDK dropped because its own buffer was full
	Reconnects int64 // reconnections, by the SDK or by replacing the client
	Replaced   int64 // clients replaced (gave up, or silent)
	Stale      int64 // of which replaced by the staleness watchdog
	REST       AlpacaRequestStats
}

// Stats returns the source's counters; safe to call at any time.
func (s *AlpacaStream) Stats() AlpacaStreamStats {
	c := &s.stats
	st := AlpacaStreamStats{
		Received: c.received.Load(), Emitted: c.emitted.Load(), Warmup: c.warmup.Load(),
		Backfilled: c.backfilled.Load(), Duplicates: c.duplicates.Load(), Dropped: c.dropped.Load(),
		SDKDropped: c.sdkDropped.Load(), Reconnects: c.reconnects.Load(), Replaced: c.replaced.Load(),
		Stale: c.stale.Load(),
	}
	s.mu.Lock()
	st.REST = s.rc.stats()
	s.mu.Unlock()
	return st
}

// Health is nil unless the REST circuit breaker is open.
func (s *AlpacaStream) Health(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rc.health()
}

// BreakerState is the REST circuit breaker's state.
func (s *AlpacaStream) BreakerState() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rc.state()
}

// Close releases idle REST connections.
func (s *AlpacaStream) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rc.close()
	return nil
}

// sdkLogger sends the SDK's stream logs to slog: its Info at Debug level.
type sdkLogger struct{ l *slog.Logger }

func (s sdkLogger) Infof(f string, v ...any)  { s.l.Debug(fmt.Sprintf(f, v...)) }
func (s sdkLogger) Warnf(f string, v ...any)  { s.l.Warn(fmt.Sprintf(f, v...)) }
func (s sdkLogger) Errorf(f string, v ...any) { s.l.Error(fmt.Sprintf(f, v...)) }

// Produce streams until ctx is done (it returns ctx.Err()) or a fatal error.
func (s *AlpacaStream) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	r, err := s.newRun()
	if err != nil {
		return err
	}
	return r.run(ctx, out)
}

func (s *AlpacaStream) newRun() (*streamRun, error) {
	s.mu.Lock()
	if s.rc == nil {
		rc, err := newRESTClient(alpacaStreamName, s.AlpacaREST)
		if err != nil {
			s.mu.Unlock()
			return nil, err
		}
		s.rc = rc
	} else if err := s.rc.refresh(s.AlpacaREST); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	rc := s.rc
	s.mu.Unlock()

	r := &streamRun{s: s, rc: rc, last: map[string]time.Time{}, failed: map[string]bool{}}
	seen := map[string]bool{}
	for _, sym := range s.Symbols {
		sym = strings.TrimSpace(sym)
		if sym == "" || seen[sym] {
			continue
		}
		seen[sym] = true
		if isCrypto(sym) {
			r.crypto = append(r.crypto, sym)
		} else {
			r.stocks = append(r.stocks, sym)
		}
	}
	if len(seen) == 0 {
		return nil, fmt.Errorf("%s: %w: no symbols", alpacaStreamName, ErrAlpacaConfig)
	}
	r.stockURL = firstNonEmpty(s.StreamURL, os.Getenv("DATA_PROXY_WS"), DefaultAlpacaStreamURL)
	r.cryptoURL = firstNonEmpty(s.CryptoStreamURL, os.Getenv("DATA_CRYPTO_PROXY_WS"), DefaultAlpacaCryptoStreamURL)
	r.warmupBars = s.WarmupBars
	if r.warmupBars == 0 {
		r.warmupBars = DefaultAlpacaWarmupBars
	}
	r.lookback = s.WarmupLookback
	if r.lookback <= 0 {
		r.lookback = DefaultAlpacaWarmupLookback
	}
	r.staleAfter = s.StaleAfter
	if r.staleAfter == 0 {
		r.staleAfter = DefaultAlpacaStaleAfter
	}
	r.reconnectLimit, r.reconnectDelay = s.ReconnectLimit, s.ReconnectDelay
	if r.reconnectLimit <= 0 {
		r.reconnectLimit = 20
	}
	if r.reconnectDelay <= 0 {
		r.reconnectDelay = 150 * time.Millisecond
	}
	r.now = s.Now
	if r.now == nil {
		r.now = time.Now
	}
	size := s.QueueSize
	if size <= 0 {
		size = DefaultAlpacaQueueSize
	}
	r.q = newBarQueue(size, &s.stats)
	return r, nil
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// streamRun is the state of one Produce call; only Produce's goroutine
// touches its maps.
type streamRun struct {
	s              *AlpacaStream
	rc             *restClient
	stocks, crypto []string
	stockURL       string
	cryptoURL      string
	warmupBars     int
	lookback       time.Duration
	staleAfter     time.Duration
	reconnectLimit int
	reconnectDelay time.Duration
	now            func() time.Time
	q              *barQueue
	gen            int
	last           map[string]time.Time // last emitted bar per symbol
	failed         map[string]bool
	out            pipeline.Emitter[market.Event]
	conns          [2]*liveConn // stocks, crypto
	buf            []qItem
}

// liveConn is one SDK client.
type liveConn struct {
	gen      int
	crypto   bool
	syms     []string
	cancel   context.CancelFunc
	term     <-chan error
	lastRecv atomic.Int64 // wall clock of the last bar (or of the connection)
	connects atomic.Int64
}

func (r *streamRun) run(ctx context.Context, out pipeline.Emitter[market.Event]) (err error) {
	r.out = out
	defer func() {
		for _, lc := range r.conns {
			if lc != nil {
				lc.stop()
			}
		}
	}()
	for i, syms := range [][]string{r.stocks, r.crypto} {
		if len(syms) == 0 {
			continue
		}
		r.gen++
		r.q.startGap(r.gen, syms) // the warm-up is the first gap's back-fill
		lc, err := r.connect(ctx, i == 1, syms, r.gen, true)
		if err != nil {
			return err
		}
		r.conns[i] = lc
	}
	var tick <-chan time.Time
	if r.staleAfter > 0 {
		t := time.NewTicker(max(r.staleAfter/4, 10*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	for {
		if err := r.drain(ctx); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return emitErr(ctx, err)
		}
		var term [2]<-chan error
		for i, lc := range r.conns {
			if lc != nil {
				term[i] = lc.term
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-r.q.notify:
		case err := <-term[0]:
			if err := r.replace(ctx, 0, err, false); err != nil {
				return err
			}
		case err := <-term[1]:
			if err := r.replace(ctx, 1, err, false); err != nil {
				return err
			}
		case <-tick:
			now := time.Now().UnixNano()
			for i, lc := range r.conns {
				if lc != nil && time.Duration(now-lc.lastRecv.Load()) > r.staleAfter {
					r.rc.log.Warn("alpaca stream silent: replacing the connection", "source", alpacaStreamName,
						"crypto", lc.crypto, "silent", time.Duration(now-lc.lastRecv.Load()).Round(time.Millisecond))
					r.s.stats.stale.Add(1)
					if err := r.replace(ctx, i, nil, true); err != nil {
						return err
					}
				}
			}
		}
	}
}

func (lc *liveConn) stop() {
	lc.cancel()
	for range lc.term { // the SDK sends its last word, then closes
	}
}

// fatalStreamErr tells the errors a new connection cannot fix.
func fatalStreamErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, stream.ErrInvalidCredentials):
		return fmt.Errorf("%s: %w (402 auth failed); check APCA_API_KEY_ID and APCA_API_SECRET_KEY", alpacaStreamName, ErrAlpacaAuth)
	case errors.Is(err, stream.ErrSymbolLimitExceeded):
		return fmt.Errorf("%s: %w (405 symbol limit exceeded): the plan streams fewer symbols", alpacaStreamName, ErrAlpacaConfig)
	case errors.Is(err, stream.ErrInsufficientSubscription), errors.Is(err, stream.ErrInsufficientScope),
		errors.Is(err, stream.ErrSubscriptionChangeInvalidForFeed), strings.Contains(err.Error(), "irrecoverable"):
		return fmt.Errorf("%s: %w", alpacaStreamName, err)
	}
	return nil
}

// connect dials a client for syms as generation gen, retrying with
// back-off: RetryAttempts times for the first connection, without limit
// (until ctx ends) for a replacement.
func (r *streamRun) connect(ctx context.Context, crypto bool, syms []string, gen int, initial bool) (*liveConn, error) {
	cfg := r.rc.cfg
	for attempt := 0; ; attempt++ {
		lc, err := r.dial(ctx, crypto, syms, gen)
		if err == nil {
			return lc, nil // the connect callback tells the queue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if ferr := fatalStreamErr(err); ferr != nil {
			return nil, ferr
		}
		if initial && attempt >= cfg.RetryAttempts {
			return nil, fmt.Errorf("%s: connect: %w after %d attempts: %w", alpacaStreamName, ErrAlpacaRetries, attempt+1, err)
		}
		wait := jitterBackoff(attempt, cfg.InitialBackoff, cfg.MaxBackoff, cfg.BackoffFactor)
		r.rc.log.Warn("alpaca stream connect failed", "source", alpacaStreamName, "crypto", crypto,
			"attempt", attempt+1, "retry_in", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}

func (r *streamRun) dial(ctx context.Context, crypto bool, syms []string, gen int) (*liveConn, error) {
	cctx, cancel := context.WithCancel(ctx)
	lc := &liveConn{gen: gen, crypto: crypto, syms: syms, cancel: cancel}
	lc.lastRecv.Store(time.Now().UnixNano())
	st := &r.s.stats
	cfg := r.rc.cfg
	common := []stream.Option{
		stream.WithCredentials(cfg.KeyID, cfg.SecretKey),
		stream.WithLogger(sdkLogger{r.rc.log}),
		stream.WithReconnectSettings(r.reconnectLimit, r.reconnectDelay),
		stream.WithConnectCallback(func() {
			if lc.connects.Add(1) > 1 { // a reconnection by the SDK
				st.reconnects.Add(1)
			}
			lc.lastRecv.Store(time.Now().UnixNano())
			r.q.connected(gen, syms)
		}),
		stream.WithDisconnectCallback(func() { r.q.disconnected(gen, syms) }),
		stream.WithBufferFillCallback(func([]byte) {
			st.sdkDropped.Add(1)
			r.q.lost(syms)
		}),
	}
	var connectFn func(context.Context) error
	var term func() <-chan error
	if crypto {
		opts := []stream.CryptoOption{stream.WithBaseURL(r.cryptoURL), stream.WithCryptoBars(func(b stream.CryptoBar) {
			lc.lastRecv.Store(time.Now().UnixNano())
			r.q.push(market.Bar{Symbol: b.Symbol, Time: b.Timestamp.UTC(), Open: b.Open, High: b.High,
				Low: b.Low, Close: b.Close, Volume: b.Volume})
		}, syms...)}
		for _, o := range common {
			opts = append(opts, o)
		}
		c := stream.NewCryptoClient(marketdata.CryptoFeed(cfg.CryptoLoc), opts...)
		connectFn, term = c.Connect, c.Terminated
	} else {
		opts := []stream.StockOption{stream.WithBaseURL(r.stockURL), stream.WithBars(func(b stream.Bar) {
			lc.lastRecv.Store(time.Now().UnixNano())
			r.q.push(market.Bar{Symbol: b.Symbol, Time: b.Timestamp.UTC(), Open: b.Open, High: b.High,
				Low: b.Low, Close: b.Close, Volume: float64(b.Volume)})
		}, syms...)}
		for _, o := range common {
			opts = append(opts, o)
		}
		c := stream.NewStocksClient(marketdata.Feed(cfg.Feed), opts...)
		connectFn, term = c.Connect, c.Terminated
	}
	lc.term = term()
	if err := connectFn(cctx); err != nil {
		lc.stop()
		return nil, err
	}
	return lc, nil
}

// replace swaps conns[i] for a new client: after the SDK gave up (err) or
// when the socket went silent (stale). The symbols' gap is back-filled once
// the new client is subscribed.
func (r *streamRun) replace(ctx context.Context, i int, termErr error, stale bool) error {
	old := r.conns[i]
	if ferr := fatalStreamErr(termErr); ferr != nil {
		return ferr
	}
	if termErr == nil && !stale && ctx.Err() != nil {
		return ctx.Err()
	}
	if termErr != nil {
		r.rc.log.Warn("alpaca stream client ended: replacing it", "source", alpacaStreamName, "err", termErr)
	}
	r.gen++
	r.q.retire(old.gen, r.gen, old.syms)
	old.stop()
	r.conns[i] = nil
	lc, err := r.connect(ctx, old.crypto, old.syms, r.gen, false)
	if err != nil {
		return err
	}
	r.conns[i] = lc
	r.s.stats.replaced.Add(1)
	r.s.stats.reconnects.Add(1)
	return nil
}

// drain emits what the queue holds; when a gap is ready it emits the bars
// from before the gap, back-fills the gap's symbols from REST, then emits
// the rest.
func (r *streamRun) drain(ctx context.Context) error {
	items, gap := r.q.take(r.buf[:0])
	defer func() { r.buf = items[:0] }()
	if gap == nil {
		return r.emitItems(ctx, items, func(qItem) bool { return true })
	}
	if err := r.emitItems(ctx, items, func(it qItem) bool { return it.seq < gap.mark || !gap.syms[it.bar.Symbol] }); err != nil {
		return err
	}
	if err := r.backfill(ctx, gap.syms); err != nil {
		return err
	}
	return r.emitItems(ctx, items, func(it qItem) bool { return it.seq >= gap.mark && gap.syms[it.bar.Symbol] })
}

func (r *streamRun) emitItems(ctx context.Context, items []qItem, pick func(qItem) bool) error {
	st := &r.s.stats
	for _, it := range items {
		if !pick(it) {
			continue
		}
		b := it.bar
		if r.failed[b.Symbol] {
			continue
		}
		if lt, ok := r.last[b.Symbol]; ok && !b.Time.After(lt) {
			st.duplicates.Add(1)
			continue
		}
		if err := r.out.Emit(market.Event{Bar: b}); err != nil {
			return emitErr(ctx, err)
		}
		r.last[b.Symbol] = b.Time
		st.emitted.Add(1)
	}
	return nil
}

// backfill fetches, from REST, the one-minute bars of syms after each
// one's last emitted bar; a symbol with none yet gets its warm-up: the last
// WarmupBars bars within WarmupLookback.
func (r *streamRun) backfill(ctx context.Context, syms map[string]bool) error {
	var fetch []string
	var start time.Time
	warm := map[string]bool{}
	for sym := range syms {
		if r.failed[sym] {
			continue
		}
		s, ok := r.last[sym]
		if !ok {
			if r.warmupBars < 0 {
				continue
			}
			s = r.now().Add(-r.lookback)
			warm[sym] = true
		}
		if start.IsZero() || s.Before(start) {
			start = s
		}
		fetch = append(fetch, sym)
	}
	if len(fetch) == 0 {
		return nil
	}
	tf, tfDur, _ := parseTimeFrame("1Min")
	f := &barFetch{rc: r.rc, tf: tf, tfDur: tfDur, start: start, planEnd: r.now()}
	st := &r.s.stats
	rings := map[string][]market.Bar{}
	err := f.run(ctx, fetch,
		func(sym string, bars []market.Bar) error {
			if warm[sym] {
				ring := append(rings[sym], bars...)
				if n := len(ring) - r.warmupBars; n > 0 {
					ring = append(ring[:0], ring[n:]...)
				}
				rings[sym] = ring
				return nil
			}
			lt := r.last[sym]
			for _, b := range bars {
				if !b.Time.After(lt) {
					continue
				}
				if err := r.out.Emit(market.Event{Bar: b}); err != nil {
					return emitErr(ctx, err)
				}
				lt = b.Time
				st.emitted.Add(1)
				st.backfilled.Add(1)
			}
			r.last[sym] = lt
			return nil
		},
		func(sym string, err error) {
			r.failed[sym] = true
			r.out.Fail(sym, fmt.Errorf("%w: %w", ErrAlpacaGap, err))
		})
	if err != nil {
		return err
	}
	for _, sym := range f.symbols {
		ring := rings[sym]
		if !warm[sym] || len(ring) == 0 || r.failed[sym] {
			continue
		}
		for _, b := range ring {
			// Counted before the hand-off, so that whoever sees the bar
			// downstream also sees it counted.
			st.emitted.Add(1)
			st.warmup.Add(1)
			if err := r.out.Emit(market.Event{Bar: b}); err != nil {
				st.emitted.Add(-1)
				st.warmup.Add(-1)
				return emitErr(ctx, err)
			}
		}
		r.last[sym] = ring[len(ring)-1].Time
	}
	return nil
}

// barQueue is the bounded hand-off from the SDK's handler goroutine(s) to
// Produce. push never blocks. It also tracks gaps: stretches of a symbol's
// bars the stream may have missed, to be back-filled before that symbol's
// later live bars.
//
// The SDK runs its connect and disconnect callbacks on goroutines of their
// own, so they may run in either order: a connection counts as down while
// it has seen as many disconnects as connects, whatever their order, and a
// gap's mark is the earliest of the two callbacks of a reconnection (both
// run before the new socket's first bar in practice: they are started
// before it is read).
type barQueue struct {
	mu       sync.Mutex
	items    []qItem
	seq      uint64
	size     int
	notify   chan struct{}
	st       *streamCounters
	gap      *gapInfo
	live     map[int]bool // generations in use
	connects map[int]int
	drops    map[int]int // disconnects
}

type qItem struct {
	seq uint64
	bar market.Bar
}

type gapInfo struct {
	mark uint64          // bars queued from here on may follow the gap
	syms map[string]bool // the symbols to back-fill
}

func newBarQueue(size int, st *streamCounters) *barQueue {
	return &barQueue{size: size, notify: make(chan struct{}, 1), st: st,
		live: map[int]bool{}, connects: map[int]int{}, drops: map[int]int{}}
}

func (q *barQueue) signal() {
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

func (q *barQueue) push(b market.Bar) {
	q.st.received.Add(1)
	q.mu.Lock()
	if len(q.items) >= q.size {
		q.st.dropped.Add(1)
		q.addGapLocked([]string{b.Symbol})
	} else {
		q.items = append(q.items, qItem{q.seq, b})
	}
	q.seq++
	q.mu.Unlock()
	q.signal()
}

func (q *barQueue) addGapLocked(syms []string) {
	if q.gap == nil {
		q.gap = &gapInfo{mark: q.seq, syms: map[string]bool{}}
	}
	for _, s := range syms {
		q.gap.syms[s] = true
	}
}

// downLocked tells whether a connection in use is not (yet, or any more)
// connected: the gap must wait for it.
func (q *barQueue) downLocked() bool {
	for gen := range q.live {
		if q.drops[gen] >= q.connects[gen] {
			return true
		}
	}
	return false
}

// startGap opens a gap for syms that waits for generation gen to connect.
func (q *barQueue) startGap(gen int, syms []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.live[gen] = true
	q.addGapLocked(syms)
}

// lost marks syms for back-fill now (the SDK dropped a frame).
func (q *barQueue) lost(syms []string) {
	q.mu.Lock()
	q.addGapLocked(syms)
	q.mu.Unlock()
	q.signal()
}

func (q *barQueue) disconnected(gen int, syms []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.live[gen] {
		return
	}
	q.drops[gen]++
	q.addGapLocked(syms)
}

func (q *barQueue) connected(gen int, syms []string) {
	q.mu.Lock()
	if q.live[gen] {
		q.connects[gen]++
		if q.connects[gen] > 1 { // a reconnection: its disconnect may not have run yet
			q.addGapLocked(syms)
		}
	}
	q.mu.Unlock()
	q.signal()
}

// retire replaces generation old by next, for the same symbols, whose
// bars since old went away are back-filled once next connects.
func (q *barQueue) retire(old, next int, syms []string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.live, old)
	q.live[next] = true
	q.addGapLocked(syms)
}

// take returns the bars that may be emitted now (reusing buf) and, when
// every connection is up, the gap to back-fill. While a connection is
// down, bars of the gap's symbols queued after its mark stay queued.
func (q *barQueue) take(buf []qItem) ([]qItem, *gapInfo) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.gap == nil:
		items := q.items
		q.items = buf
		return items, nil
	case q.downLocked():
		keep := q.items[:0]
		for _, it := range q.items {
			if it.seq < q.gap.mark || !q.gap.syms[it.bar.Symbol] {
				buf = append(buf, it)
			} else {
				keep = append(keep, it)
			}
		}
		q.items = keep
		return buf, nil
	default:
		items, gap := q.items, q.gap
		q.items, q.gap = buf, nil
		return items, gap
	}
}
