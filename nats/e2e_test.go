package nats_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	tickflow "github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

const testPartitions = 6

// ingest publishes src's bars to b's bars stream.
func ingest(ctx context.Context, b *bus, src pipeline.Source[market.Event]) (nats.PublisherStats, error) {
	if err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: testPartitions}); err != nil {
		return nats.PublisherStats{}, err
	}
	pub, err := nats.NewPublisher(ctx, b.js, nats.PublisherConfig{Namespace: b.ns, Partitions: testPartitions})
	if err != nil {
		return nats.PublisherStats{}, err
	}
	err = pipeline.New(pipeline.Config[market.Event]{}).From("source", src).To("nats", pub).Run(ctx)
	return pub.Stats(), err
}

// journal records signals the way the store's journal does: keyed by
// symbol, time and side, the first write wins.
type journal struct {
	mu     sync.Mutex
	seen   map[string]bool
	sigs   map[string][]market.Signal
	writes int
}

func newJournal() *journal {
	return &journal{seen: map[string]bool{}, sigs: map[string][]market.Signal{}}
}

func (j *journal) Write(_ context.Context, events []market.Event) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range events {
		if e.Signal == nil {
			return fmt.Errorf("journal: %s at %s: an event without a signal passed SignalsOnly", e.Symbol, e.Time)
		}
		j.writes++
		k := nats.SignalMsgID(*e.Signal)
		if !j.seen[k] {
			j.seen[k] = true
			j.sigs[e.Symbol] = append(j.sigs[e.Symbol], *e.Signal)
		}
	}
	return nil
}

func (j *journal) count() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.seen)
}

// reference is a single-process run's signals per symbol.
func reference(t *testing.T, src pipeline.Source[market.Event]) map[string][]market.Signal {
	t.Helper()
	j := newJournal()
	p, err := tickflow.New(src, j, tickflow.Config{Workers: 1, SignalsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, s := range j.sigs {
		n += len(s)
	}
	if n == 0 {
		t.Fatal("the reference run made no signal: the test would prove nothing")
	}
	return j.sigs
}

// worker runs one worker process's pipeline over parts until caught up.
func worker(ctx context.Context, b *bus, parts []int, inner pipeline.Sink[market.Event]) (*nats.Source, error) {
	src, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns, Partitions: parts,
		UntilCaughtUp: true, CommitInterval: time.Millisecond})
	if err != nil {
		return nil, err
	}
	return src, runWorker(ctx, b, src, inner)
}

// runWorker runs the StochRSI/EMA pipeline from src to inner and the
// signals stream.
func runWorker(ctx context.Context, b *bus, src *nats.Source, inner pipeline.Sink[market.Event]) error {
	sink := sinks.Tee(inner, &nats.SignalSink{JS: b.js, Namespace: b.ns})
	p, err := tickflow.New(src, src.CommitSink(sink, true), tickflow.Config{Workers: 2})
	if err != nil {
		return err
	}
	return p.Run(ctx)
}

// streamSignals reads the signals stream in order, per symbol.
func streamSignals(t *testing.T, b *bus) map[string][]market.Signal {
	t.Helper()
	ctx := testContext(t)
	cons, err := b.js.OrderedConsumer(ctx, b.ns.SignalsStream(), jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]market.Signal{}
	for left := info.NumPending; left > 0; {
		batch, err := cons.Fetch(int(min(left, 500)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			var s market.Signal
			if err := s.UnmarshalJSON(m.Data()); err != nil {
				t.Fatalf("signal on %s: %v", m.Subject(), err)
			}
			if m.Subject() != b.ns.SignalSubject(s.Symbol) {
				t.Fatalf("signal of %s on %s", s.Symbol, m.Subject())
			}
			out[s.Symbol] = append(out[s.Symbol], s)
			left--
		}
		if err := batch.Error(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func sameSignals(t *testing.T, what string, got, want map[string][]market.Signal) {
	t.Helper()
	syms := make([]string, 0, len(want))
	for s := range want {
		syms = append(syms, s)
	}
	sort.Strings(syms)
	for s := range got {
		if _, ok := want[s]; !ok {
			t.Errorf("%s: signals of %s, which the reference has none of", what, s)
		}
	}
	for _, sym := range syms {
		g, w := got[sym], want[sym]
		if len(g) != len(w) {
			t.Errorf("%s: %s: %d signals, want %d", what, sym, len(g), len(w))
			continue
		}
		for i := range w {
			a, b := g[i], w[i]
			if !a.Time.Equal(b.Time) || a.Side != b.Side || math.Float64bits(a.Price) != math.Float64bits(b.Price) ||
				a.Reason != b.Reason || a.Indicators != b.Indicators {
				t.Errorf("%s: %s signal %d = %+v, want %+v", what, sym, i, a, b)
				break
			}
		}
	}
}

// thirds splits the partitions among 3 workers.
func thirds() [][]int {
	w := make([][]int, 3)
	for p := range testPartitions {
		w[p%3] = append(w[p%3], p)
	}
	return w
}

func threeWorkers(t *testing.T, ctx context.Context, b *bus, j pipeline.Sink[market.Event]) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i, parts := range thirds() {
		wg.Go(func() { _, errs[i] = worker(ctx, b, parts, j) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
}

func synthetic(symbols, bars int) *sources.Synthetic {
	return &sources.Synthetic{Symbols: symbols, Bars: bars, Seed: 9, Tick: 0.01}
}

func TestThreeWorkersEqualOneProcess(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		want := reference(t, synthetic(1000, 150))
		st, err := ingest(ctx, b, synthetic(1000, 150))
		if err != nil {
			t.Fatal(err)
		}
		if st.Bars != 150000 {
			t.Fatalf("published %d bars, want 150000", st.Bars)
		}
		j := newJournal()
		threeWorkers(t, ctx, b, j)
		sameSignals(t, "journal", j.sigs, want)
		sameSignals(t, "signals stream", streamSignals(t, b), want)
	})
}

func sharedData(t *testing.T) []string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "data")
	files, _ := filepath.Glob(filepath.Join(dir, "*.csv"))
	if len(files) == 0 {
		t.Skipf("no recorded bars in %s (a clone without ../shared)", dir)
	}
	return files
}

func TestSharedDataThreeWorkers(t *testing.T) {
	files := sharedData(t)
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		csv := func() *sources.CSV { return &sources.CSV{Paths: files, SkipBadRows: true} }
		want := reference(t, csv())
		if _, err := ingest(ctx, b, csv()); err != nil {
			t.Fatal(err)
		}
		j := newJournal()
		threeWorkers(t, ctx, b, j)
		sameSignals(t, "journal", j.sigs, want)
		sameSignals(t, "signals stream", streamSignals(t, b), want)
	})
}

