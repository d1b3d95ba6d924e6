//go:build full

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/nats/natsembed"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/store"
)

// The NATS JetStream side of the command line: --bus names the bus that
// ingest publishes bars to and that run --bus workers share (see package
// nats).

// busFlags are the flags that connect to the bus, shared by ingest and run.
func busFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "bus", Usage: "the NATS JetStream bus at `URL` (nats://HOST:PORT, several separated by commas), " +
			"or embedded: a server inside this process, keeping its data in --bus-dir"},
		&cli.StringFlag{Name: "bus-dir", Usage: "the embedded server's data `DIR` (default: tickflow/nats in your data directory, beside sqlite:'s default file)"},
		&cli.StringFlag{Name: "bus-namespace", Value: string(nats.DefaultNamespace),
			Usage: "the `NAME` of the streams, subjects and buckets, so that several deployments share one NATS system"},
	}
}

// bus is an open connection to the bus, and the embedded server if it runs
// one.
type bus struct {
	conn *natsclient.Conn
	js   jetstream.JetStream
	srv  *natsembed.Server
	ns   nats.Namespace
}

// openBus connects to the bus of the flags. A malformed URL is a usage
// error (exit 2); a bus that does not answer is a runtime failure (exit 1).
func openBus(c *cli.Context) (*bus, error) {
	raw := c.String("bus")
	ns := nats.Namespace(c.String("bus-namespace"))
	if raw == "embedded" {
		return openEmbedded(c, ns)
	}
	if c.IsSet("bus-dir") {
		return nil, usageError("--bus-dir is the embedded server's folder: it needs --bus embedded, got --bus %s", raw)
	}
	if err := checkBusURL(raw); err != nil {
		return nil, usageError("--bus: %v", err)
	}
	conn, js, err := nats.Connect(c.Context, raw)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("--bus %s: %v", raw, err), exitFailure)
	}
	return &bus{conn: conn, js: js, ns: ns}, nil
}

func openEmbedded(c *cli.Context, ns nats.Namespace) (*bus, error) {
	dir := c.String("bus-dir")
	if dir == "" {
		db, err := store.DefaultPath()
		if err != nil {
			return nil, cli.Exit(fmt.Sprintf("--bus embedded: no default --bus-dir: %v", err), exitFailure)
		}
		dir = filepath.Join(filepath.Dir(db), "nats")
	}
	srv, err := natsembed.Start(natsembed.Config{Dir: dir})
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("--bus embedded (data in %s): %v", dir, err), exitFailure)
	}
	conn, js, err := nats.Connect(c.Context, srv.URL())
	if err != nil {
		srv.Shutdown()
		return nil, cli.Exit(fmt.Sprintf("--bus embedded (data in %s): %v", dir, err), exitFailure)
	}
	return &bus{conn: conn, js: js, srv: srv, ns: ns}, nil
}

// checkBusURL accepts nats://HOST:PORT (or tls://, ws://, wss://), several
// separated by commas, so that a typo is exit 2 rather than a dial failure.
func checkBusURL(raw string) error {
	if raw == "" {
		return errors.New("empty: want nats://HOST:PORT or embedded")
	}
	for _, one := range strings.Split(raw, ",") {
		u, err := url.Parse(strings.TrimSpace(one))
		if err != nil {
			return fmt.Errorf("%q: %w", one, err)
		}
		switch u.Scheme {
		case "nats", "tls", "ws", "wss":
		default:
			return fmt.Errorf("%q: want nats://HOST:PORT or embedded", one)
		}
		host, port, err := net.SplitHostPort(u.Host)
		if err != nil || host == "" || port == "" {
			return fmt.Errorf("%q: want nats://HOST:PORT or embedded", one)
		}
	}
	return nil
}

// Close closes the connection, then stops the embedded server.
func (b *bus) Close() {
	b.conn.Close()
	if b.srv != nil {
		b.srv.Shutdown()
	}
}

