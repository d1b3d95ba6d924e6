package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// DefaultLeaseTTL is how long a partition's lease lasts without renewal.
const DefaultLeaseTTL = 10 * time.Second

// ErrLeaseLost reports a lease that another worker holds now: the worker
// must stop producing for that partition (its commits would interleave with
// the new owner's).
var ErrLeaseLost = errors.New("partition lease lost")

// Leases is one worker's expiring, exclusive claims on partitions, kept in
// the bucket <namespace>_leases whose entries expire after the TTL. A worker
// that dies stops renewing; after the TTL its partitions are free for
// another worker to [Leases.Claim]: that is what a worker's death costs in
// time before takeover, plus the replay (see [Source]). Which partitions to
// claim is the caller's policy (pinned by --partition, or every free one).
type Leases struct {
	kv     jetstream.KeyValue
	worker string
	ttl    time.Duration

	mu   sync.Mutex
	held map[int]uint64 // partition → revision of our entry
}

// OpenLeases opens (or creates) the leases bucket for worker, a name unique
// among the running workers (host and process id, say). ttl zero means
// DefaultLeaseTTL; it is fixed when the bucket is created.
func OpenLeases(ctx context.Context, js jetstream.JetStream, ns Namespace, worker string, ttl time.Duration) (*Leases, error) {
	if err := ns.validate(); err != nil {
		return nil, err
	}
	if worker == "" {
		return nil, errors.New("nats: leases: empty worker name")
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	bucket := ns.name() + "_leases"
	kv, err := js.KeyValue(ctx, bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, TTL: ttl,
			Description: "tickflow: which worker owns each bars partition"})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("nats: bucket %s: %w", bucket, err)
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("nats: bucket %s: %w", bucket, err)
	}
	return &Leases{kv: kv, worker: worker, ttl: st.TTL(), held: map[int]uint64{}}, nil
}

// TTL returns the leases' lifetime (the bucket's).
func (l *Leases) TTL() time.Duration { return l.ttl }

// Claim takes partition p if no worker holds it (or this worker did, before
// a restart under the same name), and reports whether it did.
func (l *Leases) Claim(ctx context.Context, p int) (bool, error) {
	key := positionKey(p)
	rev, err := l.kv.Create(ctx, key, []byte(l.worker))
	if errors.Is(err, jetstream.ErrKeyExists) {
		e, gerr := l.kv.Get(ctx, key)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			return false, nil // expired meanwhile: the next Claim may win it
		case gerr != nil:
			return false, fmt.Errorf("nats: lease of partition %d: %w", p, gerr)
		case string(e.Value()) != l.worker:
			return false, nil
		}
		rev, err = l.kv.Update(ctx, key, []byte(l.worker), e.Revision())
		if errors.Is(err, jetstream.ErrKeyExists) {
			return false, nil
		}
	}
	if err != nil {
		return false, fmt.Errorf("nats: lease of partition %d: %w", p, err)
	}
	l.mu.Lock()
	l.held[p] = rev
	l.mu.Unlock()
	return true, nil
}

// Held returns the partitions this worker holds, sorted.
func (l *Leases) Held() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(func(yield func(int) bool) {
		for p := range l.held {
			if !yield(p) {
				return
			}
		}
	})
}

// Renew extends every held lease; call it more often than the TTL (a third
// of it, say). A lease that expired and was taken, or changed, is dropped
// and reported with ErrLeaseLost, naming the partition.
func (l *Leases) Renew(ctx context.Context) error {
	var lost []error
	for _, p := range l.Held() {
		l.mu.Lock()
		rev := l.held[p]
		l.mu.Unlock()
		nrev, err := l.kv.Update(ctx, positionKey(p), []byte(l.worker), rev)
		l.mu.Lock()
		switch {
		case err == nil:
			l.held[p] = nrev
		case errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyNotFound):
			delete(l.held, p)
			lost = append(lost, fmt.Errorf("nats: partition %d: %w (worker %s)", p, ErrLeaseLost, l.worker))
		default:
			lost = append(lost, fmt.Errorf("nats: renew lease of partition %d: %w", p, err))
		}
		l.mu.Unlock()
	}
	return errors.Join(lost...)
}

