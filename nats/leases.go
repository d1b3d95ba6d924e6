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

// Release gives up every held lease at once, for a clean stop, so that
// another worker need not wait for the TTL.
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
	return errors.Join(errs...)
}
