package store

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Journal defaults.
const (
	// DefaultStrategy is the strategy name signals are journaled under.
	DefaultStrategy = "stochrsi-ema"
	// DefaultJournalBatchSize is the most signals per transaction.
	DefaultJournalBatchSize = 1000
)

// Journal is a sink that records every signal (an event whose Signal is set)
// with its indicator values, by name, in a store's journal; other events are
// ignored. The sink records its Run first (at Start, or at the first Write
// or Flush) and journals each signal under that run. Each signal is keyed by
// (symbol, time, side, strategy, [Run.Config]) and the first write wins, so
// the pipeline's at-least-once delivery, a replayed run and a restart after
// a crash with the same settings journal each signal exactly once, while a
// run with other settings journals its own.
//
// A write that fails with a transient error (the database went away) is
// retried with back-off (Retry); the run waits meanwhile. Once the retries run
// out, Write or Flush returns the error and the run stops with it: a signal is
// never dropped silently.
//
// Its zero value but DB is the default. Write and Flush must not be called
// concurrently (the pipeline calls a sink from one goroutine).
type Journal struct {
	// DB is the store whose journal to write; required. The sink does not
	// close it.
	DB Store
	// Run describes the run: its Command, Strategy (default
	// DefaultStrategy), Params and Indicators; ID, Started and Signals are
	// set by the store. Strategy and the config are part of the key.
	Run Run
	// BatchSize is the most signals per transaction (default
	// DefaultJournalBatchSize).
	BatchSize int
	// MaxHold is how long signals may wait in memory for a fuller batch.
	// Zero, the default, commits a Write's signals before it returns: a
	// signal the sink accepted is in the journal. A positive duration holds
	// signals until BatchSize are waiting, MaxHold has passed since the
	// first of them (checked at each Write), or Flush: much faster on a long
	// backtest, and safe where the input is replayed after a crash, since
	// the replay journals what was held.
	MaxHold time.Duration
	// Retry governs retries of transient write errors.
	Retry RetryPolicy
	// Observer, if set, is told of every commit (OpJournal).
	Observer Observer

	held       holding[market.Signal]
	declared   bool
	run        Run // as recorded; ID 0 until then
	runID      atomic.Int64
	added, dup atomic.Int64
	retried    atomic.Int64 // attempts after a commit's first
}

var (
	_ pipeline.Sink[market.Event] = (*Journal)(nil)
	_ pipeline.Flusher            = (*Journal)(nil)
)

// Added returns how many signals were new to the journal; Duplicates how
// many were already there (a replay). Both may be called while the sink runs.
func (j *Journal) Added() int64 { return j.added.Load() }

// Duplicates returns how many signals written were already in the journal.
func (j *Journal) Duplicates() int64 { return j.dup.Load() }

// RunID returns the ID of the run the signals are journaled under, 0 until
// it is recorded. It may be called while the sink runs.
func (j *Journal) RunID() int64 { return j.runID.Load() }

// Start records the run, if it is not yet recorded: a run that journals no
// signal is listed too. Write and Flush call it; call it first to know the
// run's ID from the start. A transient error is retried as a write is.
func (j *Journal) Start(ctx context.Context) error {
	if j.DB == nil {
		return errors.New("store.Journal: no DB")
	}
	if !j.declared {
		observeDeclare(j.Observer, OpJournal)
		j.declared = true
	}
	if j.run.ID != 0 {
		return nil
	}
	want := j.Run
	if want.Strategy == "" {
		want.Strategy = DefaultStrategy
	}
	var run Run
	err := do(ctx, j.Retry, j.Observer, OpJournal, func(ctx context.Context) error {
		var err error
		run, err = j.DB.StartRun(ctx, want)
		return err
	})
	if err != nil {
		return fmt.Errorf("store.Journal: record the run: %w", err)
	}
	j.run = run
	j.runID.Store(run.ID)
	return nil
}

// Write journals the events' signals (see MaxHold for when they are
// committed).
func (j *Journal) Write(ctx context.Context, events []market.Event) error {
	if err := j.Start(ctx); err != nil {
		return err
	}
	for i := range events {
		if sig := events[i].Signal; sig != nil {
			j.held.add(*sig)
		}
	}
	return j.held.commitDue(ctx, j.batchSize(), j.MaxHold, j.commit)
}

// Flush commits the signals held back.
func (j *Journal) Flush(ctx context.Context) error {
	if j.DB != nil {
		if err := j.Start(ctx); err != nil {
			return err
		}
	}
	return j.held.flushTo(ctx, j.DB, "store.Journal", j.commit)
}

// Retried returns how many commit attempts were retries after a transient
// error (a lost connection, a busy database): the reconnections a run
// reports. It may be called while the sink runs.
func (j *Journal) Retried() int64 { return j.retried.Load() }

func (j *Journal) batchSize() int { return orDefault(j.BatchSize, DefaultJournalBatchSize) }

func (j *Journal) commit(ctx context.Context, sigs []market.Signal) error {
	var added, attempts int
	err := do(ctx, j.Retry, j.Observer, OpJournal, func(ctx context.Context) error {
		if attempts++; attempts > 1 {
			j.retried.Add(1)
		}
		var err error
		added, err = j.DB.WriteSignals(ctx, &j.run, sigs)
		return err
	})
	if err != nil {
		return fmt.Errorf("store.Journal: journal %d signals: %w", len(sigs), err)
	}
	j.added.Add(int64(added))
	j.dup.Add(int64(len(sigs) - added))
	return nil
}
