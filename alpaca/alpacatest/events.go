package alpacatest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// tradeEvent is one trade update, kept so a reconnecting client can ask
// for the ones it missed with "since".
type tradeEvent struct {
	at   time.Time
	data []byte // JSON
}

type sseConn struct {
	ch      chan []byte // events to write; closed by the server to end the stream
	abort   bool        // end by breaking the connection, not cleanly
	dropped bool
}

// pushEventLocked records an event and hands it to every open stream.
func (s *Server) pushEventLocked(event string, o order, qty, pos float64) {
	at := s.opts.Now().UTC()
	if n := len(s.events); n > 0 && !at.After(s.events[n-1].at) {
		at = s.events[n-1].at.Add(time.Microsecond) // strictly increasing
	}
	body := map[string]any{
		"at": at.Format(time.RFC3339Nano), "event": event, "order": o,
		"event_id": fmt.Sprintf("evt-%d", len(s.events)+1),
	}
	if event == "fill" {
		body["qty"] = fmtNum(qty)
		body["position_qty"] = fmtNum(pos)
		body["price"] = *o.FilledAvg
		body["timestamp"] = at.Format(time.RFC3339Nano)
	}
	data, _ := json.Marshal(body)
	s.events = append(s.events, tradeEvent{at: at, data: data})
	for c := range s.sse {
		if c.dropped {
			continue
		}
		select {
		case c.ch <- data:
		default: // a client that does not read loses its stream, not the server
			c.dropped, c.abort = true, true
			close(c.ch)
		}
	}
}

// DropTradeStreams ends every open trade-update stream: cleanly (the
// response ends) or, with abort, by breaking the connection mid-stream.
func (s *Server) DropTradeStreams(abort bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.sse {
		if !c.dropped {
			c.dropped, c.abort = true, abort
			close(c.ch)
		}
	}
}

// HoldTradeStreams makes new trade-update streams wait, unopened, until
// ReleaseTradeStreams: with DropTradeStreams, a test can have events happen
// while certainly no stream is open.
func (s *Server) HoldTradeStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sseHold == nil {
		s.sseHold = make(chan struct{})
	}
}

// ReleaseTradeStreams lets the held trade-update streams open.
func (s *Server) ReleaseTradeStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sseHold != nil {
		close(s.sseHold)
		s.sseHold = nil
	}
}

func (s *Server) handleTradeEvents(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		apiError(w, http.StatusUnauthorized, 40110000, "request is not authorized")
		return
	}
	var since time.Time
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			apiError(w, http.StatusBadRequest, 40010001, "invalid since")
			return
		}
		since = t
	}
	s.wg.Add(1)
	defer s.wg.Done()
	s.mu.Lock()
	hold := s.sseHold
	s.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	c := &sseConn{ch: make(chan []byte, 1024)}
	s.mu.Lock()
	var backlog [][]byte
	if !since.IsZero() {
		for _, e := range s.events {
			if !e.at.Before(since) {
				backlog = append(backlog, e.data)
			}
		}
	}
	s.sse[c] = struct{}{}
	s.stats.TradeStreams++
	s.stats.TradeStreamsOpen++
	s.notifyLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.sse, c)
		s.stats.TradeStreamsOpen--
		s.notifyLocked()
		s.mu.Unlock()
	}()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	write := func(data []byte) bool {
		if _, err := fmt.Fprintf(w, "data: %s\n\n", data); err != nil {
			return false
		}
		s.mu.Lock()
		s.stats.TradeEvents++
		s.notifyLocked()
		s.mu.Unlock()
		return true
	}
	for _, d := range backlog {
		if !write(d) {
			return
		}
	}
	if fl != nil {
		fl.Flush()
	}
	for {
		select {
		case d, ok := <-c.ch:
			if !ok {
				s.mu.Lock()
				abort := c.abort
				s.mu.Unlock()
				if abort {
					panic(http.ErrAbortHandler) // breaks the connection mid-stream
				}
				return
			}
			if !write(d) {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		}
	}
}
