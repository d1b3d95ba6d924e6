//go:build full

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/alpaca/alpacatest"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/nats/natsembed"
	"github.com/tickflow/tickflow/store"
)

// testBus is a bus for one test: the machine's server when
// TICKFLOW_TEST_NATS is set, else an embedded one; a namespace of its own
// keeps tests (and other users of the server) apart.
type testBus struct {
	url string
	ns  string
	js  jetstream.JetStream
}

func newTestBus(t *testing.T) *testBus {
	t.Helper()
	url := os.Getenv("TICKFLOW_TEST_NATS")
	if url == "" {
		srv, err := natsembed.Start(natsembed.Config{Dir: t.TempDir()})
		require.NoError(t, err)
		t.Cleanup(srv.Shutdown)
		url = srv.URL()
	}
	nc, js, err := nats.Connect(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &testBus{url: url, ns: "t" + hex.EncodeToString(b[:]), js: js}
}

// args are the flags that reach this test's bus.
func (b *testBus) args() []string { return []string{"--bus", b.url, "--bus-namespace", b.ns} }

// buildTickflow builds the command once for the test and returns its path.
func buildTickflow(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tickflow")
	out, err := exec.Command("go", "build", "-tags", "full", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// process runs bin to its end and returns its stdout; a failure fails t
// with its stderr.
func process(t *testing.T, bin string, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	require.NoError(t, cmd.Run(), "tickflow %s: %s", strings.Join(args, " "), errOut.String())
	return out.String()
}

// signalKey is what must agree between outputs: everything a signal says
// but its indicator values (the JSON lines do not carry them).
func signalKey(s market.Signal) string {
	return fmt.Sprintf("%s %s %s %v %s", s.Symbol, s.Time.UTC().Format(time.RFC3339Nano), s.Side, s.Price, s.Reason)
}

// signalsBySymbol groups signals' keys per symbol, in the order given.
type signalsBySymbol map[string][]string

func (m signalsBySymbol) add(s market.Signal) { m[s.Symbol] = append(m[s.Symbol], signalKey(s)) }

func (m signalsBySymbol) count() (n int) {
	for _, v := range m {
		n += len(v)
	}
	return n
}

// jsonlSignals reads the signals of --format jsonl --emit signals output.
func jsonlSignals(t *testing.T, out string, into signalsBySymbol) {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for line := 1; sc.Scan(); line++ {
		var s market.Signal
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s), "line %d: %s", line, sc.Text())
		into.add(s)
	}
	require.NoError(t, sc.Err())
}

// journalSignals reads a journal, in the journal's order (by time), which
// keeps each symbol's order.
func journalSignals(t *testing.T, url string, into signalsBySymbol) {
	t.Helper()
	st, err := store.OpenExisting(context.Background(), url)
	require.NoError(t, err)
	defer st.Close()
	for e, err := range st.Signals(context.Background(), store.SignalQuery{}) {
		require.NoError(t, err)
		into.add(e.Signal)
	}
}

// streamSignals reads the signals stream in stream order.
func streamSignals(t *testing.T, b *testBus) signalsBySymbol {
	t.Helper()
	out := signalsBySymbol{}
	for data := range streamMessages(t, b, nats.Namespace(b.ns).SignalsStream()) {
		var s market.Signal
		require.NoError(t, json.Unmarshal(data, &s))
		out.add(s)
	}
	return out
}

// streamMessages returns the data of every message of a stream, in order.
func streamMessages(t *testing.T, b *testBus, name string) func(func([]byte) bool) {
	t.Helper()
	ctx := context.Background()
	s, err := b.js.Stream(ctx, name)
	require.NoError(t, err)
	info, err := s.Info(ctx)
	require.NoError(t, err)
	return func(yield func([]byte) bool) {
		for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			require.NoError(t, err)
			if !yield(m.Data) {
				return
			}
		}
	}
}

