package alpacatest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tickflow/tickflow/market"
)

// The credentials the fake accepts unless Options says otherwise.
const (
	Key    = "test-key"
	Secret = "test-secret"
)

// Options configures a Server. Its zero value is a working fake with no bars.
type Options struct {
	// Key and Secret are the accepted credentials (default Key and Secret).
	Key, Secret string
	// Bars is the initial history, any order; a symbol containing "/" is
	// crypto (served on the crypto endpoints, float volume).
	Bars []market.Bar
	// DefaultPageLimit is the page size when a request has no limit
	// (default 1000, as on Alpaca); MaxPageLimit caps "limit" (default 10000,
	// a larger value gets 422).
	DefaultPageLimit, MaxPageLimit int
	// PageSize, when > 0, caps every page at that many bars whatever the
	// limit asked: a test knob to force paging with small data.
	PageSize int
	// RequestsPerMinute, when > 0, answers 429 "rate limit exceeded" to REST
	// requests beyond that many in any sliding minute.
	RequestsPerMinute int
	// PaidPlan lifts the free plan's limit: without it, SIP bars whose range
	// ends within the last 15 minutes (or has no end) get 403 "subscription
	// does not permit querying recent SIP data".
	PaidPlan bool
	// MaxStreamConnections per endpoint and key (default 1, as on Alpaca):
	// one more gets 406 "connection limit exceeded".
	MaxStreamConnections int
	// MaxStreamSymbols, when > 0, caps the symbols a stream connection may
	// subscribe to (Alpaca's Basic plan allows 30): more gets 405 "symbol
	// limit exceeded".
	MaxStreamSymbols int
	// Now is the fake's clock (default time.Now): it fills missing start/end
	// and decides what is "recent".
	Now func() time.Time
	// BuyingPower is the account's buying power (default 200000).
	BuyingPower float64
	// GateBarRequests > 0 holds the first bar requests until that many are
	// in flight at once (or their request ends), so that a test sees a
	// client's concurrency bound reached (Stats.BarRequestsPeak).
	GateBarRequests int
	// GateTimeout, if set, opens the gate after that long even when fewer
	// than GateBarRequests are in flight: a test can then set the gate above
	// the bound it expects and see that no more requests arrive.
	GateTimeout time.Duration
}

// Faults are the faults a Server injects; the zero value injects none.
type Faults struct {
	// FailEvery > 0 fails every FailEvery-th REST request (data and trading,
	// counted together) with FailStatus (429 or 500, default 500).
	FailEvery  int
	FailStatus int
	// DisconnectAfter > 0 cuts a stream connection abruptly (no close frame)
	// after it has sent that many bars; later connections get the same
	// budget.
	DisconnectAfter int
	// CutMidFrame breaks the connection in the middle of the frame that
	// reaches DisconnectAfter: the client gets half a message, and its bars
	// are lost to the stream (they stay in the REST history).
	CutMidFrame bool
	// RefuseAfterCut > 0 answers the next that many websocket upgrades
	// after each cut with HTTP 503, as a server restarting would.
	RefuseAfterCut int
	// PlaceThenFailEvery > 0 places every such order POST and then answers
	// 500, as when a response is lost: a retry must not place a second order.
	PlaceThenFailEvery int
	// MaxInFlight > 0 answers 429 to a REST request that arrives while
	// that many are already in flight, as a server with a concurrency cap
	// does (counted in Stats.OverCapacity).
	MaxInFlight int
	// Delay holds every REST request that long before it is answered, so
	// that requests overlap (MaxInFlight).
	Delay time.Duration
}

// Stats are the counts of what the server has served.
type Stats struct {
	RESTRequests     int // every REST request, failed ones included
	BarRequests      int // bar pages requested (stocks and crypto)
	BarRequestsPeak  int // most bar requests in flight at once
	FailedRequests   int // REST requests answered with an injected or rate-limit error
	OverCapacity     int // REST requests answered 429 for MaxInFlight
	RESTPeak         int // most REST requests in flight at once
	OrderPosts       int // POST /v2/orders received
	OrdersPlaced     int // orders created
	OrdersRejected   int // POSTs rejected (duplicate client_order_id, buying power, ...)
	StreamConnects   int // websocket connections accepted
	StreamAuthorized int // connections that passed auth
	StreamRefused    int // 406 answers sent
	StreamOpen       int // websocket connections open now
	Subscribed       int // bar symbols subscribed across open connections
	BarsSent         int // bars written to stream connections
	StreamCuts       int // connections cut by DisconnectAfter
	UpgradesRefused  int // websocket upgrades answered 503 (RefuseAfterCut)
	TradeStreams     int // trade-update streams opened
	TradeStreamsOpen int // trade-update streams open now
	TradeEvents      int // trade-update events written
}

