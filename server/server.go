package server

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

//go:embed web
var webFS embed.FS

// Defaults of Options fields left zero.
const (
	DefaultListen            = "127.0.0.1:7321" // not 9090: that is Prometheus's own
	DefaultRecentSignals     = 100
	DefaultClientBuffer      = 4096
	DefaultWriteTimeout      = 5 * time.Second
	DefaultHeartbeat         = 15 * time.Second
	DefaultShutdownTimeout   = 5 * time.Second
	DefaultSnapshotInterval  = 250 * time.Millisecond
	DefaultFlushInterval     = 50 * time.Millisecond
	DefaultReadHeaderTimeout = 5 * time.Second
	DefaultIdleTimeout       = 60 * time.Second
	DefaultMaxConnections    = 512
	DefaultMaxSSEClients     = 256
	DefaultMaxAPIRequests    = 32
	DefaultHistory           = 500
	DefaultHistorySymbols    = 200
)

// Options configure a Server. The zero value means the defaults: loopback
// only, no token, no metrics or health checks.
type Options struct {
	// Token, if set, is required on every route: as "Authorization:
	// Bearer <token>", or as the session cookie that opening any page once
	// with ?token=<token> sets (HttpOnly, SameSite=Strict). Serve refuses
	// to listen beyond loopback without one ([ErrNoToken]). It is compared
	// in constant time and never logged.
	Token string
	// Hosts are the names (a port is ignored) that a request's Host header
	// may carry besides the listener's own IP, such as the name of a reverse
	// proxy. On loopback, localhost and the loopback IPs are allowed too.
	// Any other Host is refused (421), which defeats DNS rebinding.
	Hosts []string

	// Gatherer is what /metrics exposes; nil serves 404 there.
	Gatherer prometheus.Gatherer
	// Registerer, if set, gets the server's own metrics: SSE clients,
	// dropped clients, messages sent, requests rejected by reason, and
	// tickflow_health_check{check} (1 or 0 per check of Health, run at
	// scrape time).
	Registerer prometheus.Registerer
	// Health answers /healthz and /readyz; nil answers 503.
	Health *health.Monitor
	// Stats, if set, is the running pipeline's Stats, shown in /api/stats
	// and on the dashboard.
	Stats func() []pipeline.StageStats
	// RecentSignals is how many signals /api/signals keeps (default 100).
	RecentSignals int
	// History is how many of each symbol's latest bars /api/history keeps,
	// with their indicators and signals, for the dashboard's chart on page
	// load (default 500; negative: none).
	History int
	// HistorySymbols bounds the symbols with a history: the first this
	// many seen (default 200), so that memory stays bounded, about 250
	// bytes per bar kept, however many symbols the pipeline carries.
	HistorySymbols int
	// Wallet, if set, is what /api/positions and the dashboard's wallet
	// panel show: a paper wallet's or a broker's cash, positions and P&L.
	// It is called once per request, from the request's goroutine, and
	// must be safe for concurrent use. Without it /api/positions is 404.
	Wallet func() Wallet

	// ClientBuffer is how many messages an /events client may fall behind
	// before it is dropped (default 4096; whatever the count, at most 16 MiB
	// of messages are kept).
	ClientBuffer int
	// FlushInterval is how long an /events client gathers messages into
	// one write once one is there (default 50 ms; negative: none): fewer,
	// larger writes, for a delay a person cannot see.
	FlushInterval time.Duration
	// SnapshotInterval is how often, at most, /api/symbols is rebuilt
	// from the Feed while the Feed changes (default 250 ms; negative:
	// whenever it changed). Between rebuilds every request is served the
	// same encoded bytes.
	SnapshotInterval time.Duration

	// MaxConnections bounds the open connections (default 512); a request
	// on a connection beyond it is answered 503 with Retry-After and the
	// connection closed.
	MaxConnections int
	// MaxSSEClients bounds the /events clients (default 256); beyond it,
	// 503 with Retry-After.
	MaxSSEClients int
	// MaxAPIRequests bounds the /api/* and /metrics requests served at
	// once (default 32); beyond it, 503 with Retry-After.
	MaxAPIRequests int

	// WriteTimeout bounds one write to an /events client, and the whole
	// response of any other route (default 5 s).
	WriteTimeout time.Duration
	// ReadHeaderTimeout bounds the reading of a request's header (default
	// 5 s).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a kept-alive connection idle this long (default
	// 60 s).
	IdleTimeout time.Duration
	// Heartbeat is the interval of SSE comments that keep idle
	// connections open (default 15 s).
	Heartbeat time.Duration
	// ShutdownTimeout bounds the graceful shutdown of Serve (default 5 s).
	ShutdownTimeout time.Duration
	// Logger logs the server's start and errors (default: discard).
	Logger *slog.Logger
}

