package httpx_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/internal/httpx"
	"github.com/tickflow/tickflow/internal/limit"
	"github.com/tickflow/tickflow/internal/retry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var body = strings.Repeat("0123456789", 100) // 1,000 bytes

// Issue 13, item 4: a connection reset after 300 bytes of the body, and a
// body that stalls, are retried (the whole request), the per-attempt
// timeout covering the body.
func TestRetriesCoverTheBody(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(w http.ResponseWriter, r *http.Request)
	}{
		{"reset after 300 bytes", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, body[:300])
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
		}},
		{"stalled body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			io.WriteString(w, body[:300])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // until the client's attempt gives up
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					tc.fault(w, r)
					return
				}
				io.WriteString(w, body)
			}))
			defer srv.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			c := &httpx.Client{Transport: tr, Policy: retry.Policy{Attempts: 2, Initial: time.Millisecond, Timeout: 500 * time.Millisecond}}
			req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := c.Do(ctx, req)
			if err != nil {
				t.Fatalf("not retried: %v", err)
			}
			got, _ := io.ReadAll(resp.Body)
			if string(got) != body || calls.Load() != 2 {
				t.Fatalf("%d calls, %d bytes", calls.Load(), len(got))
			}
		})
	}
}

// 429 and 5xx are retried; another 4xx is handed back for the caller to
// read, unless FailOn4xx.
func TestStatuses(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch n := calls.Add(1); {
		case r.URL.Path == "/bad":
			http.Error(w, `{"message":"bad symbol"}`, http.StatusUnprocessableEntity)
		case n == 1:
			http.Error(w, "busy", http.StatusTooManyRequests)
		default:
			io.WriteString(w, "ok")
		}
	}))
	defer srv.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &httpx.Client{Transport: tr, Policy: retry.Policy{Initial: time.Millisecond}}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ok", nil)
	resp, err := c.Do(context.Background(), req)
	if err != nil || resp.StatusCode != 200 || calls.Load() != 2 {
		t.Fatalf("429 then 200: %v after %d calls", err, calls.Load())
	}
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/bad", nil)
	if resp, err = c.Do(context.Background(), req); err != nil || resp.StatusCode != 422 {
		t.Fatalf("422 handed back: %v", err)
	}
	c.FailOn4xx = true
	_, err = c.Do(context.Background(), req)
	if se, ok := err.(*httpx.StatusError); !ok || se.Code != 422 || se.Message != "bad symbol" {
		t.Fatalf("FailOn4xx: %v", err)
	}
}

// slowTransport answers after d (fake time under synctest): first with
// 503, then 200.
type slowTransport struct {
	d     time.Duration
	calls int
}

func (s *slowTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	time.Sleep(s.d)
	s.calls++
	code := http.StatusOK
	if s.calls == 1 {
		code = http.StatusServiceUnavailable
	}
	return &http.Response{StatusCode: code, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("{}")), Request: r}, nil
}

type opRecord struct {
	op    string
	took  time.Duration
	class string
}

type recordingObserver struct{ ops []opRecord }

func (*recordingObserver) OperationStarted(string) {}
func (o *recordingObserver) OperationEnded(op string, start, end time.Time, class string) {
	o.ops = append(o.ops, opRecord{op, end.Sub(start), class})
}

// Each attempt is one operation, timed from the request to the end of its
// body: a rate limit's wait and the back-off are not part of it.
func TestObservesEachAttemptsWorkTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &recordingObserver{}
		c := &httpx.Client{Transport: &slowTransport{d: 50 * time.Millisecond}, Observer: obs, Op: "api.get",
			Policy: retry.Policy{Initial: time.Second},
			Wait:   func(ctx context.Context) error { return retry.Sleep(ctx, 2*time.Second) }}
		req, _ := http.NewRequest(http.MethodGet, "http://api.example/x", nil)
		if _, err := c.Do(t.Context(), req); err != nil {
			t.Fatal(err)
		}
		want := []opRecord{{"api.get", 50 * time.Millisecond, "status_5xx"}, {"api.get", 50 * time.Millisecond, ""}}
		if !slices.Equal(obs.ops, want) {
			t.Fatalf("observed %+v, want %+v", obs.ops, want)
		}
	})
}

// Each attempt's outcome reaches the Limit: 429 and 503 are overload, a
// 500 says nothing of load, an answer is a success; and no slot is held
// once Do returns.
func TestLimitOutcomes(t *testing.T) {
	tests := []struct {
		name                       string
		statuses                   []int
		succeeded, overloaded, bad int64
	}{
		{"ok", []int{200}, 1, 0, 0},
		{"429 then ok", []int{429, 200}, 1, 1, 0},
		{"503 then ok", []int{503, 200}, 1, 1, 0},
		{"500 then ok", []int{500, 200}, 1, 0, 1},
		{"404 is an answer", []int{404}, 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.statuses[min(int(n.Add(1))-1, len(tt.statuses)-1)])
			}))
			defer srv.Close()
			l, err := limit.New(limit.Config{Max: 4})
			if err != nil {
				t.Fatal(err)
			}
			c := &httpx.Client{Policy: retry.Policy{Initial: time.Millisecond, Max: time.Millisecond}, Op: "test", Limit: l, FailOn4xx: true}
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			_, _ = c.Do(context.Background(), req)
			st := l.Stats()
			if st.Succeeded != tt.succeeded || st.Overloaded != tt.overloaded || st.Failed != tt.bad || st.InFlight != 0 {
				t.Errorf("limiter stats %+v, want %d succeeded, %d overloaded, %d failed, none in flight", st, tt.succeeded, tt.overloaded, tt.bad)
			}
		})
	}
}