// expectedSignals is tickflow run --csv over the same bars, in one process.
func expectedSignals(t *testing.T, csvArgs ...string) signalsBySymbol {
	t.Helper()
	out, errOut, code := cmdline(t, append([]string{"run", "--format", "jsonl", "--emit", "signals"}, csvArgs...)...)
	require.Equal(t, exitOK, code, errOut)
	want := signalsBySymbol{}
	jsonlSignals(t, out, want)
	require.NotZero(t, want.count(), "the test needs signals to compare")
	return want
}

// inputs are the bars the scale-out tests publish: the recorded ones and a
// 1,000-symbol synthetic set.
func busInputs(t *testing.T) map[string]func(t *testing.T) []string {
	return map[string]func(t *testing.T) []string{
		"recorded": func(t *testing.T) []string {
			const dir = "../../../shared/data"
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("no recorded bars at %s: %v", dir, err)
			}
			// btcusdt-1h.csv repeats an hour: skipped the same way on both sides.
			return []string{"--csv", dir, "--skip-bad-rows"}
		},
		"1000 synthetic symbols": func(t *testing.T) []string {
			return []string{"--csv", writeSynthetic(t, t.TempDir(), 1000, 300)}
		},
	}
}

// TestBusWorkersEqualRun: three worker processes sharing the partitions
// write, to their journals, the signals stream and stdout, what one run
// --csv writes, per symbol and in order.
func TestBusWorkersEqualRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs processes")
	}
	bin := buildTickflow(t)
	for name, in := range busInputs(t) {
		t.Run(name, func(t *testing.T) {
			csvArgs := in(t)
			want := expectedSignals(t, csvArgs...)
			b := newTestBus(t)
			process(t, bin, append(append([]string{"ingest", "--partitions", "6"}, b.args()...), csvArgs...)...)

			dir := t.TempDir()
			type result struct {
				out string
				err error
			}
			parts := []string{"0-1", "2-3", "4-5"}
			results := make(chan result, len(parts))
			for i, p := range parts {
				cmd := exec.Command(bin, append([]string{"run", "--until-caught-up", "--partition", p, "--format", "jsonl", "--emit", "signals",
					"--journal", fmt.Sprintf("sqlite:%s/w%d.db", dir, i)}, b.args()...)...)
				var out, errOut bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errOut
				require.NoError(t, cmd.Start())
				go func() {
					err := cmd.Wait()
					if err != nil {
						err = fmt.Errorf("worker %s: %w: %s", p, err, errOut.String())
					}
					results <- result{out.String(), err}
				}()
			}
			stdout := signalsBySymbol{}
			for range parts {
				r := <-results
				require.NoError(t, r.err)
				jsonlSignals(t, r.out, stdout)
			}
			journal := signalsBySymbol{}
			for i := range parts {
				journalSignals(t, fmt.Sprintf("sqlite:%s/w%d.db", dir, i), journal)
			}
			assert.Equal(t, want, stdout, "stdout")
			assert.Equal(t, want, journal, "journals")
			assert.Equal(t, want, streamSignals(t, b), "signals stream")
		})
	}
}

// TestBusWorkerSurvivesSIGKILL: a worker killed at random points while it
// has work left, at least ten times, and restarted under its name, leaves
// in its journal and on the signals stream what an uninterrupted run
// writes: nothing lost, doubled or reordered.
func TestBusWorkerSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs processes")
	}
	killedWorkers(t, 1000, 600, nil, afterRandomDelay, func(i int, p, journal string) []string {
		return []string{"run", "--until-caught-up", "--partition", p, "--format", "jsonl", "--emit", "signals",
			"--worker-id", fmt.Sprintf("worker-%d", i), "--journal", journal}
	})
}