// Server serves the dashboard, the JSON API, /events, /metrics and the
// health checks. Make it with [New].
type Server struct {
	o     Options
	feed  *Feed
	mux   *http.ServeMux
	start time.Time

	api      chan struct{} // a slot per API request being served
	conns    atomic.Int64  // open connections (Serve only)
	rejected *prometheus.CounterVec

	done     chan struct{} // closed when Serve begins its shutdown
	doneOnce sync.Once
}

// Reasons of tickflow_http_rejected_total.
const (
	rejectHost         = "host"
	rejectUnauthorized = "unauthorized"
	rejectConnections  = "connections"
	rejectSSEClients   = "sse_clients"
	rejectAPIBusy      = "api_busy"
)

// New returns a Server; its Feed is empty until the pipeline writes to it.
func New(o Options) (*Server, error) {
	for _, d := range []struct {
		v   *int
		def int
	}{
		{&o.RecentSignals, DefaultRecentSignals}, {&o.ClientBuffer, DefaultClientBuffer}, {&o.HistorySymbols, DefaultHistorySymbols},
		{&o.MaxConnections, DefaultMaxConnections}, {&o.MaxSSEClients, DefaultMaxSSEClients}, {&o.MaxAPIRequests, DefaultMaxAPIRequests},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{
		{&o.WriteTimeout, DefaultWriteTimeout}, {&o.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{&o.IdleTimeout, DefaultIdleTimeout}, {&o.Heartbeat, DefaultHeartbeat}, {&o.ShutdownTimeout, DefaultShutdownTimeout},
	} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	// Negative means none: only zero takes the default.
	switch {
	case o.History == 0:
		o.History = DefaultHistory
	case o.History < 0:
		o.History = 0
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.SnapshotInterval == 0 {
		o.SnapshotInterval = DefaultSnapshotInterval
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for _, h := range o.Hosts {
		if hostName(h) == "" {
			return nil, fmt.Errorf("server: Hosts: %q is not a host name", h)
		}
	}
	s := &Server{
		o: o, feed: newFeed(o.RecentSignals, o.ClientBuffer, o.SnapshotInterval), start: time.Now(),
		api: make(chan struct{}, o.MaxAPIRequests), done: make(chan struct{}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tickflow_http_rejected_total",
			Help: "HTTP requests refused, by reason: host, unauthorized, connections, sse_clients, api_busy.",
		}, []string{"reason"}),
	}
	s.feed.stream.max = o.MaxSSEClients
	s.feed.keep, s.feed.keepSymbols = o.History, o.HistorySymbols
	for _, r := range []string{rejectHost, rejectUnauthorized, rejectConnections, rejectSSEClients, rejectAPIBusy} {
		s.rejected.WithLabelValues(r) // exported at 0 from the start
	}
	if o.Registerer != nil {
		st := s.feed.stream
		dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tickflow_sse_clients_dropped_total",
			Help: "Server-sent-event clients disconnected because they fell behind.",
		}, func() float64 { return float64(st.dropped.Load()) })
		clients := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tickflow_sse_clients",
			Help: "Server-sent-event clients connected.",
		}, func() float64 { return float64(st.subscribers.Load()) })
		sent := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tickflow_sse_messages_sent_total",
			Help: "Server-sent-event messages written to clients.",
		}, func() float64 { return float64(st.sent.Load()) })
		conns := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tickflow_http_connections",
			Help: "HTTP connections open.",
		}, func() float64 { return float64(s.conns.Load()) })
		cs := []prometheus.Collector{dropped, clients, sent, conns, s.rejected}
		if o.Health != nil {
			cs = append(cs, healthCollector{o.Health})
		}
		for _, c := range cs {
			if err := o.Registerer.Register(c); err != nil {
				return nil, err
			}
		}
	}
	static, err := fs.Sub(webFS, "web")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", s.page(static, "index.html"))
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /static/chart.js", serveChartJS) // the report's renderer: one for both
	mux.Handle("GET /favicon.ico", s.page(static, "favicon.svg"))
	mux.HandleFunc("GET /events", s.events)
	mux.Handle("GET /api/signals", s.bounded(http.HandlerFunc(s.apiSignals)))
	mux.Handle("GET /api/symbols", s.bounded(http.HandlerFunc(s.apiSymbols)))
	mux.Handle("GET /api/stats", s.bounded(http.HandlerFunc(s.apiStats)))
	mux.Handle("GET /api/history", s.bounded(http.HandlerFunc(s.apiHistory)))
	mux.Handle("GET /api/positions", s.bounded(http.HandlerFunc(s.apiPositions)))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", s.bounded(promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{})))
	}
	s.mux = mux
	return s, nil
}

