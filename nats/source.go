package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Defaults of [SourceConfig] fields left zero.
const (
	DefaultFetchMessages  = 256
	DefaultCommitInterval = 100 * time.Millisecond
)

// SourceConfig configures a [Source]. Its zero value means the defaults: every
// partition, live (no end), the default fetch size and commit interval.
type SourceConfig struct {
	// Namespace names the streams and the bucket (default "tickflow").
	Namespace Namespace
	// Partitions are the partitions this worker owns; nil means all. Two
	// workers must not own the same partition at once: the positions they
	// commit would interleave.
	Partitions []int
	// UntilCaughtUp ends Produce once every owned partition has delivered
	// all it held when the worker started reading it.
	UntilCaughtUp bool
	// FetchMessages is how many messages each partition's reader asks the
	// server for at once (default 256).
	FetchMessages int
	// Leases, if set, must hold every owned partition; Produce renews them
	// every third of their TTL and stops with ErrLeaseLost when one is lost,
	// so a worker presumed dead stops before it commits over its successor.
	Leases *Leases
	// Rebalance (it needs Leases) keeps the worker at its fair share of the
	// partitions while it runs: every third of the lease TTL,
	// [Leases.Balance] claims free partitions up to the share, which the
	// source then reads too, and names those beyond it, which the source
	// gives up one at a time: it stops reading the partition, lets what it
	// emitted from it drain and commit, writes its position and only then
	// releases its lease, so the next owner starts exactly there (nothing
	// lost, nothing produced twice, per-symbol order kept). Partitions
	// taken over from a dead worker become free after the TTL. Partitions
	// must be nil: the source starts with the held ones, possibly none.
	// Without UntilCaughtUp, Produce then runs until ctx is done even while
	// it owns nothing.
	Rebalance bool
	// OnRebalance, if set, is told of each partition that Rebalance takes
	// (taken) or has given up, from the lease loop's goroutine.
	OnRebalance func(partition int, taken bool)
	// CommitInterval is the most often a partition's committed position is
	// written to the positions bucket (default 100ms); a crash re-processes
	// at most what was committed since. Flush always writes it.
	CommitInterval time.Duration
	// Observer, if set, is told of every message committed after being
	// read live, as an operation of type OpAck from its reading to its
	// commit (*metrics.Metrics: async_operation_duration_seconds).
	Observer observe.Observer
}

// OpAck is the operation type of a message's commit, for SourceConfig's
// Observer.
const OpAck = "bus_ack"

// Source is the worker side: a source of the bars of its partitions, in
// stream order per partition (so per symbol), that works with the sink
// returned by [Source.CommitSink] to commit each partition's position only
// once everything produced from a message is committed downstream.
//
// # Exactly once in effect
//
// A worker that starts (or replaces a dead one) reads each of its
// partitions from the stream's first message, with an ordered consumer.
// Messages at or before the partition's committed position are replayed:
// their bars go through the pipeline's stages, rebuilding every symbol's
// indicator and strategy state bar for bar, but the commit sink drops what
// they produce, since it was committed before. After that position, outputs
// pass. So a restarted worker writes what a single uninterrupted run
// writes, value for value, and what the dead worker produced after its last
// committed position is produced again: outputs must be idempotent (the
// journal's unique key, [SignalSink]'s Nats-Msg-Id, the orders sink's client
// order id). The cost of a restart is a replay of the owned partitions'
// history, at the pipeline's speed.
//
// # Acknowledgement
//
// The pipeline gives the sink every item in source order, so the commit
// sink counts, per symbol, the bars whose events it has written; a message
// is committed once its symbol's count reaches its last bar, and a
// partition's position advances over its committed messages in order. This
// needs one event per bar at the sink: build the pipeline without
// SignalsOnly (the commit sink filters instead) and with stages that emit one
// event per input, and with the default Block overflow. A symbol that fails
// (Emitter.Fail) holds its partition's position where it failed.
type Source struct {
	js  jetstream.JetStream
	cfg SourceConfig
	n   int
	kv  jetstream.KeyValue

	started atomic.Bool
	bars    sync.Pool // of *[]market.Bar: decoded messages, reused once emitted

	putMu     sync.Mutex // held while positions are written, then s.mu
	mu        sync.Mutex
	parts     []*partState
	byPart    map[int]*partState
	cum       map[string]int64 // bars registered per symbol
	warmEnd   map[string]int64 // of which replayed
	committed map[string]int64 // of which written by the commit sink

	lastTime map[string]time.Time // per symbol, of the last bar emitted (Produce's own)

	redelivered, replayed, duplicates, positionErrors atomic.Int64
	ackCount, ackNanos, ackMax                        atomic.Int64
}