// Server is a running fake. Its URLs point at one loopback listener.
type Server struct {
	// TradingURL is for alpaca.ClientOpts.BaseURL, DataURL for
	// marketdata.ClientOpts.BaseURL, StreamURL for the stocks stream
	// (stream.WithBaseURL; the SDK appends "/iex") and CryptoStreamURL for
	// the crypto stream (the SDK appends "/us").
	TradingURL, DataURL, StreamURL, CryptoStreamURL string

	opts    Options
	ts      *httptest.Server
	handler http.Handler
	ctx     context.Context // ended by Close: stops streams
	stop    context.CancelFunc
	wg      sync.WaitGroup // websocket and SSE handlers

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change
	bars      map[string][]market.Bar
	faults    Faults
	stats     Stats
	barsLive  int           // bar requests in flight
	restLive  int           // REST requests in flight
	gate      chan struct{} // closed once GateBarRequests are in flight
	window    []time.Time   // REST request times in the last minute
	conns     map[*wsConn]struct{}
	orders    []order
	orderIDs  map[string]int // client_order_id -> index in orders
	positions map[string]float64
	events    []tradeEvent
	sse       map[*sseConn]struct{}
	sseHold   chan struct{} // while non-nil, new trade-update streams wait (HoldTradeStreams)
	postCount int
	refusals  int // upgrades still to refuse
}

// NewServer starts a fake on 127.0.0.1. Close it when done.
func NewServer(opts Options) *Server {
	if opts.Key == "" {
		opts.Key = Key
	}
	if opts.Secret == "" {
		opts.Secret = Secret
	}
	if opts.DefaultPageLimit <= 0 {
		opts.DefaultPageLimit = 1000
	}
	if opts.MaxPageLimit <= 0 {
		opts.MaxPageLimit = 10000
	}
	if opts.MaxStreamConnections <= 0 {
		opts.MaxStreamConnections = 1
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BuyingPower == 0 {
		opts.BuyingPower = 200000
	}
	s := &Server{
		opts:      opts,
		changed:   make(chan struct{}),
		bars:      map[string][]market.Bar{},
		conns:     map[*wsConn]struct{}{},
		orderIDs:  map[string]int{},
		positions: map[string]float64{},
		sse:       map[*sseConn]struct{}{},
	}
	s.ctx, s.stop = context.WithCancel(context.Background())
	s.addBarsLocked(opts.Bars)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/stocks/bars", s.rest(s.handleBars(false)))
	mux.HandleFunc("GET /v1beta3/crypto/{loc}/bars", s.rest(s.handleBars(true)))
	mux.HandleFunc("GET /v2/account", s.rest(s.handleAccount))
	mux.HandleFunc("GET /v2/positions", s.rest(s.handlePositions))
	mux.HandleFunc("GET /v2/positions/{symbol...}", s.rest(s.handlePosition))
	mux.HandleFunc("POST /v2/orders", s.rest(s.handlePostOrder))
	mux.HandleFunc("GET /v2/orders", s.rest(s.handleListOrders))
	mux.HandleFunc("GET /v2/orders:by_client_order_id", s.rest(s.handleOrderByClientID))
	mux.HandleFunc("GET /v2/orders/{id}", s.rest(s.handleGetOrder))
	mux.HandleFunc("GET /v2/events/trades", s.handleTradeEvents)
	mux.HandleFunc("GET /v2/{feed}", s.handleStream(false))
	mux.HandleFunc("GET /v1beta3/crypto/{loc}", s.handleStream(true))
	s.handler = mux
	s.ts = httptest.NewServer(mux)
	s.TradingURL = s.ts.URL
	s.DataURL = s.ts.URL
	s.StreamURL = "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/v2"
	s.CryptoStreamURL = "ws" + strings.TrimPrefix(s.ts.URL, "http") + "/v1beta3/crypto"
	return s
}

// Close ends every stream and stops the server; it returns once every
// handler has returned.
func (s *Server) Close() {
	s.stop()
	s.mu.Lock()
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	s.ts.CloseClientConnections()
	s.wg.Wait()
	s.ts.Close()
}

// Handler returns the server's HTTP handler, to serve REST requests
// in-process (for example from a testing/synctest bubble, where loopback
// sockets would keep fake time from advancing). Streams need the listener.
func (s *Server) Handler() http.Handler { return s.handler }

// SetFaults replaces the injected faults; counting for FailEvery restarts.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.FailStatus == 0 {
		f.FailStatus = http.StatusInternalServerError
	}
	s.faults = f
	s.refusals = 0
	s.stats.RESTRequests = 0
	s.postCount = 0
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Wait blocks until cond holds for the counters, or ctx ends (its error is
// returned). cond runs with the server's lock held: keep it short.
func (s *Server) Wait(ctx context.Context, cond func(Stats) bool) error {
	for {
		s.mu.Lock()
		ok := cond(s.stats)
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// notifyLocked wakes every Wait; call it with s.mu held after a change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// AddBars adds bars to the history without streaming them.
func (s *Server) AddBars(bars ...market.Bar) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addBarsLocked(bars)
	s.notifyLocked()
}

// Bars returns a copy of the history of symbol, in time order.
func (s *Server) Bars(symbol string) []market.Bar {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.bars[symbol])
}

func (s *Server) addBarsLocked(bars []market.Bar) {
	touched := map[string]bool{}
	for _, b := range bars {
		b.Time = b.Time.UTC()
		hist := s.bars[b.Symbol]
		if n := len(hist); n > 0 && !b.Time.After(hist[n-1].Time) {
			touched[b.Symbol] = true
		}
		s.bars[b.Symbol] = append(hist, b)
	}
	for sym := range touched { // out of order or repeated: sort, last wins
		hist := s.bars[sym]
		slices.SortStableFunc(hist, func(a, b market.Bar) int { return a.Time.Compare(b.Time) })
		out := hist[:0]
		for i, b := range hist {
			if i+1 < len(hist) && hist[i+1].Time.Equal(b.Time) {
				continue
			}
			out = append(out, b)
		}
		s.bars[sym] = out
	}
}

// Publish adds bars to the history (so REST serves them) and then sends each
// to the open stream connections subscribed to its symbol, one frame per
// connection and call. Bars are sent in the order given.
func (s *Server) Publish(bars ...market.Bar) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addBarsLocked(bars)
	for c := range s.conns {
		c.sendBarsLocked(bars)
	}
	s.notifyLocked()
}

