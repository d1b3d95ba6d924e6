package alpaca

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Defaults of [Stream].
const (
	DefaultWarmupBars     = 500 // guides/indicators.md: 500 bars give exact values
	DefaultWarmupLookback = 5 * 24 * time.Hour
	DefaultStaleAfter     = 3 * time.Minute
	DefaultQueueSize      = 100_000
)

// Stream is a live source of one-minute bars from Alpaca's market-data
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
// new one, with the client's jittered exponential back-off (Config.Retry). After every reconnect, the bars the stream
// may have missed are back-filled from REST before any later live bar of
// those symbols is emitted. The last emitted bar time is kept per symbol:
// a bar at or before it (a live bar also fetched by the back-fill, a
// replay) is skipped and counted, so no bar is processed twice, and each
// symbol's bars are emitted in time order.
//
// Refused keys (402), too many symbols for the plan (405), an insufficient
// subscription (409, 411) or an invalid feed (410) end Produce with a
// one-line error; a back-fill that
// fails after its retries fails its symbols (ErrGap).
type Stream struct {
	// Client is the connection to Alpaca (its stream URLs, and REST for
	// the warm-up and back-fill); required.
	Client *Client
	// Symbols to stream; "/" marks a crypto pair.
	Symbols []string
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
	// MaxConcurrentSymbols bounds the symbol batches the warm-up and the
	// back-fill fetch at once (default DefaultMaxConcurrentSymbols).
	MaxConcurrentSymbols int
	// Now is the clock for the warm-up range (default time.Now).
	Now func() time.Time

	stats streamCounters
}

var _ pipeline.Source[market.Event] = (*Stream)(nil)

const streamName = "alpaca.Stream"

type streamCounters struct {
	received, emitted, warmup, backfilled, duplicates, dropped, sdkDropped atomic.Int64
	reconnects, replaced, stale                                            atomic.Int64
}

// StreamStats counts what a stream source has done.
type StreamStats struct {
	Received   int64        // bars from the socket
	Emitted    int64        // bars emitted, all origins
	Warmup     int64        // of which warm-up history
	Backfilled int64        // of which back-filled after a gap
	Duplicates int64        // bars skipped: at or before their symbol's last emitted bar
	Dropped    int64        // bars dropped by the full queue (then back-filled)
	SDKDropped int64        // frames the SDK dropped because its own buffer was full
	Reconnects int64        // reconnections, by the SDK or by replacing the client
	Replaced   int64        // clients replaced (gave up, or silent)
	Stale      int64        // of which replaced by the staleness watchdog
	REST       RequestStats // the client's, shared with its other users
}

// Stats returns the source's counters; safe to call at any time.
func (s *Stream) Stats() StreamStats {
	c := &s.stats
	st := StreamStats{
		Received: c.received.Load(), Emitted: c.emitted.Load(), Warmup: c.warmup.Load(),
		Backfilled: c.backfilled.Load(), Duplicates: c.duplicates.Load(), Dropped: c.dropped.Load(),
		SDKDropped: c.sdkDropped.Load(), Reconnects: c.reconnects.Load(), Replaced: c.replaced.Load(),
		Stale: c.stale.Load(),
	}
	if s.Client != nil {
		st.REST = s.Client.Stats()
	}
	return st
}

// Produce streams until ctx is done (it returns ctx.Err()) or a fatal error.
func (s *Stream) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	r, err := s.newRun()
	if err != nil {
		return err
	}
	return r.run(ctx, out)
}

func (s *Stream) newRun() (*streamRun, error) {
	if s.Client == nil {
		return nil, fmt.Errorf("%s: %w: no Client", streamName, ErrConfig)
	}
	rc := s.Client
	r := &streamRun{s: s, rc: rc, last: map[string]time.Time{}, seen: map[string]*sinceVerified{}, failed: map[string]bool{}}
	r.fetch = r.restFetch
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
		return nil, fmt.Errorf("%s: %w: no symbols", streamName, ErrConfig)
	}
	r.stockURL, r.cryptoURL = rc.cfg.StreamURL, rc.cfg.CryptoStreamURL
	r.warmupBars = s.WarmupBars
	if r.warmupBars == 0 {
		r.warmupBars = DefaultWarmupBars
	}
	r.lookback = s.WarmupLookback
	if r.lookback <= 0 {
		r.lookback = DefaultWarmupLookback
	}
	r.staleAfter = s.StaleAfter
	if r.staleAfter == 0 {
		r.staleAfter = DefaultStaleAfter
	}
	r.reconnectLimit, r.reconnectDelay, r.fetchLimit = s.ReconnectLimit, s.ReconnectDelay, s.MaxConcurrentSymbols
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
		size = DefaultQueueSize
	}
	r.q = newBarQueue(size, &s.stats)
	return r, nil
}

// streamRun is the state of one Produce call; only Produce's goroutine
// touches its maps.
type streamRun struct {
	s              *Stream
	rc             *Client
	stocks, crypto []string
	stockURL       string
	cryptoURL      string
	warmupBars     int
	lookback       time.Duration
	staleAfter     time.Duration
	reconnectLimit int
	reconnectDelay time.Duration
	fetchLimit     int
	now            func() time.Time
	q              *barQueue
	gen            int
	last           map[string]time.Time      // last emitted bar per symbol
	seen           map[string]*sinceVerified // bars emitted since REST last agreed
	// fetch is the back-fill's source of history (restFetch; a fake in
	// the unit tests of the gap queue).
	fetch func(ctx context.Context, syms []string, start time.Time,
		emit func(sym string, bars []market.Bar) error, fail func(sym string, err error)) ([]string, error)
	failed map[string]bool
	out    pipeline.Emitter[market.Event]
	conns  [2]*liveConn // stocks, crypto
	buf    []qItem
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
					r.rc.log.Warn("alpaca stream silent: replacing the connection", "source", streamName,
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
