package nats_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tickflow/tickflow/nats"
)

func TestPublisherConfig(t *testing.T) {
	b := embedded(t)
	ctx := testContext(t)
	if err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  nats.PublisherConfig
		is   error
	}{
		{"other partition count", nats.PublisherConfig{Partitions: 4}, nats.ErrLayout},
		{"too many bars", nats.PublisherConfig{Partitions: 3, MaxBars: nats.MaxBarsPerMessage + 1}, nil},
		{"bad namespace", nats.PublisherConfig{Partitions: 3, Namespace: "a.b"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cfg.Namespace == "" {
				tc.cfg.Namespace = b.ns
			}
			_, err := nats.NewPublisher(ctx, b.js, tc.cfg)
			if err == nil || tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want one (wrapping %v)", err, tc.is)
			}
		})
	}
}

func TestPublisherBatching(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cfg           nats.PublisherConfig
		before, after uint64 // messages in the stream before and after Flush
	}{
		{"full messages, then the rest at Flush", nats.PublisherConfig{MaxBars: 100}, 2, 3},
		{"Linger sends what waited", nats.PublisherConfig{MaxBars: 100, Linger: time.Nanosecond}, 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := embedded(t)
			ctx := testContext(t)
			if err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: 2}); err != nil {
				t.Fatal(err)
			}
			tc.cfg.Namespace, tc.cfg.Partitions = b.ns, 2
			pub, err := nats.NewPublisher(ctx, b.js, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			evs := collect(t, synthetic(1, 250))
			for i := 0; i < len(evs); i += 50 {
				if err := pub.Write(ctx, evs[i:i+50]); err != nil {
					t.Fatal(err)
				}
			}
			s, err := b.js.Stream(ctx, b.ns.BarsStream())
			if err != nil {
				t.Fatal(err)
			}
			msgs := func() uint64 {
				info, err := s.Info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return info.State.Msgs
			}
			waitFor(t, "the messages sent before Flush are stored", 10*time.Second, func() bool { return msgs() == tc.before })
			if err := pub.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if got := msgs(); got != tc.after {
				t.Fatalf("%d messages after Flush, want %d", got, tc.after)
			}
			if st := pub.Stats(); st.Bars != 250 || st.Messages != int64(tc.after) {
				t.Fatalf("stats %+v, want 250 bars in %d messages", st, tc.after)
			}
		})
	}
}