type partState struct {
	p       int
	start   uint64 // committed position when the worker started
	queue   []pendingMsg
	commit  uint64 // committed position now
	stored  uint64 // last written to the bucket
	lastPut time.Time
	last    atomic.Uint64 // last stream sequence emitted
	pending atomic.Uint64 // messages left in the stream after the last one read

	stop     context.CancelFunc // ends its reader (Produce's; nil when none runs)
	dropping bool               // Produce's: given up, waiting for its reader's end
	draining bool               // given up and its last message emitted (s.mu)
	closed   bool               // drained is closed (s.mu)
	drained  chan struct{}      // closed once draining and every message is committed
}

func newPartState(p int) *partState { return &partState{p: p, drained: make(chan struct{})} }

// closeDrainedLocked closes ps.drained if ps is draining and its every
// message is committed; s.mu must be held.
func (ps *partState) closeDrainedLocked() {
	if ps.draining && !ps.closed && len(ps.queue) == 0 {
		ps.closed = true
		close(ps.drained)
	}
}

type pendingMsg struct {
	seq    uint64
	symbol string
	end    int64 // the symbol's bar count at this message's last bar
	at     time.Time
}

var _ pipeline.Source[market.Event] = (*Source)(nil)

// NewSource opens the bars stream and the positions bucket for a worker
// owning cfg.Partitions.
func NewSource(ctx context.Context, js jetstream.JetStream, cfg SourceConfig) (*Source, error) {
	n, err := OpenLayout(ctx, js, cfg.Namespace)
	if err != nil {
		return nil, err
	}
	if cfg.Rebalance {
		if cfg.Leases == nil {
			return nil, errors.New("nats: source: Rebalance needs Leases")
		}
		if cfg.Partitions != nil {
			return nil, errors.New("nats: source: Rebalance starts with the held partitions: leave Partitions nil")
		}
		cfg.Partitions = cfg.Leases.Held()
	} else if cfg.Partitions == nil {
		for p := range n {
			cfg.Partitions = append(cfg.Partitions, p)
		}
	}
	if len(cfg.Partitions) == 0 && !cfg.Rebalance {
		return nil, errors.New("nats: source owns no partition")
	}
	seen := map[int]bool{}
	for _, p := range cfg.Partitions {
		if p < 0 || p >= n {
			return nil, fmt.Errorf("nats: partition %d: stream %s has partitions 0 to %d", p, cfg.Namespace.BarsStream(), n-1)
		}
		if seen[p] {
			return nil, fmt.Errorf("nats: partition %d owned twice", p)
		}
		seen[p] = true
	}
	if cfg.Leases != nil {
		held := cfg.Leases.Held()
		for _, p := range cfg.Partitions {
			if !slices.Contains(held, p) {
				return nil, fmt.Errorf("nats: partition %d: not leased by this worker (held: %v)", p, held)
			}
		}
	}
	if cfg.FetchMessages <= 0 {
		cfg.FetchMessages = DefaultFetchMessages
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = DefaultCommitInterval
	}
	kv, err := js.KeyValue(ctx, cfg.Namespace.PositionsBucket())
	if err != nil {
		return nil, fmt.Errorf("nats: bucket %s: %w", cfg.Namespace.PositionsBucket(), err)
	}
	s := &Source{js: js, cfg: cfg, n: n, kv: kv, byPart: map[int]*partState{},
		bars: sync.Pool{New: func() any { return new([]market.Bar) }},
		cum:  map[string]int64{}, lastTime: map[string]time.Time{}, warmEnd: map[string]int64{}, committed: map[string]int64{}}
	for _, p := range slices.Sorted(slices.Values(cfg.Partitions)) {
		ps := newPartState(p)
		s.parts = append(s.parts, ps)
		s.byPart[p] = ps
	}
	return s, nil
}

