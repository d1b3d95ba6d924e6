package nats_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
)

func TestFairShare(t *testing.T) {
	keys := []string{"w.a", "w.b", "w.c"}
	for _, tc := range []struct {
		n    int
		keys []string
		me   string
		want int
	}{
		{6, keys, "w.a", 2}, {6, keys, "w.c", 2},
		{8, keys, "w.a", 3}, {8, keys, "w.b", 3}, {8, keys, "w.c", 2},
		{4, keys, "w.b", 1}, {4, keys, "w.c", 1}, // none idle while another holds 2 more
		{2, keys, "w.c", 0},
		{6, keys[:1], "w.a", 6},
		{6, keys, "w.x", 0}, // not a running worker
	} {
		if got := nats.FairShare(tc.n, tc.keys, tc.me); got != tc.want {
			t.Errorf("FairShare(%d, %v, %s) = %d, want %d", tc.n, tc.keys, tc.me, got, tc.want)
		}
	}
	// The shares of one list add up to n and differ by at most one.
	for n := range 40 {
		for w := 1; w <= 7; w++ {
			var ks []string
			for i := range w {
				ks = append(ks, fmt.Sprintf("w.%02d", i))
			}
			sum, lo, hi := 0, n, 0
			for _, k := range ks {
				s := nats.FairShare(n, ks, k)
				sum, lo, hi = sum+s, min(lo, s), max(hi, s)
			}
			if sum != n || hi-lo > 1 {
				t.Fatalf("%d partitions among %d workers: shares sum to %d, from %d to %d", n, w, sum, lo, hi)
			}
		}
	}
}

// rebalancing is one worker that keeps a fair share (SourceConfig.Rebalance).
type rebalancing struct {
	name   string
	leases *nats.Leases
	stop   context.CancelFunc
	done   chan error
	ended  chan struct{} // closed when the worker has returned err
	err    error
}

func startRebalancing(t *testing.T, ctx context.Context, b *bus, name string, ttl time.Duration, j pipeline.Sink[market.Event]) *rebalancing {
	t.Helper()
	l, err := nats.OpenLeases(ctx, b.js, b.ns, name, ttl)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Balance(ctx, testPartitions); err != nil {
		t.Fatal(err)
	}
	src, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns, Leases: l, Rebalance: true, CommitInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	w := &rebalancing{name: name, leases: l, stop: stop, done: make(chan error, 1), ended: make(chan struct{})}
	go func() {
		w.err = runWorker(wctx, b, src, j)
		close(w.ended)
		w.done <- w.err
	}()
	t.Cleanup(func() { stop(); <-w.done })
	return w
}

// waitShares waits until the workers hold want partitions each (all of
// them between them); a worker that ends meanwhile fails the test at once.
func waitShares(t *testing.T, what string, ws []*rebalancing, want ...int) {
	t.Helper()
	waitFor(t, what, 30*time.Second, func() bool {
		for _, w := range ws {
			select {
			case <-w.ended:
				t.Fatalf("%s: worker %s ended: %v (holding %v)", what, w.name, w.err, held(ws...))
			default:
			}
		}
		return shares(ws, want...)
	})
}

// release stops the worker cleanly, its leases given back at once.
func (w *rebalancing) release(t *testing.T) {
	t.Helper()
	w.kill(t)
	if err := w.leases.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// kill ends the worker as a crash does: no drain of what is in flight, its
// leases and heartbeat left to expire.
func (w *rebalancing) kill(t *testing.T) {
	t.Helper()
	w.stop()
	if err := <-w.done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("worker: %v", err)
	}
	w.done <- nil // for the cleanup
}

func held(ws ...*rebalancing) [][]int {
	out := make([][]int, len(ws))
	for i, w := range ws {
		out[i] = w.leases.Held()
	}
	return out
}

// shares reports whether the workers hold the given numbers of partitions,
// all of them between them, none twice.
func shares(ws []*rebalancing, want ...int) bool {
	var all []int
	for i, h := range held(ws...) {
		if len(h) != want[i] {
			return false
		}
		all = append(all, h...)
	}
	slices.Sort(all)
	return len(slices.Compact(all)) == testPartitions
}

func count(sigs map[string][]market.Signal) (n int) {
	for _, s := range sigs {
		n += len(s)
	}
	return n
}