// Feed is the sink that feeds the server; tee it beside the pipeline's
// other sinks.
func (s *Server) Feed() *Feed { return s.feed }

// Handler returns the server's routes, for tests or another http.Server.
// It checks the Host header as if listening on loopback (loopback names and
// IPs, and Options.Hosts) and requires Options.Token when set; the
// connection bound and the timeouts are Serve's.
func (s *Server) Handler() http.Handler { return s.handler(nil) }

// handler guards the routes for a listener on addr (nil: loopback):
// headers, then Host and token, then the connection bound.
func (s *Server) handler(addr net.Addr) http.Handler {
	routes := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n := s.conns.Load(); n > int64(s.o.MaxConnections) {
			w.Header().Set("Connection", "close")
			s.busy(w, rejectConnections)
			return
		}
		s.mux.ServeHTTP(w, r)
	})
	guarded := newGuard(&s.o, addr).wrap(routes, func(reason string) { s.rejected.WithLabelValues(reason).Inc() })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		guarded.ServeHTTP(w, r)
	})
}

// busy answers 503 with Retry-After and counts it.
func (s *Server) busy(w http.ResponseWriter, reason string) {
	s.rejected.WithLabelValues(reason).Inc()
	w.Header().Set("Retry-After", "1")
	http.Error(w, "server: busy ("+reason+"), retry later", http.StatusServiceUnavailable)
}

// bounded serves h while fewer than MaxAPIRequests are served, else 503.
func (s *Server) bounded(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case s.api <- struct{}{}:
		default:
			s.busy(w, rejectAPIBusy)
			return
		}
		defer func() { <-s.api }()
		h.ServeHTTP(w, r)
	})
}

// ListenAndServe listens on addr (DefaultListen when empty) and serves
// until ctx is done; see [Server.Serve].
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	if addr == "" {
		addr = DefaultListen
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln until ctx is done, then shuts down gracefully: /events
// streams end, requests in flight get Options.ShutdownTimeout to finish.
// It returns nil after a shutdown caused by ctx, else the serving error. It
// refuses (closing ln) a listener beyond loopback when Options.Token is
// empty, with an error wrapping [ErrNoToken].
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if !newGuard(&s.o, ln.Addr()).loopback && s.o.Token == "" {
		_ = ln.Close()
		return fmt.Errorf("server: listening on %s: %w", ln.Addr(), ErrNoToken)
	}
	hs := &http.Server{
		Handler:           s.handler(ln.Addr()),
		ReadHeaderTimeout: s.o.ReadHeaderTimeout,
		WriteTimeout:      s.o.WriteTimeout, // /events moves its deadline at each write
		IdleTimeout:       s.o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelWarn),
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				s.conns.Add(1)
			case http.StateClosed, http.StateHijacked:
				s.conns.Add(-1)
			}
		},
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.closeStreams()
		return err
	case <-ctx.Done():
	}
	s.closeStreams()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.o.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		err = errors.Join(err, hs.Close())
	}
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

