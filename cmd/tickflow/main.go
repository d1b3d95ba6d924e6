// Command tickflow turns market data into trading signals with a concurrent
// StochRSI/EMA pipeline. Run it with no arguments to see it work on built-in
// synthetic data; see "tickflow help" for the rest.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed, or some symbols did
	exitUsage   = 2 // the command line is wrong
)

func main() {
	ctx, stop := interruptible()
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM
// (graceful: sources stop, in-flight bars drain, sinks flush); a second one
// exits at once.
func interruptible() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(os.Stderr, "tickflow: stopping: draining in-flight bars (interrupt again to exit at once)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "tickflow: interrupted twice, exiting")
		os.Exit(130)
	}()
	return ctx, func() { signal.Stop(sigs); cancel() }
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "tickflow:", msg)
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "tickflow:", err)
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	return exitFailure
}

var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:      "tickflow",
		Usage:     "turn market data into trading signals with a concurrent StochRSI/EMA pipeline",
		Version:   version(),
		Writer:    stdout,
		ErrWriter: stderr,
		Commands:  commands(),
		// No arguments at all: show the pipeline at work on built-in data.
		DefaultCommand: "run",
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError("%v", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // run decides the exit
	}
	for _, c := range app.Commands {
		if c.OnUsageError == nil {
			c.OnUsageError = app.OnUsageError
		}
	}
	return app
}

// commands lists the subcommands, one file each.
func commands() []*cli.Command {
	return []*cli.Command{
		runCommand(), fetchCommand(),
		streamCommand(), configCommand(),
		importCommand(), signalsCommand(), // db.go, import.go, signals.go
		indicatorsCommand(), // indicators.go
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}
