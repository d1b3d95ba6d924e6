//go:build full

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/health"
	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/metrics"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/store"
)

// busStream is stream --bus: the live pipeline as a worker on the bus, its
// source the owned partitions, its sinks behind the commit sink. A nil
// *busStream is stream without --bus, and its methods leave stream as it is.
type busStream struct {
	b       *bus
	leases  *nats.Leases
	src     *nats.Source
	signals *nats.SignalSink
	journal *streamJournal // --journal, or nil
	stderr  io.Writer
	obs     observe.Observer
}

// streamWorkerFlags are stream's flags for working on the bus: run's, and
// --journal, which run has for every input.
func streamWorkerFlags() []cli.Flag {
	return append(workerFlags(), &cli.StringFlag{Name: "journal", EnvVars: []string{"TICKFLOW_JOURNAL"},
		Usage: "with --bus: record every signal once in the journal at `URL` (" + dbURLForms + "), committed before the bus position"})
}

// opBusPublish is the operation type of a publish of signals to the bus.
const opBusPublish = "bus_publish"

// streamBus opens the bus of --bus, claims the partitions and registers the
// bus's metrics on reg and m (each commit of a message is a bus_ack
// operation, each publish of signals a bus_publish one) and its health check
// on mon; it returns nil without --bus. The caller closes it.
func streamBus(c *cli.Context, reg prometheus.Registerer, m *metrics.Metrics, mon *health.Monitor) (*busStream, error) {
	if !c.IsSet("bus") {
		if c.IsSet("journal") {
			return nil, usageError("--journal: stream records signals in a journal only as a worker on the bus: add --bus")
		}
		return nil, nil
	}
	for _, f := range []string{"source", "symbols", "synthetic-symbols"} {
		if c.IsSet(f) {
			return nil, usageError("--bus reads bars from the bus: drop --%s (tickflow ingest --%s publishes them)", f, f)
		}
	}
	b, err := openBus(c)
	if err != nil {
		return nil, err
	}
	n, err := nats.OpenLayout(c.Context, b.js, b.ns)
	if err != nil {
		b.Close()
		return nil, cli.Exit(fmt.Sprintf("--bus: %v (tickflow ingest --bus creates the streams)", err), exitFailure)
	}
	leases, err := claimPartitions(c, b, n)
	if err != nil {
		b.Close()
		return nil, err
	}
	s := &busStream{b: b, leases: leases, signals: &nats.SignalSink{JS: b.js, Namespace: b.ns}, stderr: c.App.ErrWriter, obs: m}
	if c.IsSet("journal") {
		st, err := openStore(c.Context, "--journal", c.String("journal"), forWriting)
		if err != nil {
			s.Close()
			return nil, err
		}
		// MaxHold 0: a position is committed only past what the journal
		// holds, so nothing may wait in memory.
		s.journal = &streamJournal{ownedJournal: ownedJournal{Journal: store.Journal{DB: st, Observer: m}}}
	}
	s.src, err = nats.NewSource(c.Context, b.js, sourceConfig(c, b, leases, m))
	if err != nil {
		s.Close()
		return nil, cli.Exit(fmt.Sprintf("--bus: %v", err), exitFailure)
	}
	if err := reg.Register(busCollector{s}); err != nil {
		s.Close()
		return nil, err
	}
	m.DeclareOperations(nats.OpAck, opBusPublish)
	mon.AddAPI("bus", nats.BusHealth{Conn: b.conn, JS: b.js})
	fmt.Fprintf(c.App.ErrWriter, "tickflow: worker %s owns %s of %d: %s\n", workerID(c), plural(len(leases.Held()), "partition"), n, partitionList(leases.Held()))
	return s, nil
}

// feed is the pipeline's source: the bus's, or streamFeed's without --bus.
func (s *busStream) feed(c *cli.Context, cfg *config.Config, log *slog.Logger, obs alpaca.Observer) (pipeline.Source[market.Event], error) {
	if s == nil {
		return streamFeed(c, cfg, log, obs)
	}
	return s.src, nil
}

// sink puts stream's sinks and the signals stream behind the commit sink.
// Every event reaches them (not SignalsOnly): the dashboard shows bars.
func (s *busStream) sink(inner pipeline.Sink[market.Event]) pipeline.Sink[market.Event] {
	if s == nil {
		return inner
	}
	outs := []pipeline.Sink[market.Event]{inner, observedSink{s.signals, s.obs, opBusPublish}}
	if s.journal != nil {
		outs = append(outs, s.journal)
	}
	return s.src.CommitSink(sinks.Tee(outs...), false)
}

