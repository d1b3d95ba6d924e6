package alpacatest

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickflow/tickflow/market"
)

// Frames are msgpack arrays of maps whose first key is "T": structs, not Go
// maps, keep that order.
type (
	ctlMsg struct {
		T   string `msgpack:"T"`
		Msg string `msgpack:"msg"`
	}
	errMsg struct {
		T    string `msgpack:"T"`
		Code int    `msgpack:"code"`
		Msg  string `msgpack:"msg"`
	}
	stockSubMsg struct {
		T            string   `msgpack:"T"`
		Trades       []string `msgpack:"trades"`
		Quotes       []string `msgpack:"quotes"`
		Bars         []string `msgpack:"bars"`
		UpdatedBars  []string `msgpack:"updatedBars"`
		DailyBars    []string `msgpack:"dailyBars"`
		Statuses     []string `msgpack:"statuses"`
		LULDs        []string `msgpack:"lulds"`
		Corrections  []string `msgpack:"corrections"`
		CancelErrors []string `msgpack:"cancelErrors"`
	}
	cryptoSubMsg struct {
		T           string   `msgpack:"T"`
		Trades      []string `msgpack:"trades"`
		Quotes      []string `msgpack:"quotes"`
		Bars        []string `msgpack:"bars"`
		UpdatedBars []string `msgpack:"updatedBars"`
		DailyBars   []string `msgpack:"dailyBars"`
		Orderbooks  []string `msgpack:"orderbooks"`
	}
	stockBarMsg struct {
		T  string    `msgpack:"T"`
		S  string    `msgpack:"S"`
		O  float64   `msgpack:"o"`
		H  float64   `msgpack:"h"`
		L  float64   `msgpack:"l"`
		C  float64   `msgpack:"c"`
		V  uint64    `msgpack:"v"`
		Ts time.Time `msgpack:"t"`
		N  uint64    `msgpack:"n"`
		VW float64   `msgpack:"vw"`
	}
	cryptoBarMsg struct {
		T  string    `msgpack:"T"`
		S  string    `msgpack:"S"`
		O  float64   `msgpack:"o"`
		H  float64   `msgpack:"h"`
		L  float64   `msgpack:"l"`
		C  float64   `msgpack:"c"`
		V  float64   `msgpack:"v"`
		Ts time.Time `msgpack:"t"`
		N  uint64    `msgpack:"n"`
		VW float64   `msgpack:"vw"`
	}
)

// Alpaca's stream errors, verbatim.
var (
	errAuthFailed      = errMsg{"error", 402, "auth failed"}
	errConnLimit       = errMsg{"error", 406, "connection limit exceeded"}
	errSlowClient      = errMsg{"error", 407, "slow client"}
	errNotAuthed       = errMsg{"error", 401, "not authenticated"}
	errAlreadyAuthed   = errMsg{"error", 403, "already authenticated"}
	errInvalidSyntax   = errMsg{"error", 400, "invalid syntax"}
	errAuthTimeout     = errMsg{"error", 404, "auth timeout"}
	errInvalidForFeed  = errMsg{"error", 410, "invalid subscribe action for this feed"}
	errSymbolLimit     = errMsg{"error", 405, "symbol limit exceeded"}
	authTimeout        = 10 * time.Second
	connQueueFrames    = 4096
	writeFrameDeadline = 5 * time.Second
)

// wsConn is one stream connection. Fields below mu are guarded by the
// server's mutex.
type wsConn struct {
	srv      *Server
	ws       *websocket.Conn
	endpoint string // "stocks/iex", "crypto/us", ...
	crypto   bool
	out      chan outFrame // frames for the writer
	done     chan struct{}
	cancel   context.CancelFunc

	authed  bool
	holds   bool            // holds one of the key's connection slots
	bars    map[string]bool // subscribed bar symbols ("*" = all)
	sent    int             // bars sent on this connection
	stalled bool
	killed  bool
}

func (c *wsConn) kill() {
	if !c.killed {
		c.killed = true
		c.cancel()
	}
}

// outFrame is what the writer sends: a frame, the first part of one
// before breaking the connection (partial), or only the break (cut).
type outFrame struct {
	data    []byte
	partial bool
	cut     bool
}

// padMsg is an element of a type the SDK skips, making a frame long enough
// that half of it reaches the wire before the connection is broken.
type padMsg struct {
	T   string `msgpack:"T"`
	Pad string `msgpack:"pad"`
}