// StallStreams makes every open stream connection go silent: it stays open
// and answers pings but sends nothing more. Later connections are healthy.
func (s *Server) StallStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.stalled = true
	}
	s.notifyLocked()
}

// CutStreams closes every open stream connection abruptly (no close frame).
func (s *Server) CutStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.kill()
	}
}

// apiError writes Alpaca's error body {"code":..,"message":".."}.
func apiError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// rest wraps a REST handler with auth, counting, rate limiting and faults.
func (s *Server) rest(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			s.mu.Lock()
			s.stats.RESTRequests++
			s.notifyLocked()
			s.mu.Unlock()
			apiError(w, http.StatusUnauthorized, 40110000, "request is not authorized")
			return
		}
		s.mu.Lock()
		s.stats.RESTRequests++
		n := s.stats.RESTRequests
		f := s.faults
		limited := false
		if s.opts.RequestsPerMinute > 0 {
			now := s.opts.Now()
			cut := 0
			for cut < len(s.window) && now.Sub(s.window[cut]) >= time.Minute {
				cut++
			}
			s.window = append(s.window[cut:], now)
			limited = len(s.window) > s.opts.RequestsPerMinute
		}
		failed := limited || (f.FailEvery > 0 && n%f.FailEvery == 0)
		over := !failed && f.MaxInFlight > 0 && s.restLive >= f.MaxInFlight
		if failed || over {
			s.stats.FailedRequests++
		}
		if over { // refused at once, taking no capacity
			s.stats.OverCapacity++
			s.notifyLocked()
			s.mu.Unlock()
			apiError(w, http.StatusTooManyRequests, 42910000, "too many requests in flight")
			return
		}
		s.restLive++
		s.stats.RESTPeak = max(s.stats.RESTPeak, s.restLive)
		s.notifyLocked()
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.restLive--
			s.mu.Unlock()
		}()
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
			}
			t.Stop()
		}
		switch {
		case limited:
			apiError(w, http.StatusTooManyRequests, 42910000, "rate limit exceeded")
		case failed && f.FailStatus == http.StatusTooManyRequests:
			apiError(w, http.StatusTooManyRequests, 42910000, "rate limit exceeded")
		case failed:
			apiError(w, f.FailStatus, 50010000, "internal server error")
		default:
			h(w, r)
		}
	}
}

func (s *Server) authorized(r *http.Request) bool {
	return r.Header.Get("APCA-API-KEY-ID") == s.opts.Key &&
		r.Header.Get("APCA-API-SECRET-KEY") == s.opts.Secret
}