// TestBusStreamOrdersSurviveSIGKILL: three stream --bus workers place
// paper orders at the fake Alpaca while one of them is killed at random
// points, at least ten times, and restarted: the fake holds each order of
// an uninterrupted run once (by client order id) and in each symbol's
// order, and the journals and the signals stream hold each signal once.
func TestBusStreamOrdersSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs processes")
	}
	const symbols = 300
	// The killed worker has a fake of its own, so that its kill points
	// count its own orders; the two others share one.
	killed := alpacatest.NewServer(alpacatest.Options{BuyingPower: 1e12})
	defer killed.Close()
	shared := alpacatest.NewServer(alpacatest.Options{BuyingPower: 1e12})
	defer shared.Close()
	fakeOf := func(i int) *alpacatest.Server {
		if i == 2 {
			return killed
		}
		return shared
	}
	// A fake fills a market order at the symbol's last close: one bar each.
	prices := func(want map[string][]market.Signal) {
		for symbol := range want {
			bar := market.Bar{Symbol: symbol, Time: time.Unix(0, 0).UTC(), Open: 100, High: 100, Low: 100, Close: 100, Volume: 1}
			killed.AddBars(bar)
			shared.AddBars(bar)
		}
	}
	// Each kill falls after a random number of the killed worker's orders
	// from the attempt's start, so every one lands while orders are placed.
	afterOrders := func(ctx context.Context, rng *mathrand.Rand) (<-chan struct{}, string) {
		base, k := killed.Stats().OrdersPlaced, 1+rng.IntN(40)
		point := make(chan struct{})
		go func() {
			if killed.Wait(ctx, func(s alpacatest.Stats) bool { return s.OrdersPlaced >= base+k }) == nil {
				close(point)
			}
		}()
		return point, fmt.Sprintf("after %d orders", k)
	}
	want := killedWorkers(t, symbols, 600, prices, afterOrders, func(i int, p, journal string) []string {
		return []string{"stream", "--until-caught-up", "--partition", p, "--listen", "127.0.0.1:0", "--stale-after", "1h",
			"--format", "jsonl", "--emit", "signals", "--worker-id", fmt.Sprintf("worker-%d", i), "--journal", journal,
			"--orders", "paper", "--key", alpacatest.Key, "--secret", alpacatest.Secret, "--base-url", fakeOf(i).TradingURL}
	})

	// An uninterrupted run's orders: long only, one share, a buy when flat
	// and a sell when held (alpaca.Orders' rule), per symbol in order.
	wantOrders := map[string][]string{}
	for symbol, sigs := range want {
		held := false
		for _, s := range sigs {
			if (s.Side == market.Buy) != held {
				held = !held
				wantOrders[symbol] = append(wantOrders[symbol], s.Side.String()+" "+alpaca.ClientOrderID("tf", &s))
			}
		}
	}
	gotOrders := map[string][]string{}
	ids := map[string]int{}
	n := 0
	for _, o := range append(shared.Orders(), killed.Orders()...) {
		gotOrders[o.Symbol] = append(gotOrders[o.Symbol], o.Side+" "+o.ClientOrderID)
		ids[o.ClientOrderID]++
		n++
	}
	require.NotZero(t, n, "no order placed: the test would prove nothing")
	for id, k := range ids {
		assert.Equal(t, 1, k, "client order id %s placed %d times", id, k)
	}
	assert.Equal(t, wantOrders, gotOrders, "orders at the fake, per symbol in order")
	st := killed.Stats()
	t.Logf("the killed worker's fake: %d orders placed, %d posts refused (a client order id placed before a kill)", st.OrdersPlaced, st.OrdersRejected)
}

// afterRandomDelay is a kill point from 0 to 250ms after a worker owns its
// partitions.
func afterRandomDelay(ctx context.Context, rng *mathrand.Rand) (<-chan struct{}, string) {
	d := time.Duration(rng.IntN(250)) * time.Millisecond
	point := make(chan struct{})
	go func() {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			close(point)
		case <-ctx.Done():
		}
	}()
	return point, fmt.Sprintf("after %v", d)
}

