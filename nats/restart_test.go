package nats_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/nats/natsembed"
	"github.com/tickflow/tickflow/pipeline"
)

// waitFor polls cond until it holds or the deadline passes: the server is a
// real process, with nothing to wait on but its effects.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServerRestartUnderRunningWorker(t *testing.T) {
	b := embedded(t)
	ctx := testContext(t)
	all := collect(t, synthetic(40, 600))
	want := reference(t, synthetic(40, 600))
	half := len(all) / 2
	publish := func(evs []market.Event) {
		t.Helper()
		src := pipeline.SourceFunc[market.Event](func(ctx context.Context, out pipeline.Emitter[market.Event]) error {
			for _, e := range evs {
				if err := out.Emit(e); err != nil {
					return err
				}
			}
			return nil
		})
		if _, err := ingest(ctx, b, src); err != nil {
			t.Fatal(err)
		}
	}
	publish(all[:half])

	j := newJournal()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	var src *nats.Source
	ready := make(chan struct{})
	go func() {
		s, err := nats.NewSource(wctx, b.js, nats.SourceConfig{Namespace: b.ns, CommitInterval: time.Millisecond})
		if err != nil {
			close(ready)
			done <- err
			return
		}
		src = s
		close(ready)
		done <- runWorker(wctx, b, s, j)
	}()
	<-ready
	if src == nil {
		t.Fatal(<-done)
	}
	waitFor(t, "the worker read the first half", 20*time.Second, func() bool {
		return src.Stats().Partitions[0].Read > 0 && j.count() > 0
	})

	port := b.srv.Port()
	b.srv.Shutdown()
	srv, err := natsembed.Start(natsembed.Config{Dir: b.dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	b.srv = srv
	waitFor(t, "the client reconnected", 20*time.Second, b.nc.IsConnected)
	publish(all[half:])

	total := 0
	for _, s := range want {
		total += len(s)
	}
	waitFor(t, "the worker resumed and wrote every signal", 30*time.Second, func() bool { return j.count() >= total })
	stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("worker: %v", err)
	}
	sameSignals(t, "journal", j.sigs, want)
	sameSignals(t, "signals stream", streamSignals(t, b), want)
}
