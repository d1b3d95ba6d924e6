// Package nats scales tickflow out on NATS JetStream: an ingest process
// publishes bars once, any number of worker processes share the partitions,
// and their signals equal a single process's, per symbol and in order, with
// nothing lost or doubled when a worker dies. It owns both directions:
//
//	source ─▶ Publisher ─▶ TICKFLOW_BARS                       TICKFLOW_SIGNALS
//	(ingest)              tickflow.bars.<p>.<symbol>  ─┐        tickflow.signals.<symbol>
//	                                                   │                 ▲
//	 worker A: Source(p0,p3) ─▶ indicators+strategy ─▶ CommitSink ─▶ journal, SignalSink, orders
//	 worker B: Source(p1,p4) ─▶ …                           │
//	 worker C: Source(p2,p5) ─▶ …                           └─▶ tickflow_positions (p<N> = stream seq)
//
// # Layout
//
// [EnsureLayout] makes the streams and the positions bucket (names in
// [Namespace]). A symbol's partition is [Partition], FNV-1a of the symbol
// modulo the stream's partition count, which the bars stream records when it
// is created; JetStream's subject-mapping partitions are not used. Symbols
// are escaped into one subject token ([EscapeSymbol]: BRK.B is BRK~2EB).
//
// # Messages
//
// A bars message carries up to 256 bars of one symbol in a versioned binary
// encoding ([AppendBars]: every value exact, about 43 bytes a bar) with a
// Nats-Msg-Id made of the symbol and its first and last bar times
// ([BarsMsgID]): an ingest rerun after a crash, within the stream's duplicate
// window, stores nothing twice. A signal is one message of market.Signal's
// JSON on its symbol's subject, with a Nats-Msg-Id of symbol, time and side
// ([SignalSink]).
//
// # Workers
//
// A [Source] owns a set of partitions. It reads each in stream order with
// an ordered consumer (which recovers from lost messages and reconnects by
// itself) from the stream's start, so that every symbol's indicator and
// strategy state is rebuilt by replay; what the bars up to the partition's
// committed position produce is dropped by its [CommitSink], the rest passes.
// The commit sink advances a partition's position only past messages
// whose every event its inner sink has taken: at-least-once delivery, made
// exactly once in effect by idempotent outputs. See [Source] for the
// guarantees and their conditions.
//
// # Ownership
//
// Two workers must not own one partition at once. [Leases] are expiring
// claims in a bucket: pinned partitions are claimed too, and a worker that
// dies stops renewing, so after the lease TTL (default 10s) another worker
// may claim its partitions and rebuild them by replay (BenchmarkTakeover).
// Which free partitions a worker claims is the caller's policy: pinned, or
// SourceConfig.Rebalance's fair share. There every running worker
// heartbeats in the leases bucket, and each third of the TTL it claims free
// partitions up to its [FairShare] (the running workers sorted by name, the
// first n%w of them one partition more) and gives up those beyond it, one at
// a time, each drained and committed before its lease is released:
//
//	a alone:                a: p0-p5
//	b and c join:           a: p0-p1   b: p2-p3   c: p4-p5   (a gave up p5..p2)
//	a dies (after the TTL):            b: p0,p2-p3  c: p1,p4-p5
//
// The package is imported as nats; a program that also uses the client
// imports that under another name (this package calls it natsclient).
// Package natsembed runs a server in the process.
package nats
