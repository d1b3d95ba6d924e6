package nats_test

import (
	"testing"
)

func TestStatsAndRestartAfterCommit(t *testing.T) {
	servers(t, func(t *testing.T, b *bus) {
		ctx := testContext(t)
		st, err := ingest(ctx, b, synthetic(30, 600))
		if err != nil {
			t.Fatal(err)
		}
		j := newJournal()
		src, err := worker(ctx, b, nil, j)
		if err != nil {
			t.Fatal(err)
		}
		s := src.Stats()
		if len(s.Partitions) != testPartitions {
			t.Fatalf("%d partitions, want %d", len(s.Partitions), testPartitions)
		}
		for _, p := range s.Partitions {
			if p.Lag != 0 || p.Read == 0 || p.Committed != p.Read {
				t.Errorf("partition %+v: want no lag and everything read committed", p)
			}
		}
		if s.Acked != st.Messages || s.AckLatency <= 0 || s.AckLatencyMax <= 0 || s.Replayed != 0 {
			t.Errorf("stats %+v: want %d messages acked with a latency, none replayed", s, st.Messages)
		}
		if j.count() == 0 {
			t.Fatal("no signal")
		}

		// A worker started after everything was committed replays it all
		// and writes nothing.
		j2 := newJournal()
		src, err = worker(ctx, b, nil, j2)
		if err != nil {
			t.Fatal(err)
		}
		if s := src.Stats(); s.Replayed != st.Messages || s.Acked != 0 {
			t.Errorf("second worker: stats %+v, want %d messages replayed, none acked", s, st.Messages)
		}
		if j2.writes != 0 {
			t.Errorf("second worker wrote %d signals, all committed before", j2.writes)
		}
	})
}
