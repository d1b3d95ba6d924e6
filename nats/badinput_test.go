package nats_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
)

func TestUnreachableBus(t *testing.T) {
	_, _, err := nats.Connect(t.Context(), "nats://127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "nats: connect nats://127.0.0.1:1:") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %v, want one line naming the URL", err)
	}
}

func TestStreamWithAnotherLayout(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		if _, err := b.js.CreateStream(ctx, jetstream.StreamConfig{Name: b.ns.BarsStream(), Subjects: []string{"elsewhere.>"}}); err != nil {
			t.Fatal(err)
		}
		for name, err := range map[string]error{
			"ensure": nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: 4}),
			"source": func() error {
				_, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns})
				return err
			}(),
		} {
			if !errors.Is(err, nats.ErrLayout) || !strings.Contains(err.Error(), b.ns.BarsStream()) {
				t.Errorf("%s: error %v, want ErrLayout naming %s", name, err, b.ns.BarsStream())
			}
		}
		if err := b.js.DeleteStream(ctx, b.ns.BarsStream()); err != nil {
			t.Fatal(err)
		}
		// Another partition count.
		if err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: 4}); err != nil {
			t.Fatal(err)
		}
		err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: 8})
		if !errors.Is(err, nats.ErrLayout) || !strings.Contains(err.Error(), "partitions=4") {
			t.Errorf("error %v, want ErrLayout naming the 4 partitions", err)
		}
		if _, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns, Partitions: []int{4}}); err == nil ||
			!strings.Contains(err.Error(), "partition 4") {
			t.Errorf("partition 4 of 4: error %v", err)
		}
	})
}

func TestForeignMessageStopsBeforeIt(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		evs := collect(t, synthetic(1, 1000))
		sym := evs[0].Symbol
		p := nats.Partition(sym, testPartitions)
		publish := func(evs []market.Event) {
			t.Helper()
			if _, err := ingest(ctx, b, pipeline.SourceFunc[market.Event](func(_ context.Context, out pipeline.Emitter[market.Event]) error {
				for _, e := range evs {
					if err := out.Emit(e); err != nil {
						return err
					}
				}
				return nil
			})); err != nil {
				t.Fatal(err)
			}
		}
		publish(evs[:300])
		ack, err := b.js.Publish(ctx, b.ns.BarsSubject(p, sym), []byte(`{"symbol":"`+sym+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		publish(evs[300:])
		for run := range 2 { // a second worker meets it again: nothing was acknowledged past it
			src, err := nats.NewSource(ctx, b.js, nats.SourceConfig{Namespace: b.ns, Partitions: []int{p}, UntilCaughtUp: true})
			if err != nil {
				t.Fatal(err)
			}
			j := newJournal()
			err = runWorker(ctx, b, src, j)
			want := "stream " + b.ns.BarsStream() + " sequence "
			if !errors.Is(err, nats.ErrForeignMessage) || !strings.Contains(err.Error(), want) ||
				!strings.Contains(err.Error(), b.ns.BarsSubject(p, sym)) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("run %d: error %v, want one line with ErrForeignMessage, %q and the subject", run, err, want)
			}
			var f pipeline.Failures
			if !errors.As(err, &f) || len(f) != 1 || f[0].Key != sym {
				t.Fatalf("run %d: error %v, want a failure of %s alone", run, err, sym)
			}
			// The bars before it were processed and committed.
			if c := src.Stats().Partitions[0].Committed; c == 0 || c >= ack.Sequence {
				t.Fatalf("run %d: committed through sequence %d, the foreign message is %d", run, c, ack.Sequence)
			}
		}
	})
}
