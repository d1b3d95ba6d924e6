package server

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
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
	DefaultListen          = "127.0.0.1:9090"
	DefaultRecentSignals   = 100
	DefaultClientBuffer    = 256
	DefaultWriteTimeout    = 5 * time.Second
	DefaultHeartbeat       = 15 * time.Second
	DefaultShutdownTimeout = 5 * time.Second
)

// Options configure a Server. The zero value means the defaults (and no
// metrics or health checks).
type Options struct {
	// Gatherer is what /metrics exposes; nil serves 404 there.
	Gatherer prometheus.Gatherer
	// Registerer, if set, gets the server's own metrics: SSE clients,
	// dropped clients, messages sent, and tickflow_health_check{check}
	// (1 or 0 per check of Health, run at scrape time).
	Registerer prometheus.Registerer
	// Health answers /healthz and /readyz; nil answers 503.
	Health *health.Monitor
	// Stats, if set, is the running pipeline's Stats, shown in /api/stats
	// and on the dashboard.
	Stats func() []pipeline.StageStats
	// RecentSignals is how many signals /api/signals keeps (default 100).
	RecentSignals int
	// ClientBuffer is how many messages an /events client may fall behind
	// before it is dropped (default 256).
	ClientBuffer int
	// WriteTimeout bounds one write to an /events client (default 5 s).
	WriteTimeout time.Duration
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

	done     chan struct{} // closed when Serve begins its shutdown
	doneOnce sync.Once
}

// New returns a Server; its Feed is empty until the pipeline writes to it.
func New(o Options) (*Server, error) {
	if o.RecentSignals <= 0 {
		o.RecentSignals = DefaultRecentSignals
	}
	if o.ClientBuffer <= 0 {
		o.ClientBuffer = DefaultClientBuffer
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = DefaultHeartbeat
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{o: o, feed: newFeed(o.RecentSignals, o.ClientBuffer), start: time.Now(), done: make(chan struct{})}
	if o.Registerer != nil {
		dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tickflow_sse_clients_dropped_total",
			Help: "Server-sent-event clients disconnected because they fell behind.",
		}, func() float64 { return float64(s.feed.dropped.Load()) })
		clients := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "tickflow_sse_clients",
			Help: "Server-sent-event clients connected.",
		}, func() float64 { return float64(s.feed.nclient.Load()) })
		sent := prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "tickflow_sse_messages_sent_total",
			Help: "Server-sent-event messages written to clients.",
		}, func() float64 { return float64(s.feed.sent.Load()) })
		cs := []prometheus.Collector{dropped, clients, sent}
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
	mux.Handle("GET /favicon.ico", s.page(static, "favicon.svg"))
	mux.HandleFunc("GET /events", s.events)
	mux.HandleFunc("GET /api/signals", s.apiSignals)
	mux.HandleFunc("GET /api/symbols", s.apiSymbols)
	mux.HandleFunc("GET /api/stats", s.apiStats)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if o.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	}
	s.mux = mux
	return s, nil
}

// Feed is the sink that feeds the server; tee it beside the pipeline's
// other sinks.
func (s *Server) Feed() *Feed { return s.feed }

// Handler returns the server's routes, for tests or another http.Server.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'")
		s.mux.ServeHTTP(w, r)
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
// It returns nil after a shutdown caused by ctx, else the serving error.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.o.Logger.Handler(), slog.LevelWarn),
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

// events streams server-sent events to one client until it goes, the
// server shuts down, or the Feed drops it for falling behind.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c := s.feed.subscribe()
	defer s.feed.unsubscribe(c)

	write := func(msg []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.o.WriteTimeout)) // unsupported by some writers: then no deadline
		if _, err := w.Write(msg); err != nil {
			return false
		}
		if err := rc.Flush(); err != nil {
			return false
		}
		s.feed.sent.Add(1)
		return true
	}
	w.WriteHeader(http.StatusOK)
	if !write([]byte("retry: 2000\n: tickflow\n\n")) {
		return
	}
	beat := time.NewTicker(s.o.Heartbeat)
	defer beat.Stop()
	for {
		select {
		case msg := <-c.ch:
			if !write(msg) {
				return
			}
		case <-beat.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
		case <-c.kicked:
			return
		case <-r.Context().Done():
			return
		case <-s.done:
			return
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
}

func opt(v float64, ok bool) *float64 {
	if !ok {
		return nil
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
	syms := s.feed.Symbols()
	out := make([]Symbol, len(syms))
	for i, st := range syms {
		b, in := st.Bar, st.Indicators
		out[i] = Symbol{
			Symbol: b.Symbol, Time: b.Time.UTC(), Open: b.Open, High: b.High, Low: b.Low, Close: b.Close, Volume: b.Volume,
			EMA: opt(in.EMA, in.HasEMA), StochRSIK: opt(in.StochK, in.HasStoch), StochRSID: opt(in.StochD, in.HasStoch),
			Bars: st.Bars,
		}
		out[i].LastSignal = st.LastSignal
	}
	writeJSON(w, http.StatusOK, out)
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
}

func (s *Server) apiStats(w http.ResponseWriter, _ *http.Request) {
	st := Stats{FeedStats: s.feed.Stats(), UptimeSeconds: time.Since(s.start).Seconds(), Stages: []StageStats{}}
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