// killedWorkers ingests a synthetic set into 6 partitions and runs three
// worker processes of args (worker i over partitions p, journaling to
// journal): two undisturbed, on partitions 0 and 1, and one on the others
// that is SIGKILLed at random points at least ten times while it has work
// left (at the points killPoint chooses, closing the channel it returns
// until ctx ends, and describing the point), and restarted. Their journals and the signals stream must then
// hold run --csv's signals, once each and per symbol in order; it returns
// those signals, which setup, if set, is given before the workers start.
func killedWorkers(t *testing.T, symbols, bars int, setup func(map[string][]market.Signal),
	killPoint func(context.Context, *mathrand.Rand) (<-chan struct{}, string), args func(i int, p, journal string) []string) map[string][]market.Signal {
	t.Helper()
	bin := buildTickflow(t)
	csvArgs := []string{"--csv", writeSynthetic(t, t.TempDir(), symbols, bars)}
	out, errOut, code := cmdline(t, append([]string{"run", "--format", "jsonl", "--emit", "signals"}, csvArgs...)...)
	require.Equal(t, exitOK, code, errOut)
	wantSignals := map[string][]market.Signal{}
	want := signalsBySymbol{}
	for line := range strings.Lines(out) {
		var s market.Signal
		require.NoError(t, json.Unmarshal([]byte(line), &s))
		wantSignals[s.Symbol] = append(wantSignals[s.Symbol], s)
		want.add(s)
	}
	require.NotZero(t, want.count(), "the test needs signals to compare")
	if setup != nil {
		setup(wantSignals)
	}
	b := newTestBus(t)
	const partitions = 6
	process(t, bin, append(append([]string{"ingest", "--partitions", fmt.Sprint(partitions)}, b.args()...), csvArgs...)...)

	dir := t.TempDir()
	journalOf := func(i int) string { return fmt.Sprintf("sqlite:%s/w%d.db", dir, i) }
	worker := func(i int, p string) []string { return append(args(i, p, journalOf(i)), b.args()...) }
	// Two workers run undisturbed beside the one killed, which owns the
	// other partitions: most of the work.
	others := make(chan error, 2)
	for i, p := range []string{"0", "1"} {
		cmd := exec.Command(bin, worker(i, p)...)
		var errOut bytes.Buffer
		cmd.Stderr = &errOut
		require.NoError(t, cmd.Start())
		go func() {
			err := cmd.Wait()
			if err != nil {
				err = fmt.Errorf("worker %s: %w: %s", p, err, errOut.String())
			}
			others <- err
		}()
	}
	var owed int
	for symbol, keys := range want {
		if nats.Partition(symbol, partitions) >= 2 {
			owed += len(keys)
		}
	}
	journaled := func() int {
		if _, err := os.Stat(filepath.Join(dir, "w2.db")); err != nil {
			return 0 // killed before it opened its journal
		}
		got := signalsBySymbol{}
		journalSignals(t, journalOf(2), got)
		return got.count()
	}

	rng := mathrand.New(mathrand.NewPCG(uint64(time.Now().UnixNano()), 7))
	kills := 0
	for attempt := 0; kills < 10; attempt++ {
		require.Less(t, attempt, 40, "only %d kills landed while the worker had work left", kills)
		cmd := exec.Command(bin, worker(2, "2-5")...)
		errOut := &markWriter{mark: "tickflow: worker worker-2 owns", seen: make(chan struct{})}
		cmd.Stderr = errOut
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// The random point is counted from the moment the worker owns its
		// partitions, so that it falls while the worker works.
		select {
		case <-errOut.seen:
		case err := <-done:
			require.FailNowf(t, "the worker ended before it owned its partitions", "%v: %s", err, errOut.String())
		}
		pctx, stopPoint := context.WithCancel(context.Background())
		point, at := killPoint(pctx, rng)
		select {
		case err := <-done:
			stopPoint()
			require.NoError(t, err, errOut.String())
			require.FailNowf(t, "the worker finished before ten kills", "after %d kills (attempt %d, kill due %s)", kills, attempt, at)
		case <-point:
			stopPoint()
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			err := <-done
			var exit *exec.ExitError
			require.True(t, errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signaled(), "not killed: %v: %s", err, errOut.String())
			if n := journaled(); n < owed {
				kills++
				t.Logf("kill %d %s: %d of %d signals journaled", kills, at, n, owed)
			}
		}
	}
	process(t, bin, worker(2, "2-5")...)
	for range 2 {
		require.NoError(t, <-others)
	}

	journal := signalsBySymbol{}
	for i := range 3 {
		journalSignals(t, journalOf(i), journal)
	}
	assert.Equal(t, want, journal, "journals after %d kills", kills)
	assert.Equal(t, want, streamSignals(t, b), "signals stream after %d kills", kills)
	return wantSignals
}