func (s *Server) closeStreams() { s.doneOnce.Do(func() { close(s.done) }) }

func (s *Server) page(static fs.FS, name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, static, name)
	})
}

// readBytes is how much an /events client takes from the stream for one
// write.
const readBytes = 64 << 10

// writeBufs are the buffers that gather an /events client's messages, so
// that a write is one chunk, one system call, however many messages it
// holds. Taken only while writing: their number follows the clients
// writing at once, not the clients connected.
var writeBufs = sync.Pool{New: func() any { b := make([]byte, 0, readBytes+4<<10); return &b }}

// writeMessages writes msgs, each with its id line, through a pooled
// buffer.
func writeMessages(w io.Writer, msgs []message) error {
	bp := writeBufs.Get().(*[]byte)
	b := (*bp)[:0]
	var err error
	for _, m := range msgs {
		b = strconv.AppendUint(append(b, "id: "...), m.id, 10)
		b = append(append(b, '\n'), m.data...)
		if len(b) >= readBytes {
			if _, err = w.Write(b); err != nil {
				break
			}
			b = b[:0]
		}
	}
	if err == nil && len(b) > 0 {
		_, err = w.Write(b)
	}
	if cap(b) <= 4*readBytes { // a buffer grown by a huge message is let go
		*bp = b[:0]
		writeBufs.Put(bp)
	}
	return err
}

// events streams server-sent events to one client until it goes, the
// server shuts down, or the stream drops it for falling behind. Each
// message carries its id, in order; once woken the handler gathers for
// FlushInterval and writes everything pending with one flush.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	st := s.feed.stream
	c := st.subscribe()
	if c == nil {
		s.busy(w, rejectSSEClients)
		return
	}
	defer st.unsubscribe(c)
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")

	failed := func(err error) {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			st.drop(c) // it cannot take what the others take
		}
	}
	write := func(msg []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.o.WriteTimeout)) // unsupported by some writers: then no deadline
		if _, err := w.Write(msg); err != nil {
			failed(err)
			return false
		}
		if err := rc.Flush(); err != nil {
			failed(err)
			return false
		}
		return true
	}
	w.WriteHeader(http.StatusOK)
	if !write([]byte("retry: 2000\n: tickflow\n\n")) {
		return
	}
	st.sent.Add(1)
	beat := time.NewTicker(s.o.Heartbeat)
	defer beat.Stop()
	var gather *time.Timer
	if s.o.FlushInterval > 0 {
		gather = time.NewTimer(s.o.FlushInterval)
		defer gather.Stop()
	}
	wait := func(ch <-chan struct{}, tick <-chan time.Time) (ticked, ok bool) {
		select {
		case <-ch:
			return false, true
		case <-tick:
			return true, true
		case <-c.kicked:
		case <-r.Context().Done():
		case <-s.done:
		}
		return false, false
	}
	var pending []message
	for {
		msgs, wake, ok := st.read(c, pending[:0], readBytes)
		if !ok {
			return
		}
		if len(msgs) > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(s.o.WriteTimeout))
			if err := writeMessages(w, msgs); err != nil {
				failed(err)
				return
			}
			if err := rc.Flush(); err != nil {
				failed(err)
				return
			}
			st.sent.Add(int64(len(msgs)))
			clear(msgs) // let the messages go
			pending = msgs
			continue
		}
		ticked, ok := wait(wake, beat.C)
		if !ok {
			return
		}
		if ticked {
			if !write([]byte(": ping\n\n")) {
				return
			}
			st.sent.Add(1)
			continue
		}
		if gather != nil {
			gather.Reset(s.o.FlushInterval)
			if _, ok := wait(nil, gather.C); !ok {
				return
			}
		}
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.o.Health == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"healthy": false, "reason": "no health monitor configured"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	rep := s.o.Health.Check(ctx)
	status := http.StatusOK
	if !rep.Healthy {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, rep)
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	st := health.Fail("no health monitor configured")
	if s.o.Health != nil {
		st = s.o.Health.Ready()
	}
	status := http.StatusOK
	if !st.OK {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, map[string]any{"ready": st.OK, "reason": st.Reason})
}

