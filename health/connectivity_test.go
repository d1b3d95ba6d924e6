package health_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/market"
)

// unreachable fails every request with a network error while down is set,
// as a machine without a route to Alpaca does.
type unreachable struct {
	down *atomic.Bool
	next http.RoundTripper
}

func (u unreachable) RoundTrip(r *http.Request) (*http.Response, error) {
	if u.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("no such host")}
	}
	return u.next.RoundTrip(r)
}

type discardEmitter struct{ fails atomic.Int32 }

func (*discardEmitter) Emit(market.Event) error { return nil }
func (*discardEmitter) Flush() error            { return nil }
func (d *discardEmitter) Fail(string, error)    { d.fails.Add(1) }

// api_connectivity follows the last real outcome of Alpaca's requests: it
// fails as soon as a request finds Alpaca unreachable (whatever the circuit
// breaker says) and passes again once a request gets through.
func TestAPIConnectivityFollowsAlpaca(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	srv := alpacatest.NewServer(alpacatest.Options{Bars: []market.Bar{
		{Symbol: "AAPL", Time: t0, Open: 1, High: 1, Low: 1, Close: 1, Volume: 1}}})
	defer srv.Close()
	var down atomic.Bool
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	mon := health.New(health.Options{})
	mon.Start()
	client, err := alpaca.NewClient(alpaca.Config{KeyID: alpacatest.Key, SecretKey: alpacatest.Secret, DataURL: srv.DataURL,
		Transport: unreachable{&down, tr}, Retry: alpaca.RetryPolicy{Attempts: -1}, BreakerFailures: 1000, Observer: mon})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func() {
		t.Helper()
		src := &alpaca.Bars{Client: client, Symbols: []string{"AAPL"}, Start: t0, End: t0.Add(time.Hour)}
		if err := src.Produce(context.Background(), &discardEmitter{}); err != nil {
			t.Fatal(err)
		}
	}
	check := func(wantOK bool, want string) {
		t.Helper()
		s := mon.Check(context.Background()).Checks[health.APIConnectivity]
		if s.OK != wantOK || !strings.Contains(s.Reason, want) {
			t.Fatalf("api_connectivity = %+v, want ok=%v mentioning %q", s, wantOK, want)
		}
	}
	fetch()
	check(true, "alpaca reachable")
	down.Store(true)
	fetch()
	check(false, "alpaca: last alpaca.rest failed (network)")
	if client.BreakerState() != "closed" {
		t.Fatalf("breaker %s: the check must not depend on it", client.BreakerState())
	}
	down.Store(false)
	fetch()
	check(true, "alpaca reachable")
}
