package nats

import "time"

// SourceStats are a worker's counters, for the metrics exporter (consumer
// lag per partition, redeliveries, acknowledgement latency, publish errors).
type SourceStats struct {
	Partitions []PartitionStats
	// Replayed is how many messages were read again to rebuild state
	// (at or before a committed position).
	Replayed int64
	// Redelivered is how many messages arrived again after they were read
	// (skipped).
	Redelivered int64
	// Duplicates is how many bars were skipped because they were not
	// after their symbol's last bar (a copy in the stream).
	Duplicates int64
	// Acked is how many messages were committed after being read live;
	// AckLatency sums their time from being read to being committed,
	// AckLatencyMax is the longest.
	Acked                     int64
	AckLatency, AckLatencyMax time.Duration
	// PositionErrors counts failed writes of a committed position (each
	// retried by a later commit).
	PositionErrors int64
}

// PartitionStats is one owned partition's state.
type PartitionStats struct {
	Partition int
	// Lag is how many messages the stream holds after the last one read.
	Lag uint64
	// Read is the stream sequence of the last message read; Committed
	// that of the last committed one (0: none).
	Read, Committed uint64
}

// Stats returns the counters; it may be called while the source runs.
func (s *Source) Stats() SourceStats {
	st := SourceStats{Replayed: s.replayed.Load(), Redelivered: s.redelivered.Load(), Duplicates: s.duplicates.Load(), Acked: s.ackCount.Load(),
		AckLatency: time.Duration(s.ackNanos.Load()), AckLatencyMax: time.Duration(s.ackMax.Load()),
		PositionErrors: s.positionErrors.Load()}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ps := range s.parts {
		st.Partitions = append(st.Partitions, PartitionStats{Partition: ps.p, Lag: ps.pending.Load(),
			Read: ps.last.Load(), Committed: ps.commit})
	}
	return st
}
