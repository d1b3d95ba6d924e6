package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/pipeline"
)

func ingestCommand() *cli.Command {
	return &cli.Command{
		Name:  "ingest",
		Usage: "publish bars to the NATS JetStream bus, for run --bus workers to share",
		Description: `Reads bars from any input run reads (built-in synthetic data by default, --csv, --db or
--source alpaca) and publishes them once to the bars stream of --bus, each symbol to its
partition (of --partitions, fixed when the stream is first made). Workers then share the
partitions: tickflow run --bus URL --partition LIST.

Rerunning an ingest that was stopped or crashed publishes nothing twice: messages carry ids
made of their symbol and bar times, which the server remembers for its duplicate window
(10 minutes).`,
		Flags: append(append(append(inputFlags(), storeRunFlags()[0]), busFlags()...),
			append([]cli.Flag{
				&cli.IntFlag{Name: "partitions", Value: defaultPartitions, Usage: "the number of bar partitions, 1 to " +
					fmt.Sprint(maxPartitions) + ": the most workers that can share the work (must match an existing stream's)"},
			}, configFlags("async.")...)...),
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
	if err := nats.EnsureLayout(ctx, b.js, nats.Layout{Namespace: b.ns, Partitions: n}); err != nil {
		return cli.Exit(fmt.Sprintf("--bus: %v", err), exitFailure)
	}
	src, csv, err := input(c, cfg)
	if err != nil {
		return err
	}
	pub, err := nats.NewPublisher(ctx, b.js, nats.PublisherConfig{Namespace: b.ns, Partitions: n})
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