// enqueueLocked queues a frame; a full queue is a slow client (407).
func (c *wsConn) enqueueLocked(v any) {
	if _, cut := v.(cutMarker); cut {
		c.enqueueFrameLocked(outFrame{cut: true})
		return
	}
	b, err := msgpack.Marshal(v)
	if err != nil {
		panic(err) // our own structs always encode
	}
	c.enqueueFrameLocked(outFrame{data: b})
}

func (c *wsConn) enqueueFrameLocked(f outFrame) {
	if c.killed {
		return
	}
	select {
	case c.out <- f:
	default:
		c.killed = true
		go func() { // best effort, then close
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			slow, _ := msgpack.Marshal([]any{errSlowClient})
			_ = c.ws.Write(ctx, websocket.MessageBinary, slow)
			c.cancel()
		}()
	}
}

func (c *wsConn) sendBarsLocked(bars []market.Bar) {
	if !c.authed || c.stalled || c.killed || len(c.bars) == 0 {
		return
	}
	f := c.srv.faults
	var frame []any
	cut := false
	for _, b := range bars {
		if strings.Contains(b.Symbol, "/") != c.crypto || !(c.bars[b.Symbol] || c.bars["*"]) {
			continue
		}
		if f.DisconnectAfter > 0 && c.sent >= f.DisconnectAfter {
			cut = true
			break
		}
		if c.crypto {
			frame = append(frame, cryptoBarMsg{"b", b.Symbol, b.Open, b.High, b.Low, b.Close, b.Volume, b.Time.UTC(), 1, b.Close})
		} else {
			frame = append(frame, stockBarMsg{"b", b.Symbol, b.Open, b.High, b.Low, b.Close, uint64(b.Volume), b.Time.UTC(), 1, b.Close})
		}
		c.sent++
	}
	if f.DisconnectAfter > 0 && c.sent >= f.DisconnectAfter {
		cut = true
	}
	if cut && f.CutMidFrame && len(frame) > 0 && !c.killed {
		b, _ := msgpack.Marshal(append(frame, padMsg{"pad", strings.Repeat("x", 16<<10)}))
		c.srv.refusals += f.RefuseAfterCut
		c.srv.stats.StreamCuts++
		c.enqueueFrameLocked(outFrame{data: b[:len(b)/2], partial: true})
		return
	}
	if len(frame) > 0 {
		c.enqueueLocked(frame)
		c.srv.stats.BarsSent += len(frame)
	}
	if cut && !c.killed {
		c.srv.refusals += f.RefuseAfterCut
		c.srv.stats.StreamCuts++
		// Let the writer send what is queued, then break the connection.
		c.enqueueLocked(cutMarker{})
	}
}

// cutMarker in the queue tells the writer to break the connection.
type cutMarker struct{}

func (s *Server) handleStream(crypto bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		endpoint := "stocks/" + r.PathValue("feed")
		if crypto {
			endpoint = "crypto/" + r.PathValue("loc")
		}
		if !websocketRequest(r) {
			apiError(w, http.StatusNotFound, 40410000, "not found")
			return
		}
		s.mu.Lock()
		refuse := s.refusals > 0
		if refuse {
			s.refusals--
			s.stats.UpgradesRefused++
			s.notifyLocked()
		}
		s.mu.Unlock()
		if refuse { // a 5xx on the upgrade: the SDK counts a failed attempt and retries
			http.Error(w, "service unavailable", http.StatusServiceUnavailable)
			return
		}
		s.wg.Add(1)
		defer s.wg.Done()
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
		if err != nil {
			return
		}
		ws.SetReadLimit(1 << 20)
		ctx, cancel := context.WithCancel(s.ctx)
		defer cancel()
		c := &wsConn{srv: s, ws: ws, endpoint: endpoint, crypto: crypto,
			out: make(chan outFrame, connQueueFrames), done: make(chan struct{}), cancel: cancel,
			bars: map[string]bool{}}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.stats.StreamConnects++
		s.stats.StreamOpen++
		s.notifyLocked()
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.conns, c)
			s.stats.StreamOpen--
			s.stats.Subscribed -= len(c.bars)
			c.killed = true
			s.notifyLocked()
			s.mu.Unlock()
			ws.CloseNow()
		}()

		go c.writer(ctx)
		s.mu.Lock()
		c.enqueueLocked([]any{ctlMsg{"success", "connected"}})
		s.mu.Unlock()
		c.reader(ctx)
		cancel()
		<-c.done
	}
}