// workerFlags are run's flags for working on the bus.
func workerFlags() []cli.Flag {
	return append(busFlags(),
		&cli.StringFlag{Name: "partition", Usage: "the partitions this worker owns: a `LIST` such as 0,3,8-11, each claimed " +
			"through a lease, waiting while another worker holds one (default: a fair share, kept while workers come and go: " +
			"the running workers split the partitions evenly, a joining worker gets its share from the others, and a dead " +
			"worker's partitions go to the survivors once its leases expire)"},
		&cli.BoolFlag{Name: "until-caught-up", Usage: "exit 0 once every owned partition has delivered what the stream held when the worker started"},
		&cli.StringFlag{Name: "worker-id", Usage: "this worker's `NAME` in the leases (default HOST-PID); a worker restarted " +
			"under its old name takes its leases back at once, instead of after their TTL"},
	)
}

// runBus is run --bus: a worker that owns partitions of the bars stream and
// writes their signals to the journal (--journal), the signals stream and
// stdout, each exactly once in effect across crashes and restarts.
func runBus(c *cli.Context, settings *config.Config) error {
	for _, f := range []string{"csv", "db", "source", "symbols", "synthetic-symbols", "synthetic-bars"} {
		if c.IsSet(f) {
			return usageError("--bus reads bars from the bus: drop --%s (tickflow ingest --%s publishes them)", f, f)
		}
	}
	b, err := openBus(c)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx := c.Context
	n, err := nats.OpenLayout(ctx, b.js, b.ns)
	if err != nil {
		return cli.Exit(fmt.Sprintf("--bus: %v (tickflow ingest --bus creates the streams)", err), exitFailure)
	}
	leases, err := claimPartitions(c, b, n)
	if err != nil {
		return err
	}
	defer func() {
		// The leases go back even when the run was interrupted, so that
		// another worker need not wait for their TTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := leases.Release(rctx); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "tickflow: releasing leases: %v\n", err)
		}
	}()
	owned := leases.Held()
	src, err := nats.NewSource(ctx, b.js, sourceConfig(c, b, leases, nil))
	if err != nil {
		return cli.Exit(fmt.Sprintf("--bus: %v", err), exitFailure)
	}
	out, emit, err := output(settings, c.App.Writer)
	if err != nil {
		return err
	}
	inner := []pipeline.Sink[market.Event]{out}
	if c.IsSet("journal") {
		st, err := openStore(ctx, "--journal", c.String("journal"), forWriting)
		if err != nil {
			return err
		}
		// MaxHold 0: a position is committed only past what the journal
		// holds, so nothing may wait in memory.
		inner = append(inner, newJournal(c, journalRun("run --bus", settings), st)) // db.go
	}
	signalSink := &nats.SignalSink{JS: b.js, Namespace: b.ns}
	inner = append(inner, signalSink)
	sig := &signalCount{next: sinks.Tee(inner...)}

	cfg := pipelineConfig(settings)
	// Not SignalsOnly, and the default Block overflow: the commit sink
	// counts one event per bar, and filters signals itself.
	p, err := tickflow.New(src, src.CommitSink(sig, emit == sinks.EmitSignals), cfg)
	if err != nil {
		return usageError("%v", err)
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: worker %s owns %s of %d: %s\n", workerID(c), plural(len(owned), "partition"), n, partitionList(owned))
	start := time.Now()
	stopProgress := progress(c.App.ErrWriter, p.Stats)
	err = p.Run(ctx)
	stopProgress()
	elapsed := time.Since(start)
	st := src.Stats()
	bars := p.Stats()[0].Out
	var failures pipeline.Failures
	if err != nil && !errors.As(err, &failures) && !errors.Is(err, ctx.Err()) {
		return exitFor(c, err, "", "")
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: %d bars (%d messages replayed), %d signals (%d to the signals stream), %d failed, %s, %.0f bars/s\n",
		bars, st.Replayed, sig.n, signalSink.Published(), len(p.Failures()), elapsed.Round(time.Millisecond), float64(bars)/elapsed.Seconds())
	return exitFor(c, err, "failed", "interrupted; what was committed stays committed, the rest is replayed by the next worker")
}