// markWriter keeps what is written and closes seen once it holds mark.
type markWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	mark string
	seen chan struct{}
	done bool
}

func (w *markWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if !w.done && strings.Contains(w.buf.String(), w.mark) {
		w.done = true
		close(w.seen)
	}
	return n, err
}

func (w *markWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestIngestKilledAndRerun: an ingest killed part-way and run again stores
// every bar once, in order per symbol.
func TestIngestKilledAndRerun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs processes")
	}
	bin := buildTickflow(t)
	const symbols, bars = 1000, 400
	csvArgs := []string{"--csv", writeSynthetic(t, t.TempDir(), symbols, bars)}
	b := newTestBus(t)
	args := append(append([]string{"ingest", "--partitions", "6"}, b.args()...), csvArgs...)

	cmd := exec.Command(bin, args...)
	require.NoError(t, cmd.Start())
	time.AfterFunc(time.Duration(50+mathrand.IntN(200))*time.Millisecond, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
	_ = cmd.Wait() // killed, or done first: the rerun must add nothing either way
	process(t, bin, args...)

	last := map[string]time.Time{}
	n := 0
	for data := range streamMessages(t, b, nats.Namespace(b.ns).BarsStream()) {
		symbol, got, err := nats.DecodeBars(data, nil)
		require.NoError(t, err)
		for _, bar := range got {
			require.True(t, bar.Time.After(last[symbol]), "%s: bar at %s after one at %s: duplicated or reordered", symbol, bar.Time, last[symbol])
			last[symbol] = bar.Time
			n++
		}
	}
	assert.Len(t, last, symbols)
	assert.Equal(t, symbols*bars, n, "bars in the stream")
}

// TestBusBadInput: a malformed bus URL is a usage error (exit 2), an
// unreachable bus a failure (exit 1), each one line naming the bus.
func TestBusBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"malformed URL", []string{"run", "--bus", "localhost"}, exitUsage, `--bus: "localhost": want nats://HOST:PORT`},
		{"no port", []string{"ingest", "--bus", "nats://localhost"}, exitUsage, `want nats://HOST:PORT`},
		{"unreachable", []string{"run", "--bus", "nats://127.0.0.1:1"}, exitFailure, "--bus nats://127.0.0.1:1:"},
		{"bus-dir without embedded", []string{"run", "--bus", "nats://127.0.0.1:1", "--bus-dir", "x"}, exitUsage, "--bus-dir"},
		{"bus with csv", []string{"run", "--bus", "nats://127.0.0.1:1", "--csv", "x.csv"}, exitUsage, "drop --csv"},
		{"ingest without bus", []string{"ingest"}, exitUsage, "ingest needs --bus"},
		{"partitions", []string{"ingest", "--bus", "nats://127.0.0.1:1", "--partitions", "0"}, exitUsage, "--partitions: must be from 1"},
		{"replicas", []string{"ingest", "--bus", "nats://127.0.0.1:1", "--replicas", "7"}, exitUsage, "--replicas: must be from 1 to 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errOut, code := cmdline(t, tc.args...)
			assert.Equal(t, tc.code, code, errOut)
			assert.Contains(t, errOut, tc.msg)
			assert.Equal(t, 1, strings.Count(strings.TrimSpace(errOut), "\n")+1, "one line: %s", errOut)
		})
	}
}