// Symbol is a symbol's state as /api/symbols shows it.
type Symbol struct {
	Symbol     string         `json:"symbol"`
	Time       time.Time      `json:"time"`
	Open       float64        `json:"open"`
	High       float64        `json:"high"`
	Low        float64        `json:"low"`
	Close      float64        `json:"close"`
	Volume     float64        `json:"volume"`
	EMA        *float64       `json:"ema"`
	StochRSIK  *float64       `json:"stochrsi_k"`
	StochRSID  *float64       `json:"stochrsi_d"`
	Bars       int64          `json:"bars"`
	LastSignal *market.Signal `json:"last_signal"` // in market.Signal's JSON form
	// Indicators are every value of the record by name, in the schema's
	// order (the default ones first, then those the pipeline was given):
	// {"ema":..,"stochrsi_k":..,"stochrsi_d":..,"macd":..,"slow":..}.
	Indicators Values `json:"indicators"`
}

// Values are a record's values, written as a JSON object of name to
// number in the schema's order, null where a value is not defined.
type Values struct{ Record market.Indicators }

// MarshalJSON writes the object.
func (v Values) MarshalJSON() ([]byte, error) { return appendValues(nil, &v.Record), nil }

func appendValues(b []byte, r *market.Indicators) []byte {
	b = append(b, '{')
	first := true
	r.Each(func(name string, x float64, ok bool) {
		if !first {
			b = append(b, ',')
		}
		first = false
		b = market.AppendJSONString(b, name)
		b = append(b, ':')
		if ok {
			b = market.AppendJSONFloat(b, x) // null for a NaN
		} else {
			b = append(b, "null"...)
		}
	})
	return append(b, '}')
}

func opt(v float64, ok bool) *float64 {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil // JSON cannot hold it
	}
	return &v
}

func (s *Server) apiSignals(w http.ResponseWriter, r *http.Request) {
	limit := 0
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit must be a whole number >= 0"})
			return
		}
		limit = n
	}
	writeJSON(w, http.StatusOK, s.feed.Signals(limit)) // market.Signal's JSON form
}

func (s *Server) apiSymbols(w http.ResponseWriter, _ *http.Request) {
	body := s.feed.symbolsJSON()
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

// StageStats is a pipeline stage's counters as /api/stats shows them.
type StageStats struct {
	Name        string  `json:"name"`
	In          int64   `json:"in"`
	Out         int64   `json:"out"`
	Queued      int64   `json:"queued"`
	Dropped     int64   `json:"dropped"`
	Failed      int64   `json:"failed"`
	BusySeconds float64 `json:"busy_seconds"`
}

// Stats is what /api/stats returns.
type Stats struct {
	FeedStats
	UptimeSeconds float64      `json:"uptime_seconds"`
	Stages        []StageStats `json:"stages"`
	// Wallet tells whether /api/positions has a wallet to show.
	Wallet bool `json:"wallet"`
}

func (s *Server) apiStats(w http.ResponseWriter, _ *http.Request) {
	st := Stats{FeedStats: s.feed.Stats(), UptimeSeconds: time.Since(s.start).Seconds(), Stages: []StageStats{}, Wallet: s.o.Wallet != nil}
	if s.o.Stats != nil {
		for _, p := range s.o.Stats() {
			st.Stages = append(st.Stages, StageStats{
				Name: p.Name, In: p.In, Out: p.Out, Queued: p.Queued,
				Dropped: p.Dropped, Failed: p.Failed, BusySeconds: p.Busy.Seconds(),
			})
		}
	}
	writeJSON(w, http.StatusOK, st)
}

var healthDesc = prometheus.NewDesc("tickflow_health_check",
	"ADR-002 health checks at scrape time: 1 passing, 0 failing.", []string{"check"}, nil)

// healthCollector exports the health checks, so alerts can use them.
type healthCollector struct{ h *health.Monitor }

func (c healthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- healthDesc }

func (c healthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for name, st := range c.h.Check(ctx).Checks {
		v := 0.0
		if st.OK {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(healthDesc, prometheus.GaugeValue, v, name)
	}
}
