package nats_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/tickflow/tickflow/nats"
)

func TestLeasesTakeover(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		const ttl = time.Second
		a, err := nats.OpenLeases(ctx, b.js, b.ns, "worker-a", ttl)
		if err != nil {
			t.Fatal(err)
		}
		w, err := nats.OpenLeases(ctx, b.js, b.ns, "worker-b", ttl)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = b.js.DeleteKeyValue(ctx, string(b.ns)+"_leases") })
		claim := func(l *nats.Leases, p int) bool {
			t.Helper()
			ok, err := l.Claim(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !claim(a, 0) || !claim(a, 1) || claim(w, 0) || !claim(w, 2) {
			t.Fatal("claims: want a: 0, 1 and b: 2 only")
		}
		// A restarted worker of the same name gets its own leases back.
		if !claim(a, 1) {
			t.Fatal("worker-a could not reclaim its own partition")
		}
		if err := a.Renew(ctx); err != nil {
			t.Fatal(err)
		}
		// b releases 2 on a clean stop: free at once.
		if err := w.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if !claim(a, 2) {
			t.Fatal("a released partition is not free")
		}
		// a dies (stops renewing): after the TTL, b takes its partitions
		// over, and a, were it still running, learns that it lost them.
		start := time.Now()
		waitFor(t, "worker-a's leases expire", 10*ttl, func() bool { return claim(w, 0) })
		if d := time.Since(start); d > 3*ttl {
			t.Errorf("takeover after %v, TTL %v", d, ttl)
		}
		if !claim(w, 1) {
			t.Fatal("partition 1 not free after the TTL")
		}
		err = a.Renew(ctx)
		if !errors.Is(err, nats.ErrLeaseLost) {
			t.Fatalf("renewal after expiry: %v, want ErrLeaseLost", err)
		}
		if got := w.Held(); !slices.Equal(got, []int{0, 1}) {
			t.Fatalf("worker-b holds %v", got)
		}
	})
}

func TestSourceStopsWhenItsLeaseIsLost(t *testing.T) {
	b := embedded(t)
	ctx := testContext(t)
	if _, err := ingest(ctx, b, synthetic(10, 100)); err != nil {
		t.Fatal(err)
	}
	l, err := nats.OpenLeases(ctx, b.js, b.ns, "worker-a", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns, Partitions: []int{0}, Leases: l}); err == nil {
		t.Fatal("a source over a partition it has not leased")
	}
	if ok, err := l.Claim(ctx, 0); !ok || err != nil {
		t.Fatal(ok, err)
	}
	src, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns, Partitions: []int{0}, Leases: l})
	if err != nil {
		t.Fatal(err)
	}
	// Another worker has taken partition 0 (as after a long pause of this
	// one): the live worker stops at its next renewal.
	kv, err := b.js.KeyValue(ctx, string(b.ns)+"_leases")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "p0", []byte("worker-b")); err != nil {
		t.Fatal(err)
	}
	err = runWorker(ctx, b, src, newJournal())
	if !errors.Is(err, nats.ErrLeaseLost) {
		t.Fatalf("worker: %v, want ErrLeaseLost", err)
	}
}
