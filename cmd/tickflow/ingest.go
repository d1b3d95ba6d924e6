//go:build full

package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/config"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

func ingestCommand() *cli.Command {
	return &cli.Command{
		Name:  "ingest",
		Usage: "publish bars to the NATS JetStream bus, for run --bus workers to share",
		Description: `Reads bars from any input run reads (built-in synthetic data by default, --csv, --db or
--source alpaca) and publishes them once to the bars stream of --bus, each symbol to its
partition (of --partitions, fixed when the stream is first made). Workers then share the
partitions: tickflow run --bus URL --partition LIST.

With --live, publishes a live feed until interrupted instead: synthetic ticks for
--synthetic-symbols symbols at --rate bars per second, or with --source alpaca Alpaca's live
bars of --symbols (after --warmup bars of history each); a symbol's bars go out at the
latest 200ms after they arrive.

Rerunning an ingest that was stopped or crashed publishes nothing twice: messages carry ids
made of their symbol and bar times, which the server remembers for its duplicate window
(10 minutes).`,
		Flags: append(append(append(inputFlags(), storeRunFlags()[0]), busFlags()...),
			append([]cli.Flag{
				&cli.IntFlag{Name: "partitions", Value: defaultPartitions, DefaultText: "an existing stream's, else 16", Usage: "the number of bar partitions, 1 to " +
					fmt.Sprint(maxPartitions) + ": the most workers that can share the work"},
				&cli.IntFlag{Name: "replicas", Value: 1, Usage: "copies of each stream on a NATS cluster, 1 to 5 (3 on a cluster of three), fixed when the streams are made"},
				&cli.BoolFlag{Name: "live", Usage: "publish a live feed until interrupted (see above)"},
				alpacaStreamFlag("warmup"), alpacaStreamFlag("alpaca-stale-after"),
			}, configFlags("async.", "stream.rate")...)...),
		Action: ingestAction,
	}
}

// Partitions of a new bars stream: more than a small deployment's workers,
// so that it can grow without making the stream again.
const (
	defaultPartitions = 16
	maxPartitions     = 4096
)

func ingestAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("ingest takes no arguments, got %q (did you mean --csv %s?)", c.Args().First(), c.Args().First())
	}
	if !c.IsSet("bus") {
		return usageError("ingest needs --bus URL (or --bus embedded)")
	}
	n := c.Int("partitions")
	if n < 1 || n > maxPartitions {
		return usageError("--partitions: must be from 1 to %d, got %d", maxPartitions, n)
	}
	replicas := c.Int("replicas")
	if replicas < 1 || replicas > 5 {
		return usageError("--replicas: must be from 1 to 5, got %d", replicas)
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	b, err := openBus(c)
	if err != nil {
		return err
	}
	defer b.Close()
	ctx := c.Context
	if !c.IsSet("partitions") {
		// An existing stream's number is the default: only a different
		// one asked for is an error.
		if existing, err := nats.OpenLayout(ctx, b.js, b.ns); err == nil {
			n = existing
		}
	}
	if err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: n, Replicas: replicas}); err != nil {
		return cli.Exit(fmt.Sprintf("--bus: %v", err), exitFailure)
	}
	src, csv, err := ingestInput(c, cfg)
	if err != nil {
		return err
	}
	pcfg := nats.PublisherConfig{Namespace: b.ns, Partitions: n}
	if c.Bool("live") {
		pcfg.Linger = liveLinger
	}
	pub, err := nats.NewPublisher(ctx, b.js, pcfg)
	if err != nil {
		return cli.Exit(fmt.Sprintf("--bus: %v", err), exitFailure)
	}
	p := pipeline.New(pipeline.Config[market.Event]{}).From("input", src).To("bus", pub)
	start := time.Now()
	err = p.Run(ctx)
	elapsed := time.Since(start)
	st := pub.Stats()
	fmt.Fprintf(c.App.ErrWriter, "tickflow: published %d bars in %d messages to %d partitions, %d publish errors retried, %s, %.0f bars/s\n",
		st.Bars, st.Messages, n, st.PublishErrors, elapsed.Round(time.Millisecond), float64(st.Bars)/elapsed.Seconds())
	reportSkipped(c, csv)
	return exitFor(c, err, "failed", "interrupted; what was acknowledged is stored, and a rerun adds the rest without duplicates")
}

// liveLinger is how long a live symbol's bars wait for a fuller message:
// short beside a one-minute bar, long enough to batch a fast feed.
const liveLinger = 200 * time.Millisecond

// ingestInput is run's input, or with --live stream's feed.
func ingestInput(c *cli.Context, cfg *config.Config) (pipeline.Source[market.Event], *sources.CSV, error) {
	if !c.Bool("live") {
		return rangeInput(c, cfg) // the range alone: no warm-up to publish
	}
	if len(c.StringSlice("csv")) > 0 || c.IsSet("db") {
		return nil, nil, usageError("--live publishes a live feed: drop --csv and --db")
	}
	// ingest's --synthetic-symbols is run's int flag, not stream's setting.
	cfg.Stream.SyntheticSymbols = c.Int("synthetic-symbols")
	if n := cfg.Stream.SyntheticSymbols; n < 1 || n > maxSyntheticSymbols {
		return nil, nil, usageError("--synthetic-symbols: must be from 1 to %d, got %d", maxSyntheticSymbols, n)
	}
	src, err := streamFeed(c, cfg, stderrLogger(c.App.ErrWriter), nil)
	return src, nil, err
}

// alpacaStreamFlag is one of stream's Alpaca flags, by name.
func alpacaStreamFlag(name string) cli.Flag {
	for _, f := range alpacaStreamFlags() {
		if f.Names()[0] == name {
			return f
		}
	}
	panic("no stream flag " + name)
}