// Partitions returns the number of partitions of the bars stream.
func (s *Source) Partitions() int { return s.n }

// delivery is one decoded message, from a partition reader to Produce.
type delivery struct {
	part     *partState
	seq      uint64
	bars     []market.Bar
	buf      *[]market.Bar // bars' backing array, back to s.bars once emitted
	caughtUp bool          // the partition's last message (UntilCaughtUp)
	end      bool          // after the partition reader's last delivery
	err      error         // a message that cannot be processed, confined to key
	key      string
}

// Produce emits the owned partitions' bars until ctx is done, the bus fails,
// or (UntilCaughtUp) every partition is caught up. A message that is not
// tickflow's (or not where it belongs) stops its partition before it: it is
// reported with Emitter.Fail (so Run returns [pipeline.Failures] naming the
// stream sequence and subject), the other partitions go on. It may be called
// once.
func (s *Source) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("nats: Source.Produce called twice")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	ch := make(chan delivery, 2*s.n)
	errc := make(chan error, 1)
	fail := func(err error) {
		select {
		case errc <- err:
		case <-ctx.Done():
		}
	}
	active := 0 // partition readers running
	start := func(ps *partState) error {
		pos, err := s.position(ctx, ps.p)
		if err != nil {
			return err
		}
		s.mu.Lock()
		ps.start, ps.commit, ps.stored = pos, pos, pos
		s.mu.Unlock()
		cons, err := s.js.OrderedConsumer(ctx, s.cfg.Namespace.BarsStream(), jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{s.cfg.Namespace.PartitionFilter(ps.p)}, DeliverPolicy: jetstream.DeliverAllPolicy,
		})
		if err != nil {
			return fmt.Errorf("nats: partition %d: consumer: %w", ps.p, err)
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return fmt.Errorf("nats: partition %d: consumer info: %w", ps.p, err)
		}
		ps.pending.Store(info.NumPending)
		if s.cfg.UntilCaughtUp && info.NumPending == 0 {
			return nil
		}
		rctx, stop := context.WithCancel(ctx)
		ps.stop = stop
		active++
		wg.Go(func() {
			if err := s.read(ctx, rctx, ps, cons, ch); err != nil {
				fail(err)
				return
			}
			select {
			case ch <- delivery{part: ps, end: true}:
			case <-ctx.Done():
			}
		})
		return nil
	}
	s.mu.Lock()
	initial := slices.Clone(s.parts)
	s.mu.Unlock()
	for _, ps := range initial {
		if err := start(ps); err != nil {
			return err
		}
	}
	// Room for every command the lease loop can have outstanding (a take
	// per partition, one give), so that it never waits on a Produce blocked
	// in Emit and its renewals keep their pace under back-pressure.
	ctl := make(chan partCmd, s.n+1)
	if l := s.cfg.Leases; l != nil {
		wg.Go(func() { s.leaseLoop(ctx, l, ctl, fail) })
	}

	for active > 0 || s.cfg.Rebalance && !s.cfg.UntilCaughtUp {
		var d delivery
		var cmd partCmd
		select {
		case d = <-ch:
		case cmd = <-ctl:
		case err := <-errc:
			return err
		default:
			// Nothing waiting: send what is batched before blocking, so no
			// bar of a live feed sits in a half-full batch.
			if err := out.Flush(); err != nil {
				return err
			}
			select {
			case d = <-ch:
			case cmd = <-ctl:
			case err := <-errc:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		switch {
		case cmd.ps != nil && cmd.take:
			if err := start(cmd.ps); err != nil {
				return err
			}
		case cmd.ps != nil:
			if cmd.ps.stop != nil {
				cmd.ps.dropping = true
				cmd.ps.stop() // its end delivery starts the drain
			} else if err := s.drain(cmd.ps, out); err != nil {
				return err
			}
		case d.end:
			active--
			d.part.stop()
			d.part.stop = nil
			if d.part.dropping {
				if err := s.drain(d.part, out); err != nil {
					return err
				}
			}
		case d.err != nil:
			// The partition stops before the message: what came before it
			// drains and commits, the position never passes it, and Run
			// reports it at the end.
			out.Fail(d.key, d.err)
		default:
			err := s.emit(d, out)
			s.bars.Put(d.buf) // the events hold copies of the bars
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// partCmd is the lease loop's word to Produce: read partition ps (take), or
// give it up.
type partCmd struct {
	ps   *partState
	take bool
}

// leaseLoop renews the leases every third of their TTL, and with Rebalance
// balances them: it tells Produce of the partitions it took and, one at a
// time, of one to give up, which it releases once Produce has drained it.
func (s *Source) leaseLoop(ctx context.Context, l *Leases, ctl chan<- partCmd, fail func(error)) {
	t := time.NewTicker(l.TTL() / 3)
	defer t.Stop()
	var giving *partState
	send := func(c partCmd) bool {
		select {
		case ctl <- c:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		var drained <-chan struct{}
		if giving != nil {
			drained = giving.drained
		}
		select {
		case <-ctx.Done():
			return
		case <-drained:
			if err := s.retire(ctx, l, giving); err != nil {
				fail(err)
				return
			}
			if f := s.cfg.OnRebalance; f != nil {
				f(giving.p, false)
			}
			giving = nil
		case <-t.C:
			if !s.cfg.Rebalance || giving != nil {
				if err := l.Renew(ctx); err != nil {
					fail(err)
					return
				}
				continue
			}
			took, give, err := l.Balance(ctx, s.n)
			if err != nil {
				fail(err)
				return
			}
			for _, p := range took {
				ps := newPartState(p)
				s.mu.Lock()
				s.byPart[p] = ps
				i, _ := slices.BinarySearchFunc(s.parts, p, func(q *partState, p int) int { return q.p - p })
				s.parts = slices.Insert(s.parts, i, ps)
				s.mu.Unlock()
				if !send(partCmd{ps: ps, take: true}) {
					return
				}
				if f := s.cfg.OnRebalance; f != nil {
					f(p, true)
				}
			}
			if len(give) > 0 {
				s.mu.Lock()
				giving = s.byPart[give[0]]
				s.mu.Unlock()
				if giving != nil && !send(partCmd{ps: giving}) {
					return
				}
			}
		}
	}
}

// drain marks ps, whose last message Produce has emitted, as draining, once
// what it emitted is sent on.
func (s *Source) drain(ps *partState, out pipeline.Emitter[market.Event]) error {
	if err := out.Flush(); err != nil {
		return err
	}
	s.mu.Lock()
	ps.draining = true
	ps.closeDrainedLocked()
	s.mu.Unlock()
	return nil
}

// retire forgets the drained partition ps, writes its final position and
// releases its lease.
func (s *Source) retire(ctx context.Context, l *Leases, ps *partState) error {
	s.putMu.Lock()
	s.mu.Lock()
	s.parts = slices.DeleteFunc(s.parts, func(q *partState) bool { return q == ps })
	delete(s.byPart, ps.p)
	seq, stored := ps.commit, ps.stored
	s.mu.Unlock()
	var err error
	if seq > stored {
		_, err = s.kv.Put(ctx, positionKey(ps.p), []byte(strconv.FormatUint(seq, 10)))
	}
	s.putMu.Unlock()
	if err != nil {
		s.positionErrors.Add(1)
		return fmt.Errorf("nats: commit partition %d at sequence %d before giving it up: %w", ps.p, seq, err)
	}
	return l.ReleasePartition(ctx, ps.p)
}

// read decodes partition ps's messages in stream order and hands them to
// Produce, until rctx (the partition's) is done.
func (s *Source) read(ctx, rctx context.Context, ps *partState, cons jetstream.Consumer, ch chan<- delivery) error {
	it, err := cons.Messages(jetstream.PullMaxMessages(s.cfg.FetchMessages))
	if err != nil {
		return fmt.Errorf("nats: partition %d: %w", ps.p, err)
	}
	defer it.Stop()
	var last uint64
	for {
		msg, err := it.Next(jetstream.NextContext(rctx))
		if err != nil {
			if rctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("nats: partition %d: read: %w", ps.p, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("nats: stream %s partition %d: message on %s: %w", s.cfg.Namespace.BarsStream(), ps.p, msg.Subject(), err)
		}
		seq := md.Sequence.Stream
		if seq <= last {
			s.redelivered.Add(1) // the ordered consumer skipped back: seen already
			continue
		}
		last = seq
		buf := s.bars.Get().(*[]market.Bar)
		bars, err := s.decode(ps.p, msg.Subject(), msg.Data(), (*buf)[:0])
		*buf = bars[:0]
		if err != nil {
			key := msg.Subject()
			if _, sym, perr := s.cfg.Namespace.ParseBarsSubject(key); perr == nil {
				key = sym
			}
			d := delivery{part: ps, key: key,
				err: fmt.Errorf("nats: stream %s sequence %d: %w (partition %d stops before it)", s.cfg.Namespace.BarsStream(), seq, err, ps.p)}
			select {
			case ch <- d:
			case <-ctx.Done():
			}
			return nil
		}
		ps.pending.Store(md.NumPending)
		d := delivery{part: ps, seq: seq, bars: bars, buf: buf, caughtUp: s.cfg.UntilCaughtUp && md.NumPending == 0}
		select {
		case ch <- d:
		case <-ctx.Done():
			return nil
		}
		if d.caughtUp {
			return nil
		}
	}
}

// decode reads a bars message and checks that it belongs where it was
// found.
func (s *Source) decode(p int, subject string, data []byte, dst []market.Bar) ([]market.Bar, error) {
	sp, ssym, err := s.cfg.Namespace.ParseBarsSubject(subject)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrForeignMessage, err)
	}
	sym, bars, err := DecodeBars(data, dst)
	if err != nil {
		return nil, fmt.Errorf("subject %s: %w", subject, err)
	}
	switch {
	case sym != ssym:
		return nil, fmt.Errorf("subject %s: %w: bars of %q", subject, ErrForeignMessage, sym)
	case sp != p || Partition(sym, s.n) != p:
		return nil, fmt.Errorf("subject %s: %w: %q belongs in partition %d of %d", subject, ErrForeignMessage, sym, Partition(sym, s.n), s.n)
	case len(bars) == 0:
		return nil, fmt.Errorf("subject %s: %w: no bars", subject, ErrForeignMessage)
	}
	return bars, nil
}

// emit registers a message, then emits its bars. A bar not after its
// symbol's last one is skipped: times increase strictly within a symbol (the
// sources' rule), so it is a copy, published again by an ingest that was
// stopped and rerun with other message boundaries.
func (s *Source) emit(d delivery, out pipeline.Emitter[market.Event]) error {
	sym := d.bars[0].Symbol
	if last, ok := s.lastTime[sym]; ok {
		i := 0
		for i < len(d.bars) && !d.bars[i].Time.After(last) {
			i++
		}
		if i > 0 {
			s.duplicates.Add(int64(i))
			d.bars = d.bars[i:]
		}
	}
	if len(d.bars) > 0 {
		s.lastTime[sym] = d.bars[len(d.bars)-1].Time
	}
	warm := d.seq <= d.part.start
	s.mu.Lock()
	end := s.cum[sym] + int64(len(d.bars))
	s.cum[sym] = end
	if warm {
		s.warmEnd[sym] = end
	}
	if len(d.bars) == 0 && len(d.part.queue) == 0 {
		// Nothing to produce and nothing before it pending: committed now,
		// as no sink write would come to commit it (a partition taken back
		// replays what this worker processed itself).
		d.part.commit = d.seq
	} else {
		d.part.queue = append(d.part.queue, pendingMsg{seq: d.seq, symbol: sym, end: end, at: time.Now()})
	}
	s.mu.Unlock()
	if warm {
		s.replayed.Add(1)
	}
	d.part.last.Store(d.seq)
	for i := range d.bars {
		if err := out.Emit(market.Event{Bar: d.bars[i]}); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) position(ctx context.Context, p int) (uint64, error) {
	e, err := s.kv.Get(ctx, positionKey(p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("nats: bucket %s key %s: %w", s.cfg.Namespace.PositionsBucket(), positionKey(p), err)
	}
	v, err := strconv.ParseUint(string(e.Value()), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("nats: bucket %s key %s: position %q: %w", s.cfg.Namespace.PositionsBucket(), positionKey(p), e.Value(), err)
	}
	return v, nil
}

// committedThrough records that the commit sink has written the events of
// the symbols in counts, and writes positions that are due (all, with
// force).
func (s *Source) committedThrough(ctx context.Context, counts map[string]int64, force bool) error {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	now := time.Now()
	type put struct {
		ps  *partState
		seq uint64
	}
	var puts []put
	s.mu.Lock()
	for sym, c := range counts {
		s.committed[sym] = c
	}
	for _, ps := range s.parts {
		i := 0
		for ; i < len(ps.queue) && s.committed[ps.queue[i].symbol] >= ps.queue[i].end; i++ {
			m := ps.queue[i]
			ps.commit = m.seq
			if m.seq > ps.start {
				lat := int64(now.Sub(m.at))
				s.ackCount.Add(1)
				s.ackNanos.Add(lat)
				if lat > s.ackMax.Load() {
					s.ackMax.Store(lat)
				}
				if o := s.cfg.Observer; o != nil {
					o.OperationStarted(OpAck)
					o.OperationEnded(OpAck, m.at, now, "")
				}
			}
		}
		if i > 0 {
			ps.queue = slices.Delete(ps.queue, 0, i)
		}
		ps.closeDrainedLocked()
		if ps.commit > ps.stored && (force || now.Sub(ps.lastPut) >= s.cfg.CommitInterval) {
			puts = append(puts, put{ps, ps.commit})
		}
	}
	s.mu.Unlock()
	for _, u := range puts {
		// Only the sink's goroutine writes positions, so they go out in order.
		_, err := s.kv.Put(ctx, positionKey(u.ps.p), []byte(strconv.FormatUint(u.seq, 10)))
		if err != nil {
			s.positionErrors.Add(1)
			if force {
				return fmt.Errorf("nats: commit partition %d at sequence %d: %w", u.ps.p, u.seq, err)
			}
			continue // a later commit writes a newer position
		}
		s.mu.Lock()
		u.ps.stored, u.ps.lastPut = u.seq, now
		s.mu.Unlock()
	}
	return nil
}

// warm returns how many of symbol's first bars are replayed; s.mu must be held.
func (s *Source) warm(symbol string) int64 { return s.warmEnd[symbol] }
