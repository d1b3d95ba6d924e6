//go:build full

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
)

// summaryCount reads the number before what in the line of stderr that
// starts with prefix ("tickflow: stopped after", "tickflow: orders:").
func summaryCount(t *testing.T, stderr, prefix, what string) int {
	t.Helper()
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		m := regexp.MustCompile(`(\d+) ` + regexp.QuoteMeta(what)).FindStringSubmatch(line)
		require.NotNil(t, m, "no %q in %q", what, line)
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		return n
	}
	t.Fatalf("no line %q in stderr:\n%s", prefix, stderr)
	return 0
}

// signalLines counts the signals stream wrote to stdout (--format jsonl).
func signalLines(stdout string) int {
	return strings.Count(stdout, `"side":`)
}

// The outcomes the order sink logs for a signal; with the queue's drops,
// every signal has exactly one.
var orderOutcomes = []string{
	`msg="alpaca order placed"`, `msg="alpaca buy skipped: already held"`, `msg="alpaca sell skipped: nothing held"`,
	`msg="alpaca sell skipped: the buy order has not filled yet"`, `msg="alpaca order rejected"`,
	`msg="alpaca order already placed`, `msg="alpaca order failed; signal given up"`, `msg="signal dropped" sink=alpaca.order`,
}

func orderOutcomeCount(stderr string) int {
	n := 0
	for _, o := range orderOutcomes {
		n += strings.Count(stderr, o)
	}
	return n
}

// stream --orders paper against a trading API that answers 429 to every
// third request: the orders wait behind their queue, not in the pipeline,
// so no bar is dropped; no order is placed twice; and every signal is
// placed, skipped, or counted and logged.
func TestStreamOrdersRateLimited(t *testing.T) {
	// The fake knows the synthetic symbols' assets from a bar of each.
	srv := alpacatest.NewServer(alpacatest.Options{Bars: []market.Bar{
		{Symbol: "SYM1", Time: alpT0, Open: 100, High: 100, Low: 100, Close: 100, Volume: 1},
		{Symbol: "SYM2", Time: alpT0, Open: 100, High: 100, Low: 100, Close: 100, Volume: 1}}})
	defer srv.Close()
	srv.SetFaults(alpacatest.Faults{FailEvery: 3, FailStatus: 429})
	stdout, stderr, code := cmdline(t, "stream", "--listen", "127.0.0.1:0", "--synthetic-symbols", "2", "--rate", "200",
		"--duration", "1500ms", "--format", "jsonl", "--orders", "paper", "--key", alpacatest.Key, "--secret", alpacatest.Secret,
		"--base-url", srv.TradingURL)
	require.Equal(t, exitOK, code, stderr)
	t.Log(lastLines(stderr, 4))

	bars := summaryCount(t, stderr, "tickflow: stopped after", "bars,")
	assert.Greater(t, bars, 250, "the feed ran at its rate")
	assert.Zero(t, summaryCount(t, stderr, "tickflow: stopped after", "bars dropped by overload"))

	signals := signalLines(stdout)
	require.Greater(t, signals, 2)
	assert.Equal(t, signals, orderOutcomeCount(stderr), "every signal placed, skipped, or counted and logged")

	st := srv.Stats()
	assert.Zero(t, st.OrdersRejected, "no order posted twice")
	ids := map[string]bool{}
	for _, o := range srv.Orders() {
		assert.False(t, ids[o.ClientOrderID], "order %s placed twice", o.ClientOrderID)
		ids[o.ClientOrderID] = true
	}
	assert.Equal(t, strings.Count(stderr, `msg="alpaca order placed"`), len(ids))
	assert.Greater(t, st.FailedRequests, 0, "the fake refused requests")
}

// streamWhile runs stream with args, calls check with the dashboard's base
// URL while it streams, then stops it as Ctrl-C does and returns its output
// and exit code.
func streamWhile(t *testing.T, args []string, check func(base string)) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &syncBuffer{}
	stderr := &syncBuffer{addr: make(chan string, 1)}
	addr := stderr.addr
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"tickflow", "stream", "--listen", "127.0.0.1:0", "--format", "jsonl"}, args...), stdout, stderr)
	}()
	select {
	case base := <-addr:
		check(base)
	case code := <-done:
		t.Fatalf("stream exited with %d before serving: %s", code, stderr.String())
	}
	cancel()
	code := <-done
	return stdout.String(), stderr.String(), code
}

// healthUntil polls /healthz until ok(status, body) or 20 s pass; it
// returns the last answer.
func healthUntil(t *testing.T, base string, ok func(code int, body string) bool) (int, string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		code, body := getBody(t, base+"healthz")
		if ok(code, body) || time.Now().After(deadline) {
			return code, body
		}
		<-tick.C
	}
}