// observedSink reports each Write of its sink as an operation: a failed
// one (after the sink's own retries) is an error of that operation type.
type observedSink struct {
	pipeline.Sink[market.Event]
	obs observe.Observer
	op  string
}

func (o observedSink) Write(ctx context.Context, events []market.Event) (err error) {
	end := observe.Start(o.obs, o.op)
	defer func() { end(err) }()
	return o.Sink.Write(ctx, events)
}

// overflow is the source edge's policy: a worker on the bus blocks, since
// the bus holds what it has not read and the commit sink counts every bar.
func (s *busStream) overflow(live pipeline.Overflow) pipeline.Overflow {
	if s == nil {
		return live
	}
	return pipeline.Block
}

// name is what stream says it streams.
func (s *busStream) name(feed string) string {
	if s == nil {
		return feed
	}
	return fmt.Sprintf("%s of the bus", plural(len(s.leases.Held()), "partition"))
}

// Close releases the leases, so that another worker need not wait for their
// TTL, and closes the bus.
func (s *busStream) Close() {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.leases.Release(ctx); err != nil {
		fmt.Fprintf(s.stderr, "tickflow: releasing leases: %v\n", err)
	}
	if s.journal != nil {
		if err := s.journal.Close(); err != nil {
			fmt.Fprintf(s.stderr, "tickflow: closing the journal: %v\n", err)
		}
	}
	s.b.Close()
}

// streamJournal is stream --bus's journal: closed by the pipeline after its
// last write, or by busStream.Close if no pipeline ran.
type streamJournal struct {
	ownedJournal
	once sync.Once
	err  error
}

func (j *streamJournal) Close() error {
	j.once.Do(func() { j.err = j.ownedJournal.Close() })
	return j.err
}

// busCollector exports the worker's bus counters at each scrape.
type busCollector struct{ s *busStream }

var (
	busLagDesc = prometheus.NewDesc("tickflow_bus_consumer_lag_messages",
		"Messages in the partition's stream not yet read by this worker.", []string{"partition"}, nil)
	busRedeliveredDesc = prometheus.NewDesc("tickflow_bus_redeliveries_total",
		"Messages that arrived again after they were read (skipped).", nil, nil)
	busReplayedDesc = prometheus.NewDesc("tickflow_bus_replayed_messages_total",
		"Messages read again to rebuild state, at or before a committed position.", nil, nil)
	busAckedDesc = prometheus.NewDesc("tickflow_bus_acks_total",
		"Messages committed after being read live.", nil, nil)
	busAckSecondsDesc = prometheus.NewDesc("tickflow_bus_ack_latency_seconds_total",
		"Sum of the committed messages' times from being read to being committed.", nil, nil)
	busAckMaxDesc = prometheus.NewDesc("tickflow_bus_ack_latency_max_seconds",
		"The longest time from reading a message to committing it.", nil, nil)
	busPublishErrorsDesc = prometheus.NewDesc("tickflow_bus_publish_errors_total",
		"Failed publish attempts of signals to the signals stream (each retried or returned).", nil, nil)
)

func (busCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{busLagDesc, busRedeliveredDesc, busReplayedDesc, busAckedDesc, busAckSecondsDesc, busAckMaxDesc, busPublishErrorsDesc} {
		ch <- d
	}
}

func (b busCollector) Collect(ch chan<- prometheus.Metric) {
	st := b.s.src.Stats()
	for _, p := range st.Partitions {
		ch <- prometheus.MustNewConstMetric(busLagDesc, prometheus.GaugeValue, float64(p.Lag), strconv.Itoa(p.Partition))
	}
	ch <- prometheus.MustNewConstMetric(busRedeliveredDesc, prometheus.CounterValue, float64(st.Redelivered))
	ch <- prometheus.MustNewConstMetric(busReplayedDesc, prometheus.CounterValue, float64(st.Replayed))
	ch <- prometheus.MustNewConstMetric(busAckedDesc, prometheus.CounterValue, float64(st.Acked))
	ch <- prometheus.MustNewConstMetric(busAckSecondsDesc, prometheus.CounterValue, st.AckLatency.Seconds())
	ch <- prometheus.MustNewConstMetric(busAckMaxDesc, prometheus.GaugeValue, st.AckLatencyMax.Seconds())
	ch <- prometheus.MustNewConstMetric(busPublishErrorsDesc, prometheus.CounterValue, float64(b.s.signals.Errors()))
}
