// Package store keeps bars and a journal of signals in a database: SQLite (an
// embedded file, pure Go driver, no C toolchain) or PostgreSQL (a pgx
// connection pool) behind one interface, [Store]. It owns both directions of
// the pipeline's storage:
//
//   - [Source] reads bars for many symbols, MaxConcurrentSymbols at once
//     through pipeline.FetchEach, emitted whole in a fixed symbol order.
//   - [BarSink] records the bars of a fetch or a live feed.
//   - [Journal] records every signal once, with its indicator values by
//     name, under the [Run] that made it.
//
// Package storetest runs a test against every backend the environment has.
//
//	            Open(ctx, "sqlite:bars.db")      Open(ctx, "postgres://...")
//	                      │                               │
//	                 sqliteStore                     pgStore (pgxpool)
//	                      └──────────── Store ────────────┘
//	WriteBars ── one transaction per call, upsert on (symbol, timeframe, time)
//	Bars      ── rows streamed from a cursor, one symbol after another, in time order
//	StartRun  ── records a run (command, strategy, parameters, indicators): its ID
//	WriteSignals ─ insert under a run, ON CONFLICT DO NOTHING on (symbol, time, side, strategy, config)
//	Signals   ── the journal, streamed in time order, all of it or one run's
//	Runs      ── the runs, each with the number of signals it journaled
//
// # URLs
//
//   - "sqlite:PATH" or "sqlite://PATH": a SQLite file, created if missing.
//     "sqlite:" alone (or the empty string) is the default file [DefaultPath]:
//     $XDG_DATA_HOME/tickflow/tickflow.db, else ~/.local/share/tickflow/tickflow.db
//     on Unix, else os.UserConfigDir()/tickflow/tickflow.db (macOS, Windows).
//   - "postgres://..." or "postgresql://...": any pgx connection string. One
//     extra query parameter, schema=NAME, keeps tickflow's tables in that
//     PostgreSQL schema (created if missing) instead of the first schema of the
//     search path. Pool parameters such as pool_max_conns are honoured; the
//     pool holds at most [DefaultMaxConns] connections otherwise, and a
//     connection attempt times out after 5 s unless connect_timeout says.
//
// Passwords in URLs never appear in errors or in [Store.String] (see [Redact]).
//
// # Schema
//
// The program creates and migrates its own schema and records its version in a
// table tickflow_schema (and, for SQLite, in PRAGMA user_version and
// application_id). Open refuses, without writing anything, a file that is not
// a SQLite database ([ErrCorrupt]), a database that holds tables of another
// program ([ErrForeign]) and a schema newer than this program's
// [SchemaVersion] ([ErrSchemaVersion]).
//
// Version 1 holds bars and signals; version 2 adds the order in which each
// symbol was first stored, so that [Store.Symbols] (and a source reading every
// symbol) gives symbols back in the order they were imported. Version 3 adds
// runs (table runs: id, started_at, command, strategy, params as a JSON
// object, indicators as a JSON array of specs) and keeps a signal's
// indicator values by name, whatever its record's schema names, in one JSON
// object (column signals.indicators; json on PostgreSQL, which keeps the
// record's order, where jsonb would sort the names):
//
//	{"ema":185.2,"stochrsi_k":12.5,"stochrsi_d":null,"macd":0.31,"macd_signal":0.27,"macd_hist":0.04}
//
// An undefined value is null; NaN and the infinities are the strings "NaN",
// "Infinity" and "-Infinity". Read back, a record has the default names
// first (null where the signal had none), then the others in their order,
// so [market.DefaultEMA] and its siblings hold in every entry. Each signal
// carries the ID of the run that journaled it first. The migration from
// version 2 moves ema, stoch_k and stoch_d into the named values (every
// value exact) and records one run per strategy (command [BeforeRuns], no
// settings, started when its first signal was recorded) for the signals
// journaled before. Each migration runs in one transaction, under a lock
// that serialises processes opening the same database; a database already
// at the version is left as it is.
//
// Bars are keyed by (symbol, timeframe, time). A re-import is idempotent: a bar
// whose key exists is updated to the new values (last write wins, so a
// corrected bar replaces the old one; an identical bar is not rewritten).
// Signals are keyed by (symbol, time, side, strategy, config), config being
// the run's settings ([Run.Config]: its strategy parameters and indicator
// specs), and the first write wins: replaying a run, or restarting it after a
// crash with the same settings, writes no duplicates (the entries stay the
// first run's), while a run with other settings journals its own signals.
//
// Times are stored in UTC: SQLite keeps Unix nanoseconds, PostgreSQL a
// timestamptz (microseconds; a bar time with a finer fraction is rejected
// rather than silently rounded).
//
// # Faults
//
// A database that cannot be reached at Open is one error line wrapping
// [ErrUnavailable]. Errors a retry may cure (a dropped connection, a server
// restarting, a busy SQLite file) satisfy [IsTransient]; the Source, BarSink
// and Journal retry them (and only them) under the I/O layer's policy
// ([RetryPolicy]), so a database that goes away mid-run is waited for and the
// run resumes, or stops with the last error. Every read, write and commit
// attempt is reported to the component's Observer (OpRead, OpWrite,
// OpJournal). A bar that breaks the store's constraints is rejected with its key
// ([*BarError], [ErrConstraint]) and nothing of its batch is written.
//
// # Measured
//
// go test ./store -bench . (2 shared cores under a load average of about 5,
// PostgreSQL 15 on loopback with default settings, so figures vary by ±30%),
// rows per second:
//
//	                               SQLite      PostgreSQL
//	import, batch of 100           44,000        37,000
//	import, batch of 1,000        133,000        82,000
//	import, batch of 5,000        132,000       110,000
//	import, batch of 20,000       134,000       114,000
//	re-import (no change), 5,000  448,000       173,000
//	streaming read                666,000       848,000
//	journal, 1 signal a commit     13,500         1,160
//	journal, 100 a commit         131,000        19,000
//	journal, 1,000 a commit       133,000        48,000
//
// Schema version 3 (values by name, the run's config in the key, an index
// by run) costs the journal more per signal: measured side by side with
// version 2 (go test ./store -bench WriteSignals -benchtime=2s, the same
// loaded machine), signals per second at 1,000 a commit: SQLite 24,000 to
// 35,000 against 33,000 to 48,000, PostgreSQL 10,700 against 30,600; at one
// a commit, where the commit dominates, no difference (SQLite 2,970 against
// 3,020, PostgreSQL 290 against 240).
//
// Hence the sinks' defaults: bars in transactions of 5,000; signals
// committed with each pipeline batch, or held up to a second in runs over
// history, where a rerun after a crash journals them again.
package store
