package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// Defaults of tickflow sample are those of run's built-in data, so that
// "tickflow run --csv data/" prints, symbol by symbol, what "tickflow run" does. The bounds are
// lower than run's since the sample is held in memory before it is written.
const (
	defaultSampleSymbols = 5
	defaultSampleBars    = 5000
	defaultSampleSeed    = 1
	maxSampleSymbols     = 1000
	maxSampleBars        = 1_000_000
)

func sampleCommand() *cli.Command {
	return &cli.Command{
		Name:  "sample",
		Usage: "write sample CSV files of synthetic bars (the data of the README's examples)",
		Description: `Writes one CSV file per symbol, DIR/SYM1.csv, DIR/SYM2.csv, ..., of seeded
synthetic minute bars, in the format "tickflow run --csv" reads. They are the
walks "tickflow run" uses without input (same --synthetic-symbols,
--synthetic-bars, --seed and defaults), so the two commands below print the
same signals for each symbol, and the same flags always write the same bytes:

  tickflow sample --out data/
  tickflow run --csv data/

Each file is written to a temporary file beside it and renamed, so an
existing file is replaced whole or not at all; the folder is created if
missing.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "data", Usage: "write the files into folder `DIR`"},
			&cli.IntFlag{Name: "synthetic-symbols", Value: defaultSampleSymbols, Usage: fmt.Sprintf("how many symbols: 1 to %d", maxSampleSymbols)},
			&cli.IntFlag{Name: "synthetic-bars", Value: defaultSampleBars, Usage: fmt.Sprintf("bars per symbol: 1 to %d", maxSampleBars)},
			&cli.Uint64Flag{Name: "seed", Value: defaultSampleSeed, Usage: "seed of the random walks"},
		},
		Action: sampleAction,
	}
}

func sampleAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("sample takes no arguments, got %q (did you mean --out %s?)", c.Args().First(), c.Args().First())
	}
	n, bars := c.Int("synthetic-symbols"), c.Int("synthetic-bars")
	if n < 1 || n > maxSampleSymbols {
		return usageError("--synthetic-symbols: must be from 1 to %d, got %d", maxSampleSymbols, n)
	}
	if bars < 1 || bars > maxSampleBars {
		return usageError("--synthetic-bars: must be from 1 to %d, got %d", maxSampleBars, bars)
	}
	dir := c.String("out")
	if dir == "" {
		return usageError("--out: empty folder name")
	}
	files, err := sampleCSV(c.Context, &sources.Synthetic{Symbols: n, Bars: bars, Seed: c.Uint64("seed")})
	if err != nil {
		return cli.Exit(fmt.Sprintf("sample: %v", err), exitFailure)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cli.Exit(fmt.Sprintf("sample: %v", err), exitFailure)
	}
	for _, f := range files {
		path := filepath.Join(dir, f.symbol+".csv")
		err := writeFileAtomic(path, func(w io.Writer) error {
			_, err := w.Write(f.rows)
			return err
		})
		if err != nil {
			return cli.Exit(fmt.Sprintf("sample: %s: %v", path, err), exitFailure)
		}
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: wrote %s of %d bars to %s\n", plural(len(files), "CSV file"), bars, dir)
	return nil
}

// sampleFile is one symbol's CSV, header included.
type sampleFile struct {
	symbol string
	rows   []byte
}

// sampleCSV renders src's bars as one CSV per symbol, in the order the
// symbols first appear. The whole sample is held in memory (about 70 bytes
// a bar) so that no file is written unless every bar was generated.
func sampleCSV(ctx context.Context, src pipeline.Source[market.Event]) ([]sampleFile, error) {
	var files []sampleFile
	index := map[string]int{}
	sink := pipeline.SinkFunc[market.Event](func(_ context.Context, items []market.Event) error {
		for _, e := range items {
			i, ok := index[e.Symbol]
			if !ok {
				i = len(files)
				index[e.Symbol] = i
				files = append(files, sampleFile{symbol: e.Symbol, rows: []byte("symbol,time,open,high,low,close,volume\n")})
			}
			files[i].rows = appendBarCSV(files[i].rows, e.Bar)
		}
		return nil
	})
	if err := pipeline.New(pipeline.Config[market.Event]{}).From("synthetic", src).To("csv", sink).Run(ctx); err != nil {
		return nil, err
	}
	return files, nil
}
