package limit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// roundTripFunc is a fake transport.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTransportClassifies(t *testing.T) {
	timeout := fmt.Errorf("dial: %w", os.ErrDeadlineExceeded)
	for _, tc := range []struct {
		name   string
		status int
		err    error
		want   Outcome
	}{
		{"200", 200, nil, Success},
		{"404", 404, nil, Success},
		{"429", 429, nil, Overload},
		{"500", 500, nil, Failure},
		{"502", 502, nil, Failure},
		{"503", 503, nil, Overload},
		{"timeout", 0, timeout, Overload},
		{"deadline", 0, context.DeadlineExceeded, Overload},
		{"refused", 0, errors.New("connection refused"), Failure},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLimiter(t, Config{Max: 4})
			c := &http.Client{Transport: Transport(l, roundTripFunc(func(*http.Request) (*http.Response, error) {
				if tc.err != nil {
					return nil, tc.err
				}
				return &http.Response{StatusCode: tc.status, Body: io.NopCloser(strings.NewReader("body"))}, nil
			}))}
			resp, err := c.Get("http://remote.invalid/")
			if err == nil {
				if s := l.Stats(); s.InFlight != 1 {
					t.Errorf("before Body.Close: %d in flight, want 1", s.InFlight)
				}
				resp.Body.Close()
				resp.Body.Close() // a second Close releases nothing more
			}
			s := l.Stats()
			got := map[Outcome]int64{Success: s.Succeeded, Overload: s.Overloaded, Failure: s.Failed}
			if got[tc.want] != 1 || s.Succeeded+s.Overloaded+s.Failed != 1 || s.InFlight != 0 {
				t.Errorf("Stats %+v, want one %v and nothing in flight", s, tc.want)
			}
		})
	}
}

// A request whose context is done waits for no slot and reaches no server.
func TestTransportCancelled(t *testing.T) {
	l := newLimiter(t, Config{Max: 1})
	var called atomic.Bool
	rt := Transport(l, roundTripFunc(func(*http.Request) (*http.Response, error) {
		called.Store(true)
		return nil, errors.New("unreachable")
	}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://remote.invalid/", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Errorf("RoundTrip: %v, want context.Canceled", err)
	}
	if called.Load() || l.Stats().InFlight != 0 {
		t.Error("a cancelled request took a slot or reached the transport")
	}
}

// capServer answers 429 above capacity concurrent requests, else 200 after
// a short service time.
type capServer struct {
	capacity       int64
	inFlight, peak atomic.Int64
	ok, refused    atomic.Int64
}

func (s *capServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
	}
	if n > s.capacity {
		s.refused.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	time.Sleep(2 * time.Millisecond) // the simulated service time
	s.ok.Add(1)
	io.WriteString(w, "ok")
}

// Against a real HTTP server that refuses above 4 concurrent requests, the
// adaptive transport gets fewer 429s than a fixed limit of 16.
func TestTransportAgainstServer(t *testing.T) {
	run := func(cfg Config) (ok, refused int64, l *Limiter) {
		s := &capServer{capacity: 4}
		srv := httptest.NewServer(s)
		defer srv.Close()
		l = newLimiter(t, cfg)
		c := &http.Client{Transport: Transport(l, srv.Client().Transport)}
		defer c.CloseIdleConnections()
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				for range 40 {
					resp, err := c.Get(srv.URL)
					if err != nil {
						t.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
		}
		wg.Wait()
		return s.ok.Load(), s.refused.Load(), l
	}
	okA, refA, l := run(Config{Max: 16})
	okF, refF, _ := run(Config{Min: 16, Max: 16})
	t.Logf("adaptive: %d ok, %d refused, limit %d; fixed 16: %d ok, %d refused", okA, refA, l.Limit(), okF, refF)
	if s := l.Stats(); s.Overloaded != refA || s.InFlight != 0 {
		t.Errorf("limiter counted %d overloads and %d in flight; the server refused %d", s.Overloaded, s.InFlight, refA)
	}
	if okA+refA != 16*40 || okF+refF != 16*40 {
		t.Errorf("answers: %d and %d, want %d each", okA+refA, okF+refF, 16*40)
	}
	if refA >= refF {
		t.Errorf("adaptive transport got %d 429s, want fewer than the fixed limit's %d", refA, refF)
	}
}

// errReader fails every Read with err.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// A timeout while reading the body turns a 200 into an Overload.
func TestTransportBodyTimeout(t *testing.T) {
	l := newLimiter(t, Config{Max: 4})
	rt := Transport(l, roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: io.NopCloser(errReader{fmt.Errorf("read: %w", os.ErrDeadlineExceeded)})}, nil
	}))
	req, _ := http.NewRequest(http.MethodGet, "http://remote.invalid/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadAll: %v, want the deadline error", err)
	}
	resp.Body.Close()
	if s := l.Stats(); s.Overloaded != 1 || s.Succeeded != 0 {
		t.Errorf("Stats %+v, want one overload", s)
	}
}
