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
	"slices"
	"strings"
	"syscall"
	_ "time/tzdata" // --tz names a zone on machines without a zone database

	"github.com/urfave/cli/v2"
)

// Exit statuses: the one rule of every command, stated in --help (see
// exitRule) and the README.
const (
	exitOK      = 0
	exitFailure = 1 // the run failed, or some symbols did
	exitUsage   = 2 // the command line, the configuration or a database URL is wrong
	// An interrupted command exits 128 plus the signal's number (130 for
	// SIGINT, 143 for SIGTERM), after draining: what was read before was
	// written. A failure found while draining is still exit 1.
	exitInterrupted = 130
)

const exitRule = `Exit status: 0 success; 1 runtime failure (the run, or some symbols, failed); 2 usage
or configuration error (unknown command or flag, bad value, bad --config file or TICKFLOW_*
variable, malformed database URL, or a database to read that does not exist); 130 interrupted
by Ctrl-C (143 by SIGTERM) after draining what was read, so the output is whole but ends early.
A second interrupt exits at once.`

func main() {
	ctx, stop := interruptible()
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// interruption is the cause of the context of an interrupted command.
type interruption struct{ sig os.Signal }

func (i interruption) Error() string { return "interrupted by " + i.sig.String() }

// exitCode is 128 plus the signal's number, as shells report it.
func (i interruption) exitCode() int {
	if s, ok := i.sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return exitInterrupted
}

// interruptible returns a context cancelled by the first SIGINT or SIGTERM
// (graceful: sources stop, in-flight bars drain, sinks flush); a second one
// exits at once.
func interruptible() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		var sig os.Signal
		select {
		case sig = <-sigs:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(os.Stderr, "tickflow: stopping: draining in-flight bars (interrupt again to exit at once)")
		cancel(interruption{sig})
		sig = <-sigs
		fmt.Fprintln(os.Stderr, "tickflow: interrupted twice, exiting")
		os.Exit(interruption{sig}.exitCode())
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	if err := checkCommand(app, args); err != nil {
		fmt.Fprintln(stderr, "tickflow:", err)
		return exitUsage
	}
	err := app.RunContext(ctx, args)
	if ctx.Err() != nil && (err == nil || errors.Is(err, errInterrupted)) {
		// Stopped by a signal after a clean drain: one status for every
		// command, whether it runs to the end of its input or until stopped.
		if err != nil {
			fmt.Fprintln(stderr, "tickflow:", err)
		}
		var i interruption
		if errors.As(context.Cause(ctx), &i) {
			return i.exitCode()
		}
		return exitInterrupted
	}
	if err == nil {
		return exitOK
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		if msg := err.Error(); msg != "" {
			fmt.Fprintln(stderr, "tickflow:", msg)
		}
		if ec.ExitCode() == 3 { // urfave/cli's "No help topic for ..."
			return exitUsage
		}
		return ec.ExitCode()
	}
	fmt.Fprintln(stderr, "tickflow:", err)
	if errors.Is(err, errUsage) {
		return exitUsage
	}
	return exitFailure
}

// checkCommand rejects an unknown command before urfave/cli would take it
// for an argument of the default command or a help topic.
func checkCommand(app *cli.App, args []string) error {
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		return nil
	}
	names := []string{"help", "h"}
	for _, c := range app.Commands {
		if slices.Contains(c.Names(), args[1]) {
			return nil
		}
		names = append(names, c.Name)
	}
	return usageError("unknown command %q; the commands are %s (see tickflow help)", args[1], strings.Join(names[2:], ", "))
}

var (
	errUsage       = errors.New("usage")
	errInterrupted = errors.New("interrupted")
)

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// interruptedError is a command's result when its context was cancelled:
// msg says what became of the input read before.
func interruptedError(msg string) error {
	return fmt.Errorf("%w; %s", errInterrupted, msg)
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:  "tickflow",
		Usage: "turn market data into trading signals with a concurrent StochRSI/EMA pipeline",
		Description: `Settings come from the defaults, a --config YAML file, TICKFLOW_* variables and
flags, each overriding the one before, in every command (see tickflow config).

` + exitRule,
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
		c.Description = strings.TrimSpace(c.Description + "\n\n" + exitRule)
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
		backtestCommand(),
		ingestCommand(), // ingest.go; run --bus is in bus.go
		sampleCommand(), // sample.go
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}