func websocketRequest(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// writer sends queued frames; a cut marker or a write error ends the
// connection abruptly.
func (c *wsConn) writer(ctx context.Context) {
	defer close(c.done)
	for {
		select {
		case <-ctx.Done():
			c.ws.CloseNow()
			return
		case f := <-c.out:
			if f.cut || f.partial {
				c.srv.mu.Lock()
				c.killed = true // frees the key's connection slot at once
				c.srv.mu.Unlock()
				if f.partial { // the message's first fragment, then the break
					wctx, cancel := context.WithTimeout(ctx, writeFrameDeadline)
					if w, err := c.ws.Writer(wctx, websocket.MessageBinary); err == nil {
						_, _ = w.Write(f.data)
					}
					cancel()
				}
				c.ws.CloseNow()
				c.cancel()
				return
			}
			wctx, cancel := context.WithTimeout(ctx, writeFrameDeadline)
			err := c.ws.Write(wctx, websocket.MessageBinary, f.data)
			cancel()
			if err != nil {
				c.ws.CloseNow()
				c.cancel()
				return
			}
		}
	}
}

// reader handles client messages until the connection ends. Reading also
// answers pings.
func (c *wsConn) reader(ctx context.Context) {
	s := c.srv
	authDeadline := time.AfterFunc(authTimeout, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !c.authed {
			c.enqueueLocked([]any{errAuthTimeout})
		}
	})
	defer authDeadline.Stop()
	for {
		_, data, err := c.ws.Read(ctx)
		if err != nil {
			return
		}
		var msg map[string]any
		if err := msgpack.Unmarshal(data, &msg); err != nil {
			s.mu.Lock()
			c.enqueueLocked([]any{errInvalidSyntax})
			s.mu.Unlock()
			continue
		}
		action, _ := msg["action"].(string)
		s.mu.Lock()
		switch action {
		case "auth":
			c.authLocked(msg)
		case "subscribe", "unsubscribe":
			c.subscribeLocked(action == "subscribe", msg)
		default:
			c.enqueueLocked([]any{errInvalidSyntax})
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func (c *wsConn) authLocked(msg map[string]any) {
	s := c.srv
	if c.authed {
		c.enqueueLocked([]any{errAlreadyAuthed})
		return
	}
	key, _ := msg["key"].(string)
	secret, _ := msg["secret"].(string)
	if key != s.opts.Key || secret != s.opts.Secret {
		c.enqueueLocked([]any{errAuthFailed})
		c.enqueueLocked(cutMarker{})
		return
	}
	holders := 0
	for o := range s.conns {
		if o != c && o.holds && o.endpoint == c.endpoint && !o.killed {
			holders++
		}
	}
	if holders >= s.opts.MaxStreamConnections {
		s.stats.StreamRefused++
		c.enqueueLocked([]any{errConnLimit})
		return
	}
	c.authed, c.holds = true, true
	s.stats.StreamAuthorized++
	c.enqueueLocked([]any{ctlMsg{"success", "authenticated"}})
}

func stringList(v any) []string {
	items, _ := v.([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (c *wsConn) subscribeLocked(sub bool, msg map[string]any) {
	s := c.srv
	if !c.authed {
		c.enqueueLocked([]any{errNotAuthed})
		return
	}
	for _, k := range []string{"trades", "quotes", "updatedBars", "dailyBars", "statuses", "lulds", "orderbooks", "news"} {
		if len(stringList(msg[k])) > 0 {
			// The fake streams bars only.
			c.enqueueLocked([]any{errInvalidForFeed})
			return
		}
	}
	before := len(c.bars)
	var added []string
	for _, sym := range stringList(msg["bars"]) {
		if sub {
			if !c.bars[sym] {
				added = append(added, sym)
			}
			c.bars[sym] = true
		} else {
			delete(c.bars, sym)
		}
	}
	if limit := s.opts.MaxStreamSymbols; limit > 0 && len(c.bars) > limit {
		for _, sym := range added { // the request is refused whole
			delete(c.bars, sym)
		}
		c.enqueueLocked([]any{errSymbolLimit})
		return
	}
	s.stats.Subscribed += len(c.bars) - before
	bars := make([]string, 0, len(c.bars))
	for sym := range c.bars {
		bars = append(bars, sym)
	}
	slices.Sort(bars)
	e := []string{}
	if c.crypto {
		c.enqueueLocked([]any{cryptoSubMsg{"subscription", e, e, bars, e, e, e}})
	} else {
		c.enqueueLocked([]any{stockSubMsg{"subscription", e, e, bars, e, e, e, e, e, e}})
	}
}
