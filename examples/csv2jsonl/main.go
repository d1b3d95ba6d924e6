// Csv2jsonl is the smallest useful tickflow program: it reads bars from CSV
// files, runs the default StochRSI/EMA strategy and writes the signals as
// JSON lines. It imports only the dependency-free sources and sinks, so it
// links no database driver, broker or exchange SDK (CI checks its size).
//
//	go run ./examples/csv2jsonl ../shared/data/spy-1d.csv
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/tickflow/tickflow"
	"github.com/tickflow/tickflow/sinks"
	"github.com/tickflow/tickflow/sources"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: csv2jsonl FILE_OR_FOLDER...")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	src := &sources.CSV{Paths: os.Args[1:]}
	p, err := tickflow.New(src, &sinks.JSONL{W: os.Stdout}, tickflow.Config{SignalsOnly: true})
	if err == nil {
		err = p.Run(ctx)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "csv2jsonl:", err)
		os.Exit(1)
	}
}