var errCrash = errors.New("crash")

// crashing fails its Write after a number of writes: the worker dies there,
// without a drain or a final commit.
type crashing struct {
	inner pipeline.Sink[market.Event]
	left  int
}

func (c *crashing) Write(ctx context.Context, events []market.Event) error {
	if c.left--; c.left < 0 {
		return errCrash
	}
	return c.inner.Write(ctx, events)
}

func TestWorkerCrashesLoseAndDuplicateNothing(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		want := reference(t, synthetic(200, 400))
		if _, err := ingest(ctx, b, synthetic(200, 400)); err != nil {
			t.Fatal(err)
		}
		j := newJournal()
		rng := rand.New(rand.NewPCG(1, 2))
		crashes, replayed := 0, int64(0)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i, parts := range thirds() {
			seed := rng.Uint64()
			wg.Go(func() {
				r := rand.New(rand.NewPCG(seed, uint64(i)))
				for attempt := 0; ; attempt++ {
					// Crash at a random write; from the 6th restart on, let it finish.
					left := math.MaxInt
					if attempt < 6 {
						left = r.IntN(40)
					}
					src, err := worker(ctx, b, parts, &crashing{inner: j, left: left})
					if err == nil {
						return
					}
					if !errors.Is(err, errCrash) {
						t.Errorf("worker %d: %v", i, err)
						return
					}
					mu.Lock()
					crashes++
					if attempt > 0 {
						replayed += src.Stats().Replayed
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if crashes < 10 {
			t.Fatalf("%d crashes, want at least 10", crashes)
		}
		if replayed == 0 {
			t.Error("no restarted worker replayed a committed message: state was not rebuilt")
		}
		sameSignals(t, "journal", j.sigs, want)
		sameSignals(t, "signals stream", streamSignals(t, b), want)
		// Outputs of replayed bars are dropped: only what a dead worker had
		// not committed is written again (without the suppression, every
		// restart would rewrite everything before its position).
		if dup := j.writes - j.count(); dup > j.count()/4 {
			t.Errorf("%d journal writes for %d signals: replayed outputs were written again", j.writes, j.count())
		}
		t.Logf("%d crashes; %d journal writes for %d signals", crashes, j.writes, j.count())
	})
}

// collect returns src's events.
func collect(t *testing.T, src pipeline.Source[market.Event]) []market.Event {
	t.Helper()
	var evs []market.Event
	sink := pipeline.SinkFunc[market.Event](func(_ context.Context, items []market.Event) error {
		evs = append(evs, items...)
		return nil
	})
	if err := pipeline.New(pipeline.Config[market.Event]{}).From("source", src).To("collect", sink).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestIngestKilledAndRerunStoresEachBarOnce(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		if err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: testPartitions}); err != nil {
			t.Fatal(err)
		}
		// The first ingest dies after 20,000 of 50,000 bars, with bars held
		// for unfinished messages: they never leave, as under a SIGKILL.
		pub, err := nats.NewPublisher(ctx, b.js, nats.PublisherConfig{Namespace: b.ns, Partitions: testPartitions})
		if err != nil {
			t.Fatal(err)
		}
		evs := collect(t, synthetic(50, 1000))
		for i := 0; i < 20000; i += 333 {
			if err := pub.Write(ctx, evs[i:min(i+333, 20000)]); err != nil {
				t.Fatal(err)
			}
		}
		for run := range 2 {
			if _, err := ingest(ctx, b, synthetic(50, 1000)); err != nil {
				t.Fatalf("rerun %d: %v", run, err)
			}
		}
		s, err := b.js.Stream(ctx, b.ns.BarsStream())
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 50 symbols of 1000 bars in messages of at most 256: 4 each.
		if info.State.Msgs != 200 {
			t.Fatalf("stream holds %d messages, want 200", info.State.Msgs)
		}
		// And a worker reads every bar once, in order.
		src, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns, UntilCaughtUp: true})
		if err != nil {
			t.Fatal(err)
		}
		got := collect(t, src)
		if len(got) != 50000 {
			t.Fatalf("read %d bars, want 50000", len(got))
		}
		last := map[string]time.Time{}
		for _, e := range got {
			if l, ok := last[e.Symbol]; ok && !e.Time.After(l) {
				t.Fatalf("%s: %s after %s", e.Symbol, e.Time, l)
			}
			last[e.Symbol] = e.Time
		}
	})
}