// A trading URL that refuses connections does not stop the stream: each
// failed order is counted and logged, /healthz shows the failure, and the
// run ends as asked.
func TestStreamOrdersRefusedURLGoesOn(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + ln.Addr().String()
	ln.Close() // nothing listens
	stdout, stderr, code := streamWhile(t, []string{"--synthetic-symbols", "2", "--rate", "400", "--stale-after", "30s",
		"--orders", "paper", "--key", alpacatest.Key, "--secret", alpacatest.Secret, "--base-url", refused, "--retry-attempts", "0"},
		func(base string) {
			code, body := healthUntil(t, base, func(code int, body string) bool {
				return code == http.StatusServiceUnavailable && strings.Contains(body, "alpaca")
			})
			assert.Equal(t, http.StatusServiceUnavailable, code, "/healthz while every order fails: %s", body)
			assert.Contains(t, body, "network")
			_, metrics := getBody(t, base+"metrics")
			for _, series := range []string{`tickflow_concurrency_limit{operation_type="alpaca.order"}`,
				`tickflow_sink_queued_items{sink="alpaca.order"}`, `tickflow_discarded_total{operation_type="alpaca.order",reason="order_failed"}`} {
				assert.Contains(t, metrics, series)
			}
		})
	require.Equal(t, exitInterrupted, code, stderr)
	t.Log(lastLines(stderr, 4))
	assert.Zero(t, summaryCount(t, stderr, "tickflow: stopped after", "bars dropped by overload"))
	signals := signalLines(stdout)
	require.Greater(t, signals, 2)
	assert.Equal(t, signals, orderOutcomeCount(stderr), "every signal counted and logged")
	assert.Greater(t, strings.Count(stderr, "alpaca order failed"), 0)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// stream --webhook against an endpoint failing every other request: every
// signal is delivered within the retry policy or counted, and /healthz
// reflects the endpoint.
func TestStreamWebhookFailingHalf(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if n.Add(1)%2 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	stdout, stderr, code := cmdline(t, "stream", "--listen", "127.0.0.1:0", "--synthetic-symbols", "2", "--rate", "200",
		"--duration", "1500ms", "--format", "jsonl", "--webhook", srv.URL, "--webhook-rate", "1000", "--webhook-burst", "100")
	require.Equal(t, exitOK, code, stderr)
	t.Log(lastLines(stderr, 3))
	signals := signalLines(stdout)
	require.Greater(t, signals, 2)
	const p = "tickflow: webhook:"
	delivered := summaryCount(t, stderr, p, "delivered")
	accounted := delivered + summaryCount(t, stderr, p, "given up") + summaryCount(t, stderr, p, "dropped by a full queue") +
		summaryCount(t, stderr, p, "discarded at stop")
	assert.Equal(t, signals, accounted, "every signal delivered or counted")
	assert.Equal(t, signals, delivered, "at 50 %% failures the retries deliver every signal")
	assert.Zero(t, summaryCount(t, stderr, "tickflow: stopped after", "bars dropped by overload"))
}

// A hanging webhook makes /healthz fail long before its request times
// out; once it answers again, the queued signals are delivered, and every
// signal is accounted for.
func TestStreamWebhookHangingIsUnhealthy(t *testing.T) {
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	stdout, stderr, code := streamWhile(t, []string{"--synthetic-symbols", "2", "--rate", "400", "--stale-after", "30s",
		"--webhook", srv.URL, "--request-timeout", "1m", "--webhook-rate", "10000", "--webhook-burst", "10000"},
		func(base string) {
			code, body := healthUntil(t, base, func(code int, body string) bool { return code == http.StatusServiceUnavailable })
			assert.Equal(t, http.StatusServiceUnavailable, code, "/healthz with the webhook hanging: %s", body)
			assert.Contains(t, body, "waited")
			free()
			code, body = healthUntil(t, base, func(code int, body string) bool { return code == http.StatusOK })
			assert.Equal(t, http.StatusOK, code, "/healthz once the webhook answers: %s", body)
		})
	require.Equal(t, exitInterrupted, code, stderr)
	t.Log(lastLines(stderr, 2))
	signals := signalLines(stdout)
	require.Greater(t, signals, 2)
	const p = "tickflow: webhook:"
	accounted := summaryCount(t, stderr, p, "delivered") + summaryCount(t, stderr, p, "given up") +
		summaryCount(t, stderr, p, "dropped by a full queue") + summaryCount(t, stderr, p, "discarded at stop")
	assert.Equal(t, signals, accounted, "every signal delivered or counted")
	assert.Zero(t, summaryCount(t, stderr, "tickflow: stopped after", "bars dropped by overload"))
}