// Release gives up every held lease at once and withdraws the heartbeat,
// for a clean stop, so that another worker need not wait for the TTL.
func (l *Leases) Release(ctx context.Context) error {
	var errs []error
	for _, p := range l.Held() {
		l.mu.Lock()
		rev := l.held[p]
		delete(l.held, p)
		l.mu.Unlock()
		if err := l.kv.Delete(ctx, positionKey(p), jetstream.LastRevision(rev)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			errs = append(errs, fmt.Errorf("nats: release partition %d: %w", p, err))
		}
	}
	// No longer counted in the fair share: the others take the partitions
	// at their next round.
	if err := l.kv.Delete(ctx, memberKey(l.worker)); err != nil {
		errs = append(errs, fmt.Errorf("nats: worker %s leaves: %w", l.worker, err))
	}
	return errors.Join(errs...)
}

// memberPrefix starts the keys of the leases bucket that say a worker is
// running: w.<escaped worker name>, renewed with the leases.
const memberPrefix = "w."

// memberKey is worker's key in the leases bucket. Key characters other than
// letters, digits, '-' and '_' are written =XX (hex), so every name fits.
func memberKey(worker string) string {
	const hex = "0123456789ABCDEF"
	b := []byte(memberPrefix)
	for i := 0; i < len(worker); i++ {
		switch c := worker[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b = append(b, c)
		default:
			b = append(b, '=', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// Heartbeat records this worker as running for one TTL; [Leases.Balance]
// does it on every round. A worker that dies stops its heartbeats, and
// after the TTL the others no longer count it in the fair share.
func (l *Leases) Heartbeat(ctx context.Context) error {
	if _, err := l.kv.Put(ctx, memberKey(l.worker), []byte(l.worker)); err != nil {
		return fmt.Errorf("nats: heartbeat of worker %s: %w", l.worker, err)
	}
	return nil
}

// Workers returns the keys of the running workers (those whose heartbeat
// is younger than the TTL), this one included, sorted: the order in which
// [FairShare] deals out partitions.
func (l *Leases) Workers(ctx context.Context) ([]string, error) {
	keys, err := l.kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("nats: workers: %w", err)
	}
	defer func() { _ = keys.Stop() }()
	var out []string
	for k := range keys.Keys() {
		if len(k) > len(memberPrefix) && k[:len(memberPrefix)] == memberPrefix {
			out = append(out, k)
		}
	}
	if me := memberKey(l.worker); !slices.Contains(out, me) {
		out = append(out, me)
	}
	slices.Sort(out)
	return out, nil
}

// FairShare is how many of n partitions the worker of key me should hold
// when the workers of keys (sorted, as [Leases.Workers] returns them) share
// them: n/len(keys), and one more for each of the first n%len(keys) workers.
// Over all the workers of one list the shares add up to n, so no worker is
// left idle while another holds two partitions more than it.
func FairShare(n int, keys []string, me string) int {
	i := slices.Index(keys, me)
	if i < 0 || len(keys) == 0 {
		return 0
	}
	share := n / len(keys)
	if i < n%len(keys) {
		share++
	}
	return share
}

// Balance is one round of automatic sharing among n partitions: it renews
// the held leases and the heartbeat, computes this worker's [FairShare],
// claims free partitions up to it (returning those it took) and returns the
// partitions it should give up beyond it, the highest first. It gives
// nothing up itself: the caller stops working on a partition, commits it and
// then calls [Leases.ReleasePartition], so its successor starts exactly
// where it stopped. A partition another worker holds is never taken: it
// becomes free when that worker gives it up or dies (after the TTL).
func (l *Leases) Balance(ctx context.Context, n int) (took, give []int, err error) {
	if err := l.Renew(ctx); err != nil {
		return nil, nil, err
	}
	if err := l.Heartbeat(ctx); err != nil {
		return nil, nil, err
	}
	keys, err := l.Workers(ctx)
	if err != nil {
		return nil, nil, err
	}
	share := FairShare(n, keys, memberKey(l.worker))
	held := l.Held()
	if len(held) > share {
		give = slices.Clone(held[share:])
		slices.Reverse(give)
		return nil, give, nil
	}
	for p := 0; p < n && len(held)+len(took) < share; p++ {
		if slices.Contains(held, p) {
			continue
		}
		ok, err := l.Claim(ctx, p)
		if err != nil {
			return took, nil, err
		}
		if ok {
			took = append(took, p)
		}
	}
	return took, nil, nil
}

// ReleasePartition gives up the lease of partition p, which the caller has
// stopped working on and committed, so that another worker may claim it at
// once.
func (l *Leases) ReleasePartition(ctx context.Context, p int) error {
	l.mu.Lock()
	rev, ok := l.held[p]
	delete(l.held, p)
	l.mu.Unlock()
	if !ok {
		return nil
	}
	if err := l.kv.Delete(ctx, positionKey(p), jetstream.LastRevision(rev)); err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		return fmt.Errorf("nats: release partition %d: %w", p, err)
	}
	return nil
}
