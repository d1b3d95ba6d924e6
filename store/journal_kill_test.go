package store_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// envKillChild carries the database URL to the re-executed test binary.
const envKillChild = "TICKFLOW_TEST_JOURNAL_CHILD"

// The journaled run: 20 symbols x 6,000 synthetic bars, a signal on every
// fourth bar of each symbol: 30,000 signals.
const (
	killSymbols = 20
	killBars    = 6000
	killSignals = killSymbols * killBars / 4
	killAfter   = 3000 // signals committed before the kill
)

// markSignals is the child's strategy: deterministic, one signal every
// fourth minute.
func markSignals(e market.Event) market.Event {
	if e.Time.Unix()/60%4 == 0 {
		side := market.Buy
		if e.Close < e.Open {
			side = market.Sell
		}
		e.Signal = &market.Signal{Symbol: e.Symbol, Time: e.Time, Side: side, Price: e.Close, Reason: "every fourth minute",
			Indicators: market.DefaultRecord(e.Open, true, 0, 0, false)}
	}
	return e
}

// progressStore prints how many signals have been committed after each
// journal transaction, for the parent to watch.
type progressStore struct {
	store.Store
	n atomic.Int64
}

func (p *progressStore) WriteSignals(ctx context.Context, run *store.Run, s []market.Signal) (int, error) {
	added, err := p.Store.WriteSignals(ctx, run, s)
	if err == nil {
		fmt.Printf("journaled %d\n", p.n.Add(int64(len(s))))
	}
	return added, err
}

// TestJournalKillChild is the journaled run that TestJournalSIGKILL starts in
// a subprocess; it is skipped otherwise.
func TestJournalKillChild(t *testing.T) {
	dbURL := os.Getenv(envKillChild)
	if dbURL == "" {
		t.Skip("run by TestJournalSIGKILL in a subprocess")
	}
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	j := &store.Journal{DB: &progressStore{Store: st}, BatchSize: 200, MaxHold: time.Hour}
	em := &batchEmitter{ctx: ctx, sink: j}
	if err := (&sources.Synthetic{Symbols: killSymbols, Bars: killBars, Seed: 42}).Produce(ctx, em); err != nil {
		t.Fatal(err)
	}
	if err := em.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

// batchEmitter stands in for the pipeline between the child's source and
// the journal: it applies the strategy and hands the sink batches of 64
// events, as the pipeline does by default.
type batchEmitter struct {
	ctx   context.Context
	sink  pipeline.Sink[market.Event]
	batch []market.Event
}

func (e *batchEmitter) Emit(ev market.Event) error {
	e.batch = append(e.batch, markSignals(ev))
	if len(e.batch) == 64 {
		return e.Flush()
	}
	return nil
}

func (e *batchEmitter) Flush() error {
	err := e.sink.Write(e.ctx, e.batch)
	e.batch = e.batch[:0]
	return err
}

func (e *batchEmitter) Fail(key string, err error) { panic(fmt.Sprintf("%s: %v", key, err)) }

func journalCmd(dbURL string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestJournalKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillChild+"="+dbURL)
	return cmd
}

func countJournal(t *testing.T, dbURL string) []string {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return journalKeys(t, st)
}

// TestJournalSIGKILL kills a journaled run with SIGKILL once part of its
// signals are committed, runs it again to the end, and checks the journal
// holds every signal of an uninterrupted run exactly once.
func TestJournalSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the subprocess runs")
	}
	noLeaks(t)
	for _, backend := range storetest.Backends {
		t.Run(backend, func(t *testing.T) {
			reference, dbURL := storetest.URL(t, backend), storetest.URL(t, backend)

			if out, err := journalCmd(reference).CombinedOutput(); err != nil {
				t.Fatalf("uninterrupted run: %v\n%s", err, tail(out))
			}
			want := countJournal(t, reference)
			if len(want) != killSignals {
				t.Fatalf("uninterrupted run journaled %d signals, want %d", len(want), killSignals)
			}

			// Kill the run once killAfter signals are committed.
			cmd := journalCmd(dbURL)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = cmd.Stdout
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			killed := false
			var last []string
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				last = append(last[max(0, len(last)-20):], line)
				n, ok := strings.CutPrefix(line, "journaled ")
				if v, err := strconv.Atoi(n); ok && err == nil && v >= killAfter && !killed {
					if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
						t.Fatal(err)
					}
					killed = true
				}
			}
			err = cmd.Wait()
			if !killed {
				t.Fatalf("the run ended (%v) before %d signals were committed:\n%s", err, killAfter, strings.Join(last, "\n"))
			}
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("the run was not killed by SIGKILL: %v", err)
			}
			partial := len(countJournal(t, dbURL))
			t.Logf("killed with %d of %d signals journaled", partial, killSignals)
			if partial < killAfter || partial >= killSignals {
				t.Fatalf("after the kill the journal holds %d signals, want at least %d and fewer than %d", partial, killAfter, killSignals)
			}

			// Run again from the start: the replay journals the rest, no duplicates.
			if out, err := journalCmd(dbURL).CombinedOutput(); err != nil {
				t.Fatalf("second run: %v\n%s", err, tail(out))
			}
			got := countJournal(t, dbURL)
			if !slices.Equal(got, want) {
				t.Fatalf("after the rerun the journal holds %d signals, want the uninterrupted run's %d exactly once", len(got), len(want))
			}
		})
	}
}

func tail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}