// TestBusLayoutMismatch: ingest into a stream made with another number of
// partitions, and a worker's --partition beyond the stream's, are refused.
func TestBusLayoutMismatch(t *testing.T) {
	b := newTestBus(t)
	_, errOut, code := cmdline(t, append([]string{"ingest", "--partitions", "4", "--synthetic-symbols", "3", "--synthetic-bars", "100"}, b.args()...)...)
	require.Equal(t, exitOK, code, errOut)

	_, errOut, code = cmdline(t, append([]string{"ingest", "--partitions", "8", "--synthetic-symbols", "3"}, b.args()...)...)
	assert.Equal(t, exitFailure, code, errOut)
	assert.Contains(t, errOut, "--bus:")

	// Without --partitions, ingest takes the stream's.
	_, errOut, code = cmdline(t, append([]string{"ingest", "--synthetic-symbols", "3", "--synthetic-bars", "100"}, b.args()...)...)
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, "to 4 partitions")

	_, errOut, code = cmdline(t, append([]string{"run", "--until-caught-up", "--partition", "4"}, b.args()...)...)
	assert.Equal(t, exitUsage, code, errOut)
	assert.Contains(t, errOut, "--partition:")
}

// TestBusEmbedded: ingest and a worker on --bus embedded, one after the
// other on one data folder, give run's signals.
func TestBusEmbedded(t *testing.T) {
	dir := t.TempDir()
	in := []string{"--synthetic-symbols", "7", "--synthetic-bars", "1500"}
	want := expectedSignals(t, in...)
	_, errOut, code := cmdline(t, append([]string{"ingest", "--bus", "embedded", "--bus-dir", dir, "--partitions", "3"}, in...)...)
	require.Equal(t, exitOK, code, errOut)
	out, errOut, code := cmdline(t, "run", "--bus", "embedded", "--bus-dir", dir, "--until-caught-up", "--format", "jsonl", "--emit", "signals")
	require.Equal(t, exitOK, code, errOut)
	got := signalsBySymbol{}
	jsonlSignals(t, out, got)
	assert.Equal(t, want, got)

	// A second worker over committed partitions replays and writes nothing.
	out, errOut, code = cmdline(t, "run", "--bus", "embedded", "--bus-dir", dir, "--until-caught-up", "--format", "jsonl", "--emit", "signals")
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, out)
}

func TestBusPartitionList(t *testing.T) {
	for _, tc := range []struct {
		in   []int
		want string
	}{
		{nil, ""}, {[]int{0}, "0"}, {[]int{0, 1, 2}, "0-2"}, {[]int{0, 2, 3, 5}, "0,2-3,5"},
	} {
		assert.Equal(t, tc.want, partitionList(tc.in))
		if tc.want != "" {
			back, err := nats.ParsePartitions(tc.want, 10)
			require.NoError(t, err)
			assert.Equal(t, tc.in, back)
		}
	}
}

// waitFor polls cond until it holds or the deadline passes: the command
// runs in other goroutines and talks to a real server.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out waiting for %s", what)
		time.Sleep(10 * time.Millisecond)
	}
}