// TestRebalanceFairShare: workers that join share the partitions evenly,
// each handed over only once committed (no signal written twice); when one
// dies the survivors split its partitions rather than one taking them all;
// and the signals equal a single process's, per symbol and in order.
func TestRebalanceFairShare(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		const ttl = 1500 * time.Millisecond // renewed every 500ms: room for a loaded machine
		all := collect(t, synthetic(60, 900))
		third := len(all) / 3
		slice := func(evs []market.Event) pipeline.Source[market.Event] {
			return pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
				for _, e := range evs {
					if err := out.Emit(e); err != nil {
						return err
					}
				}
				return nil
			})
		}
		publish := func(evs []market.Event) {
			t.Helper()
			if _, err := ingest(ctx, b, slice(evs)); err != nil {
				t.Fatal(err)
			}
		}
		want := reference(t, slice(all))
		wantTwoThirds := count(reference(t, slice(all[:2*third])))
		t.Cleanup(func() { _ = b.js.DeleteKeyValue(context.Background(), string(b.ns)+"_leases") })

		publish(all[:third])
		j := newJournal()
		a := startRebalancing(t, ctx, b, "worker-a", ttl, j)
		if got := a.leases.Held(); len(got) != testPartitions {
			t.Fatalf("a lone worker holds %v, want every partition", got)
		}
		w := startRebalancing(t, ctx, b, "worker-b", ttl, j)
		c := startRebalancing(t, ctx, b, "worker-c", ttl, j)
		ws := []*rebalancing{a, w, c}
		waitShares(t, "three workers to hold 2 partitions each", ws, 2, 2, 2)
		publish(all[third : 2*third])
		waitFor(t, "the signals of two thirds of the bars", 20*time.Second, func() bool { return j.count() == wantTwoThirds })
		j.mu.Lock()
		writes := j.writes
		j.mu.Unlock()
		if writes != wantTwoThirds {
			t.Errorf("%d journal writes for %d signals: a handed-over partition was not committed before its successor started", writes, wantTwoThirds)
		}

		// a dies: after its leases expire, b and c take 1 of its 2
		// partitions each, not both.
		a.kill(t)
		ws = ws[1:]
		waitShares(t, "the survivors to split the dead worker's partitions", ws, 3, 3)
		publish(all[2*third:])

		// d joins: the partitions spread over three workers again.
		d := startRebalancing(t, ctx, b, "worker-d", ttl, j)
		ws = append(ws, d)
		waitShares(t, "b, c and d to hold 2 partitions each", ws, 2, 2, 2)
		waitFor(t, "every signal in the journal", 20*time.Second, func() bool { return j.count() == count(want) })
		sameSignals(t, "journal", j.sigs, want)
		sameSignals(t, "signals stream", streamSignals(t, b), want)
		t.Logf("held: %v; %d journal writes for %d signals", held(ws...), j.writes, j.count())
	})
}

// TestRebalanceGivesUpARetakenPartition: a worker that takes back a
// partition it gave up, with nothing new in it (every bar a replay of what
// it processed itself), can give it up again: the replayed messages, which
// produce nothing, still count as committed.
func TestRebalanceGivesUpARetakenPartition(t *testing.T) {
	b := embedded(t)
	ctx := testContext(t)
	const ttl = 1500 * time.Millisecond
	want := reference(t, synthetic(30, 600))
	if _, err := ingest(ctx, b, synthetic(30, 600)); err != nil {
		t.Fatal(err)
	}
	j := newJournal()
	a := startRebalancing(t, ctx, b, "worker-a", ttl, j)
	waitFor(t, "every signal in the journal", 30*time.Second, func() bool { return j.count() == count(want) })
	w := startRebalancing(t, ctx, b, "worker-b", ttl, j)
	waitShares(t, "a and b to hold 3 partitions each", []*rebalancing{a, w}, 3, 3)
	w.release(t)
	waitShares(t, "a to take b's partitions back", []*rebalancing{a}, 6)
	c := startRebalancing(t, ctx, b, "worker-c", ttl, j)
	waitShares(t, "a and c to hold 3 partitions each", []*rebalancing{a, c}, 3, 3)
	sameSignals(t, "journal", j.sigs, want)
	if j.writes != j.count() {
		t.Errorf("%d journal writes for %d signals", j.writes, j.count())
	}
}
