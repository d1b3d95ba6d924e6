package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Layout describes the streams tickflow uses. Its zero value means the
// defaults, except Partitions, which [EnsureLayout] requires.
type Layout struct {
	// Namespace names the streams and the bucket (default "tickflow").
	Namespace Namespace
	// Partitions is the number of bar partitions; it is fixed when the
	// bars stream is created (a stream with another number is refused).
	Partitions int
	// DuplicateWindow is how long the server remembers message ids
	// (default DefaultDuplicateWindow): an ingest rerun within it after a
	// crash adds no bar twice.
	DuplicateWindow time.Duration
	// Storage is where streams keep messages (default file).
	Storage jetstream.StorageType
	// Replicas is the streams' replication (default 1; 3 on a cluster of
	// three).
	Replicas int
}

// DefaultDuplicateWindow is the duplicate window of new streams.
const DefaultDuplicateWindow = 10 * time.Minute

// ErrLayout reports a stream that exists with another layout than
// tickflow's.
var ErrLayout = errors.New("stream has another layout")

const descPrefix = "tickflow bars v1 partitions="

// EnsureLayout creates the bars and signals streams and the positions
// bucket, or checks that existing ones have tickflow's layout and
// l.Partitions partitions.
func EnsureLayout(ctx context.Context, js jetstream.JetStream, l Layout) error {
	if l.Partitions < 1 || l.Partitions > 100000 {
		return fmt.Errorf("nats: %d partitions: want 1 to 100000", l.Partitions)
	}
	ns := l.Namespace
	if err := ns.validate(); err != nil {
		return err
	}
	if l.DuplicateWindow <= 0 {
		l.DuplicateWindow = DefaultDuplicateWindow
	}
	if l.Replicas <= 0 {
		l.Replicas = 1
	}
	bars := jetstream.StreamConfig{
		Name: ns.BarsStream(), Description: descPrefix + strconv.Itoa(l.Partitions),
		Subjects: []string{ns.barsPrefix() + ">"}, Storage: l.Storage, Replicas: l.Replicas,
		Duplicates: l.DuplicateWindow,
	}
	sigs := jetstream.StreamConfig{
		Name: ns.SignalsStream(), Description: "tickflow signals v1",
		Subjects: []string{ns.signalsPrefix() + ">"}, Storage: l.Storage, Replicas: l.Replicas,
		Duplicates: l.DuplicateWindow,
	}
	for _, cfg := range []jetstream.StreamConfig{bars, sigs} {
		s, err := js.Stream(ctx, cfg.Name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			_, err = js.CreateStream(ctx, cfg)
			if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
				s, err = js.Stream(ctx, cfg.Name) // created meanwhile by another ingest
			} else if err != nil {
				return fmt.Errorf("nats: create stream %s: %w", cfg.Name, err)
			} else {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("nats: stream %s: %w", cfg.Name, err)
		}
		if err := checkStream(s.CachedInfo().Config, cfg); err != nil {
			return err
		}
	}
	if _, err := positions(ctx, js, ns, l.Storage, l.Replicas); err != nil {
		return err
	}
	return nil
}

// OpenLayout checks the bars stream's layout and returns its number of
// partitions.
func OpenLayout(ctx context.Context, js jetstream.JetStream, ns Namespace) (partitions int, err error) {
	if err := ns.validate(); err != nil {
		return 0, err
	}
	s, err := js.Stream(ctx, ns.BarsStream())
	if err != nil {
		return 0, fmt.Errorf("nats: stream %s: %w (run tickflow ingest first)", ns.BarsStream(), err)
	}
	cfg := s.CachedInfo().Config
	n, err := strconv.Atoi(strings.TrimPrefix(cfg.Description, descPrefix))
	if !strings.HasPrefix(cfg.Description, descPrefix) || err != nil || n < 1 {
		return 0, fmt.Errorf("nats: stream %s: %w: description %q is not %q<N>", ns.BarsStream(), ErrLayout, cfg.Description, descPrefix)
	}
	if err := checkStream(cfg, jetstream.StreamConfig{Name: ns.BarsStream(), Description: cfg.Description,
		Subjects: []string{ns.barsPrefix() + ">"}}); err != nil {
		return 0, err
	}
	return n, nil
}

func checkStream(have, want jetstream.StreamConfig) error {
	if !slices.Equal(have.Subjects, want.Subjects) {
		return fmt.Errorf("nats: stream %s: %w: subjects %q, tickflow's are %q", want.Name, ErrLayout, have.Subjects, want.Subjects)
	}
	if have.Description != want.Description {
		return fmt.Errorf("nats: stream %s: %w: description %q, want %q (another partition count?)", want.Name, ErrLayout, have.Description, want.Description)
	}
	return nil
}

func positions(ctx context.Context, js jetstream.JetStream, ns Namespace, st jetstream.StorageType, replicas int) (jetstream.KeyValue, error) {
	kv, err := js.KeyValue(ctx, ns.PositionsBucket())
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: ns.PositionsBucket(),
			Description: "tickflow: committed stream sequence per bars partition", Storage: st, Replicas: max(replicas, 1)})
	}
	if err != nil {
		return nil, fmt.Errorf("nats: bucket %s: %w", ns.PositionsBucket(), err)
	}
	return kv, nil
}

func positionKey(p int) string { return "p" + strconv.Itoa(p) }