// TestBusWorkerWaitsForALease: a worker pinned to a partition that another
// holds waits, and takes it as soon as the holder stops and releases it.
func TestBusWorkerWaitsForALease(t *testing.T) {
	b := newTestBus(t)
	in := []string{"--synthetic-symbols", "4", "--synthetic-bars", "1000"}
	want := expectedSignals(t, in...)
	_, errOut, code := cmdline(t, append([]string{"ingest", "--partitions", "1"}, append(b.args(), in...)...)...)
	require.Equal(t, exitOK, code, errOut)

	// The holder follows the stream live until stopped; it prints nothing
	// of its own, having committed nothing yet, so its stdout is the
	// whole history's signals.
	holderCtx, stopHolder := context.WithCancel(context.Background())
	defer stopHolder()
	var holderOut, holderErr, waiterOut, waiterErr syncBuffer
	holderDone := make(chan int, 1)
	go func() {
		holderDone <- run(holderCtx, append([]string{"tickflow", "run", "--partition", "0", "--worker-id", "holder", "--format", "jsonl", "--emit", "signals"}, b.args()...), &holderOut, &holderErr)
	}()
	waitFor(t, "the holder to claim partition 0", func() bool { return strings.Contains(holderErr.String(), "owns 1 partition") })

	waiterDone := make(chan int, 1)
	go func() {
		waiterDone <- run(context.Background(), append([]string{"tickflow", "run", "--partition", "0", "--worker-id", "waiter", "--until-caught-up", "--format", "jsonl", "--emit", "signals"}, b.args()...), &waiterOut, &waiterErr)
	}()
	waitFor(t, "the waiter to wait", func() bool { return strings.Contains(waiterErr.String(), "partition 0 is held by another worker") })
	waitFor(t, "the holder to write every signal", func() bool { return strings.Count(holderOut.String(), "\n") == want.count() })

	stopHolder()
	assert.Equal(t, exitInterrupted, <-holderDone, holderErr.String())
	assert.Equal(t, exitOK, <-waiterDone, waiterErr.String())
	got := signalsBySymbol{}
	jsonlSignals(t, holderOut.String(), got)
	assert.Equal(t, want, got)
	// The holder committed everything before it stopped: the waiter
	// replays and has nothing to write.
	assert.Empty(t, waiterOut.String())
}

// TestBusStream: stream --bus works the bus's partitions live, serving the
// bus's metrics and health check, and writes run's signals to the signals
// stream.
func TestBusStream(t *testing.T) {
	b := newTestBus(t)
	in := []string{"--synthetic-symbols", "6", "--synthetic-bars", "1000"}
	want := expectedSignals(t, in...)
	_, errOut, code := cmdline(t, append([]string{"ingest", "--partitions", "2"}, append(b.args(), in...)...)...)
	require.Equal(t, exitOK, code, errOut)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := &syncBuffer{}, &syncBuffer{addr: make(chan string, 1)}
	addr := stderr.addr
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"tickflow", "stream", "--listen", "127.0.0.1:0", "--stale-after", "1h", "--format", "jsonl"}, b.args()...), stdout, stderr)
	}()
	var base string
	select {
	case base = <-addr:
	case code := <-done:
		t.Fatalf("stream exited with %d before serving: %s", code, stderr.String())
	}
	waitFor(t, "every signal on stdout", func() bool { return strings.Count(stdout.String(), "\n") == want.count() })
	waitFor(t, "no lag in /metrics", func() bool {
		_, body := getBody(t, base+"metrics")
		return strings.Contains(body, `tickflow_bus_consumer_lag_messages{partition="0"} 0`) &&
			strings.Contains(body, `tickflow_bus_consumer_lag_messages{partition="1"} 0`)
	})
	_, body := getBody(t, base+"metrics")
	for _, name := range []string{"tickflow_bus_redeliveries_total 0", "tickflow_bus_publish_errors_total 0", "tickflow_bus_acks_total",
		`async_operation_duration_seconds_count{operation_type="bus_ack"}`, `async_operation_duration_seconds_count{operation_type="bus_publish"}`,
		`async_errors_total{error_type="network",operation_type="bus_publish"} 0`} {
		assert.Contains(t, body, name)
	}
	assert.NotContains(t, body, `async_operation_duration_seconds_count{operation_type="bus_ack"} 0`+"\n", "every message was committed live")
	hc, hbody := getBody(t, base+"healthz")
	assert.Equal(t, http.StatusOK, hc, hbody)
	assert.Contains(t, hbody, "bus")

	cancel()
	assert.Equal(t, exitInterrupted, <-done, stderr.String())
	got := signalsBySymbol{}
	jsonlSignals(t, stdout.String(), got)
	assert.Equal(t, want, got, "stdout")
	assert.Equal(t, want, streamSignals(t, b), "signals stream")
}