// sourceConfig is the worker's source: pinned to the held partitions with
// --partition, else rebalanced to a fair share, each change told on stderr.
func sourceConfig(c *cli.Context, b *bus, leases *nats.Leases, obs observe.Observer) nats.SourceConfig {
	cfg := nats.SourceConfig{Namespace: b.ns, UntilCaughtUp: c.Bool("until-caught-up"), Leases: leases, Observer: obs}
	if c.IsSet("partition") {
		cfg.Partitions = leases.Held()
		return cfg
	}
	cfg.Rebalance = true
	id, stderr := workerID(c), c.App.ErrWriter
	cfg.OnRebalance = func(p int, taken bool) {
		if taken {
			fmt.Fprintf(stderr, "tickflow: worker %s takes partition %d for its fair share (the partition was free: its worker stopped, or gave it up to rebalance)\n", id, p)
		} else {
			fmt.Fprintf(stderr, "tickflow: worker %s gave up partition %d, committed, for another worker's fair share\n", id, p)
		}
	}
	return cfg
}

// claimPartitions takes the leases of --partition's list, waiting for any
// that another worker holds, or of a fair share of the partitions. With
// --until-caught-up and no partition free, it waits for one.
func claimPartitions(c *cli.Context, b *bus, n int) (*nats.Leases, error) {
	ctx := c.Context
	leases, err := nats.OpenLeases(ctx, b.js, b.ns, workerID(c), 0)
	if err != nil {
		return nil, cli.Exit(fmt.Sprintf("--bus: %v", err), exitFailure)
	}
	if !c.IsSet("partition") {
		poll := time.NewTicker(max(leases.TTL()/10, 100*time.Millisecond))
		defer poll.Stop()
		for said := false; ; said = true {
			if _, _, err := leases.Balance(ctx, n); err != nil {
				if ctx.Err() != nil {
					return nil, interruptedError("no partition was processed")
				}
				return nil, cli.Exit(fmt.Sprintf("--bus: %v", err), exitFailure)
			}
			if len(leases.Held()) > 0 || !c.Bool("until-caught-up") {
				return leases, nil
			}
			if !said {
				fmt.Fprintf(c.App.ErrWriter, "tickflow: every one of the %d partitions is held by another worker; waiting for a share\n", n)
			}
			select {
			case <-ctx.Done():
				return nil, interruptedError("no partition was processed")
			case <-poll.C:
			}
		}
	}
	list, err := nats.ParsePartitions(c.String("partition"), n)
	if err != nil {
		return nil, usageError("--partition: %v", err)
	}
	for _, p := range list {
		if err := claimWaiting(c, leases, p); err != nil {
			return nil, err
		}
	}
	return leases, nil
}

// claimWaiting claims p, polling while another worker holds it: its lease
// ends when that worker releases it or, if it died, after the TTL.
func claimWaiting(c *cli.Context, leases *nats.Leases, p int) error {
	ctx := c.Context
	poll := time.NewTicker(max(leases.TTL()/10, 100*time.Millisecond))
	defer poll.Stop()
	for said := false; ; said = true {
		ok, err := leases.Claim(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				return interruptedError("no partition was processed")
			}
			return cli.Exit(fmt.Sprintf("--bus: partition %d: %v", p, err), exitFailure)
		}
		if ok {
			return nil
		}
		if !said {
			fmt.Fprintf(c.App.ErrWriter, "tickflow: partition %d is held by another worker; waiting for its lease (at most %v after that worker dies)\n", p, leases.TTL())
		}
		select {
		case <-ctx.Done():
			return interruptedError("no partition was processed")
		case <-poll.C:
		}
	}
}

// workerID is --worker-id, or the host name and process id.
func workerID(c *cli.Context) string {
	if id := c.String("worker-id"); id != "" {
		return id
	}
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// partitionList writes partitions as ParsePartitions reads them.
func partitionList(ps []int) string {
	var b strings.Builder
	for i := 0; i < len(ps); {
		j := i
		for j+1 < len(ps) && ps[j+1] == ps[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j > i {
			fmt.Fprintf(&b, "%d-%d", ps[i], ps[j])
		} else {
			fmt.Fprintf(&b, "%d", ps[i])
		}
		i = j + 1
	}
	return b.String()
}
