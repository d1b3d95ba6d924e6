package nats_test

import (
	"context"
	"fmt"
	"os"

	tickflow "github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/nats/natsembed"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

// Ingest synthetic bars into an embedded server, then run a worker over
// every partition until it has caught up, writing signals to the signals
// stream and counting them.
func Example() {
	dir, _ := os.MkdirTemp("", "tickflow-nats")
	defer os.RemoveAll(dir)
	srv, err := natsembed.Start(natsembed.Config{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown()
	ctx := context.Background()
	nc, js, err := nats.Connect(ctx, srv.URL())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer nc.Close()

	// tickflow ingest --synthetic --bus URL --partitions 4
	if err := nats.EnsureLayout(ctx, js, nats.Layout{Partitions: 4}); err != nil {
		fmt.Println(err)
		return
	}
	pub, err := nats.NewPublisher(ctx, js, nats.PublisherConfig{Partitions: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	bars := &sources.Synthetic{Symbols: 8, Bars: 500, Seed: 1}
	if err := pipeline.New(pipeline.Config[market.Event]{}).From("synthetic", bars).To("bus", pub).Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("ingested", pub.Stats().Bars, "bars in", pub.Stats().Messages, "messages")

	// tickflow run --bus URL --until-caught-up
	src, err := nats.NewSource(ctx, js, nats.SourceConfig{UntilCaughtUp: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	var n int
	count := pipeline.SinkFunc[market.Event](func(_ context.Context, evs []market.Event) error {
		n += len(evs)
		return nil
	})
	out := src.CommitSink(sinks.Tee(count, &nats.SignalSink{JS: js}), true)
	p, err := tickflow.New(src, out, tickflow.Config{}) // not SignalsOnly: the commit sink filters
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Run(ctx); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("signals:", n, "positions:", len(src.Stats().Partitions))
	// Output:
	// ingested 4000 bars in 16 messages
	// signals: 86 positions: 4
}