// TestIngestLive: ingest --live publishes a live feed until stopped, each
// bar within the linger; a worker then reads every bar it published.
func TestIngestLive(t *testing.T) {
	b := newTestBus(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"tickflow", "ingest", "--live", "--synthetic-symbols", "3", "--rate", "300", "--partitions", "2"}, b.args()...), &syncBuffer{}, &stderr)
	}()
	barsStored := func() uint64 {
		s, err := b.js.Stream(context.Background(), nats.Namespace(b.ns).BarsStream())
		if err != nil {
			return 0
		}
		info, err := s.Info(context.Background())
		if err != nil {
			return 0
		}
		return info.State.Msgs
	}
	// Messages of 256 bars would take 2.5s at 100 bars/s a symbol: these
	// go out after the linger.
	waitFor(t, "live messages on the bus", func() bool { return barsStored() >= 6 })
	cancel()
	require.Equal(t, exitInterrupted, <-done, stderr.String())
	var published int
	require.Contains(t, stderr.String(), "published")
	_, err := fmt.Sscanf(stderr.String()[strings.Index(stderr.String(), "published"):], "published %d bars", &published)
	require.NoError(t, err, stderr.String())
	require.NotZero(t, published)

	_, errOut, code := cmdline(t, append([]string{"run", "--until-caught-up", "--format", "jsonl", "--emit", "signals"}, b.args()...)...)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, errOut, fmt.Sprintf("tickflow: %d bars", published))
}

// TestBusForeignMessage: a message on a bars subject that tickflow did not
// write fails its symbol with one line naming it, and the worker exits 1.
func TestBusForeignMessage(t *testing.T) {
	b := newTestBus(t)
	_, errOut, code := cmdline(t, append([]string{"ingest", "--partitions", "1", "--synthetic-symbols", "2", "--synthetic-bars", "100"}, b.args()...)...)
	require.Equal(t, exitOK, code, errOut)
	_, err := b.js.Publish(context.Background(), nats.Namespace(b.ns).BarsSubject(0, "EVIL"), []byte("hello"))
	require.NoError(t, err)

	_, errOut, code = cmdline(t, append([]string{"run", "--until-caught-up", "--format", "jsonl"}, b.args()...)...)
	assert.Equal(t, exitFailure, code, errOut)
	assert.Contains(t, errOut, nats.ErrForeignMessage.Error())
	assert.Contains(t, errOut, "EVIL")
}

// FuzzBusURL: checkBusURL never panics, and what it accepts has a scheme,
// host and port in each comma-separated part.
func FuzzBusURL(f *testing.F) {
	for _, s := range []string{"nats://127.0.0.1:4222", "nats://a:1,tls://b:2", "localhost", "nats://x", "", "nats://:1", "embedded"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if checkBusURL(raw) != nil {
			return
		}
		for _, one := range strings.Split(raw, ",") {
			if !strings.Contains(one, "://") || !strings.Contains(one, ":") {
				t.Fatalf("accepted %q (part %q)", raw, one)
			}
		}
	})
}

// FuzzBusPartitionList: partitionList writes what ParsePartitions reads
// back.
func FuzzBusPartitionList(f *testing.F) {
	f.Add([]byte{0, 1, 2, 5, 9})
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ps []int
		for p := range 256 {
			if bytes.IndexByte(raw, byte(p)) >= 0 {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			return
		}
		back, err := nats.ParsePartitions(partitionList(ps), 256)
		require.NoError(t, err)
		require.Equal(t, ps, back)
	})
}
