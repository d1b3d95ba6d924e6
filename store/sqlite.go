package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/tickflow/tickflow/market"
)

// sqliteAppID is PRAGMA application_id of a tickflow file ("TkFl").
const sqliteAppID = 0x546b466c

// sqliteMaxConns bounds the connections of a SQLite store: WAL lets readers
// run beside the one writer.
const sqliteMaxConns = DefaultMaxConns

// sqliteMigrations[i] takes a SQLite schema from version i to i+1.
var sqliteMigrations = [][]string{{
	`CREATE TABLE tickflow_schema (
		version     INTEGER NOT NULL,
		application TEXT    NOT NULL,
		migrated_at INTEGER NOT NULL
	)`,
	`CREATE TABLE bars (
		symbol    TEXT    NOT NULL CHECK (symbol <> ''),
		timeframe TEXT    NOT NULL,
		time      INTEGER NOT NULL, -- Unix nanoseconds, UTC
		open      REAL    NOT NULL,
		high      REAL    NOT NULL,
		low       REAL    NOT NULL,
		close     REAL    NOT NULL,
		volume    REAL    NOT NULL,
		CHECK (high >= low),
		PRIMARY KEY (symbol, timeframe, time)
	) WITHOUT ROWID`,
	`CREATE TABLE signals (
		symbol      TEXT    NOT NULL CHECK (symbol <> ''),
		time        INTEGER NOT NULL, -- Unix nanoseconds, UTC
		side        TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
		strategy    TEXT    NOT NULL,
		price       REAL    NOT NULL,
		reason      TEXT    NOT NULL,
		ema         REAL,
		stoch_k     REAL,
		stoch_d     REAL,
		recorded_at INTEGER NOT NULL,
		PRIMARY KEY (symbol, time, side, strategy)
	) WITHOUT ROWID`,
	`CREATE INDEX signals_by_time ON signals (time)`,
}, {
	// Version 2: the order in which symbols were first stored, so that
	// reading a store back follows the order of what was imported.
	`CREATE TABLE symbols (
		seq       INTEGER PRIMARY KEY, -- grows as symbols are first stored
		symbol    TEXT    NOT NULL,
		timeframe TEXT    NOT NULL,
		UNIQUE (symbol, timeframe)
	)`,
	`INSERT INTO symbols (symbol, timeframe) SELECT DISTINCT symbol, timeframe FROM bars ORDER BY symbol, timeframe`,
}, {
	// Version 3: runs, and a signal's indicator values by name. The
	// signals of version 2 go under one run per strategy, their ema,
	// stoch_k and stoch_d into the named values (json_object writes a
	// REAL with 17 digits: exact; an infinity as the string JSON cannot
	// hold otherwise).
	`CREATE TABLE runs (
		id          INTEGER PRIMARY KEY AUTOINCREMENT,
		started_at  INTEGER NOT NULL, -- Unix nanoseconds, UTC
		command     TEXT    NOT NULL,
		strategy    TEXT    NOT NULL,
		params      TEXT    NOT NULL CHECK (json_valid(params)),     -- JSON object: name -> number
		indicators  TEXT    NOT NULL CHECK (json_valid(indicators))  -- JSON array of specs
	)`,
	`INSERT INTO runs (started_at, command, strategy, params, indicators)
		SELECT min(recorded_at), '` + BeforeRuns + `', strategy, '{}', '[]' FROM signals
		GROUP BY strategy ORDER BY min(recorded_at), strategy`,
	`CREATE TABLE signals_v3 (
		symbol      TEXT    NOT NULL CHECK (symbol <> ''),
		time        INTEGER NOT NULL, -- Unix nanoseconds, UTC
		side        TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
		strategy    TEXT    NOT NULL,
		config      TEXT    NOT NULL, -- the run's parameters and indicators (store.Run.Config)
		run         INTEGER NOT NULL REFERENCES runs (id),
		price       REAL    NOT NULL,
		reason      TEXT    NOT NULL,
		indicators  TEXT    NOT NULL CHECK (json_valid(indicators)), -- JSON object: name -> value or null
		recorded_at INTEGER NOT NULL,
		PRIMARY KEY (symbol, time, side, strategy, config)
	) WITHOUT ROWID`,
	`INSERT INTO signals_v3 (symbol, time, side, strategy, config, run, price, reason, indicators, recorded_at)
		SELECT s.symbol, s.time, s.side, s.strategy, '', r.id, s.price, s.reason,
			json_object('ema', ` + sqliteJSONReal("s.ema") + `,
				'stochrsi_k', CASE WHEN s.stoch_d IS NULL THEN NULL ELSE ` + sqliteJSONReal("s.stoch_k") + ` END,
				'stochrsi_d', CASE WHEN s.stoch_k IS NULL THEN NULL ELSE ` + sqliteJSONReal("s.stoch_d") + ` END),
			s.recorded_at
		FROM signals s JOIN runs r ON r.strategy = s.strategy`,
	`DROP TABLE signals`,
	`ALTER TABLE signals_v3 RENAME TO signals`,
	`CREATE INDEX signals_by_time ON signals (time)`,
	`CREATE INDEX signals_by_run ON signals (run, time)`,
}}

// sqliteJSONReal is col for json_object, an infinity as a JSON string (v2
// could store one; SQLite stores no NaN).
func sqliteJSONReal(col string) string {
	return `CASE WHEN ` + col + ` = 9e999 THEN 'Infinity' WHEN ` + col + ` = -9e999 THEN '-Infinity' ELSE ` + col + ` END`
}

type sqliteStore struct {
	db   *sql.DB
	path string
}

func openSQLite(ctx context.Context, path string) (Store, error) {
	if path == "" {
		return nil, fmt.Errorf("store: %w: sqlite: needs a file path", ErrURL)
	}
	if strings.Contains(path, "?") || strings.HasPrefix(path, ":memory:") {
		return nil, fmt.Errorf("store: %w: sqlite:%s: want a plain file path", ErrURL, path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
		}
	}
	// The DSN sets only per-connection pragmas: nothing here writes to the
	// file before the checks in migrate have accepted it.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite %s: %w", path, err)
	}
	db.SetMaxOpenConns(sqliteMaxConns)
	db.SetMaxIdleConns(sqliteMaxConns)
	s := &sqliteStore{db: db, path: path}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// sqliteErr classifies err for the file at path.
func (s *sqliteStore) wrap(op string, err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) {
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT:
			return fmt.Errorf("store: sqlite %s: %s: %w: %v", s.path, op, ErrCorrupt, err)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("store: sqlite %s: %s: %w: %w", s.path, op, ErrUnavailable, err)
		}
	}
	return fmt.Errorf("store: sqlite %s: %s: %w", s.path, op, err)
}

func (s *sqliteStore) migrate(ctx context.Context) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return s.wrap("open", err)
	}
	defer conn.Close()
	var appID, version, tables, ours int
	row := conn.QueryRowContext(ctx, `SELECT
		(SELECT application_id FROM pragma_application_id),
		(SELECT user_version FROM pragma_user_version),
		(SELECT count(*) FROM sqlite_schema),
		(SELECT count(*) FROM sqlite_schema WHERE name = 'tickflow_schema')`)
	if err := row.Scan(&appID, &version, &tables, &ours); err != nil {
		return s.wrap("read header", err)
	}
	switch {
	case appID != 0 && appID != sqliteAppID:
		return fmt.Errorf("store: sqlite %s: %w (application_id %#x)", s.path, ErrForeign, appID)
	case tables > 0 && (appID != sqliteAppID || ours == 0):
		return fmt.Errorf("store: sqlite %s: %w: it holds %d tables of another program", s.path, ErrForeign, tables)
	case version > SchemaVersion:
		return fmt.Errorf("store: sqlite %s: %w: schema version %d is newer than this program's %d; upgrade tickflow",
			s.path, ErrSchemaVersion, version, SchemaVersion)
	case version < 0 || (tables > 0 && version == 0):
		return fmt.Errorf("store: sqlite %s: %w: schema version %d", s.path, ErrSchemaVersion, version)
	}
	if ours > 0 {
		var recorded int
		if err := conn.QueryRowContext(ctx, `SELECT max(version) FROM tickflow_schema`).Scan(&recorded); err != nil {
			return s.wrap("read schema version", err)
		}
		if recorded != version {
			return fmt.Errorf("store: sqlite %s: %w: tickflow_schema says %d, user_version %d",
				s.path, ErrSchemaVersion, recorded, version)
		}
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA journal_mode = WAL`); err != nil {
		return s.wrap("set WAL mode", err)
	}
	if version == SchemaVersion {
		return nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("migrate", err)
	}
	defer tx.Rollback()
	// Read again under the write lock: another process may have migrated.
	if err := tx.QueryRowContext(ctx, `SELECT user_version FROM pragma_user_version`).Scan(&version); err != nil {
		return s.wrap("migrate", err)
	}
	for v := version; v < SchemaVersion; v++ {
		for _, stmt := range sqliteMigrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return s.wrap(fmt.Sprintf("migrate to version %d", v+1), err)
			}
		}
	}
	if version < SchemaVersion {
		if _, err := tx.ExecContext(ctx, `INSERT INTO tickflow_schema (version, application, migrated_at) VALUES (?, 'tickflow', ?)`,
			SchemaVersion, time.Now().UnixNano()); err != nil {
			return s.wrap("record schema version", err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA application_id = %d`, sqliteAppID)); err != nil {
			return s.wrap("migrate", err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, SchemaVersion)); err != nil {
			return s.wrap("migrate", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("migrate", err)
	}
	return nil
}

func (s *sqliteStore) Backend() Backend { return SQLite }
func (s *sqliteStore) String() string   { return "sqlite:" + s.path }
func (s *sqliteStore) MaxConns() int    { return sqliteMaxConns }
func (s *sqliteStore) Close() error     { return s.db.Close() }

// sqliteRowsPerInsert is how many bars one INSERT statement carries.
const sqliteRowsPerInsert = 64

func sqliteInsertBars(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO bars (symbol, timeframe, time, open, high, low, close, volume) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?,?,?,?,?,?,?,?)`)
	}
	b.WriteString(` ON CONFLICT (symbol, timeframe, time) DO UPDATE SET
		open = excluded.open, high = excluded.high, low = excluded.low,
		close = excluded.close, volume = excluded.volume
	WHERE open IS NOT excluded.open OR high IS NOT excluded.high OR low IS NOT excluded.low
		OR close IS NOT excluded.close OR volume IS NOT excluded.volume`)
	return b.String()
}

var sqliteInsertBarsFull = sqliteInsertBars(sqliteRowsPerInsert)

func (s *sqliteStore) WriteBars(ctx context.Context, timeframe string, bars []market.Bar) error {
	for i := range bars {
		if err := checkBar(SQLite, timeframe, &bars[i]); err != nil {
			return err
		}
	}
	if len(bars) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("write bars", err)
	}
	defer tx.Rollback()
	for _, sym := range firstAppearances(bars) {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO symbols (symbol, timeframe) VALUES (?, ?)`, sym, timeframe); err != nil {
			return s.wrap("write bars", err)
		}
	}
	full, err := tx.PrepareContext(ctx, sqliteInsertBarsFull)
	if err != nil {
		return s.wrap("write bars", err)
	}
	defer full.Close()
	args := make([]any, 0, 8*sqliteRowsPerInsert)
	for len(bars) > 0 {
		n := min(len(bars), sqliteRowsPerInsert)
		args = args[:0]
		for i := range bars[:n] {
			b := &bars[i]
			args = append(args, b.Symbol, timeframe, b.Time.UnixNano(), b.Open, b.High, b.Low, b.Close, b.Volume)
		}
		if n == sqliteRowsPerInsert {
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, sqliteInsertBars(n), args...)
		}
		if err != nil {
			return s.constraint(timeframe, bars[:n], err)
		}
		bars = bars[n:]
	}
	if err := tx.Commit(); err != nil {
		return s.wrap("write bars", err)
	}
	return nil
}

// constraint names the first bar of batch when err is a constraint
// violation (checkBar should have caught it first).
func (s *sqliteStore) constraint(timeframe string, batch []market.Bar, err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		b := batch[0]
		return &BarError{Symbol: b.Symbol, Timeframe: timeframe, Time: b.Time,
			Err: fmt.Errorf("in a batch of %d from this bar: %w: %v", len(batch), ErrConstraint, err)}
	}
	return s.wrap("write bars", err)
}

// where builds the WHERE clause and arguments shared by the queries.
func sqliteWhere(fixed []string, args []any, symbols []string, start, end time.Time) (string, []any) {
	conds := fixed
	if len(symbols) > 0 {
		conds = append(conds, "symbol IN (?"+strings.Repeat(",?", len(symbols)-1)+")")
		for _, s := range symbols {
			args = append(args, s)
		}
	}
	if !start.IsZero() {
		conds = append(conds, "time >= ?")
		args = append(args, clampNano(start))
	}
	if !end.IsZero() {
		conds = append(conds, "time < ?")
		args = append(args, clampNano(end))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

func clampNano(t time.Time) int64 {
	switch {
	case t.Before(minNanoTime):
		return minNanoTime.UnixNano()
	case t.After(maxNanoTime):
		return maxNanoTime.UnixNano()
	}
	return t.UnixNano()
}

func (s *sqliteStore) Bars(ctx context.Context, q Query) iter.Seq2[market.Bar, error] {
	return func(yield func(market.Bar, error) bool) {
		where, args := sqliteWhere([]string{"timeframe = ?"}, []any{q.Timeframe}, q.Symbols, q.Start, q.End)
		rows, err := s.db.QueryContext(ctx,
			`SELECT symbol, time, open, high, low, close, volume FROM bars`+where+` ORDER BY symbol, time`, args...)
		if err != nil {
			yield(market.Bar{}, s.wrap("read bars", err))
			return
		}
		defer rows.Close()
		var b market.Bar
		var ns int64
		for rows.Next() {
			if err := rows.Scan(&b.Symbol, &ns, &b.Open, &b.High, &b.Low, &b.Close, &b.Volume); err != nil {
				yield(market.Bar{}, s.wrap("read bars", err))
				return
			}
			b.Time = time.Unix(0, ns).UTC()
			if !yield(b, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(market.Bar{}, s.wrap("read bars", err))
		}
	}
}

func (s *sqliteStore) Symbols(ctx context.Context, timeframe string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT symbol FROM (
			SELECT symbol, seq FROM symbols WHERE timeframe = ?1
			UNION ALL -- bars stored by other means than WriteBars, after the rest
			SELECT DISTINCT symbol, NULL FROM bars b WHERE timeframe = ?1 AND NOT EXISTS (
				SELECT 1 FROM symbols s WHERE s.symbol = b.symbol AND s.timeframe = b.timeframe)
		) AS known ORDER BY seq NULLS LAST, symbol`, timeframe)
	if err != nil {
		return nil, s.wrap("list symbols", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var sym string
		if err := rows.Scan(&sym); err != nil {
			return nil, s.wrap("list symbols", err)
		}
		out = append(out, sym)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list symbols", err)
	}
	return out, nil
}

func (s *sqliteStore) StartRun(ctx context.Context, run Run) (Run, error) {
	if err := checkRun(&run); err != nil {
		return Run{}, err
	}
	run.Started = time.Now().UTC()
	err := s.db.QueryRowContext(ctx, `INSERT INTO runs (started_at, command, strategy, params, indicators)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, run.Started.UnixNano(), run.Command, run.Strategy,
		paramsJSON(run.Params), specsJSON(run.Indicators)).Scan(&run.ID)
	if err != nil {
		return Run{}, s.wrap("record run", err)
	}
	run.Signals = 0
	return run, nil
}

func (s *sqliteStore) Runs(ctx context.Context) ([]Run, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, started_at, command, strategy, params, indicators,
		(SELECT count(*) FROM signals WHERE run = runs.id) FROM runs ORDER BY id`)
	if err != nil {
		return nil, s.wrap("list runs", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var ns int64
		var params, specs []byte
		if err := rows.Scan(&r.ID, &ns, &r.Command, &r.Strategy, &params, &specs, &r.Signals); err != nil {
			return nil, s.wrap("list runs", err)
		}
		r.Started = time.Unix(0, ns).UTC()
		if err := parseRunJSON(&r, params, specs); err != nil {
			return nil, s.wrap("list runs", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list runs", err)
	}
	return out, nil
}

func (s *sqliteStore) WriteSignals(ctx context.Context, run *Run, signals []market.Signal) (int, error) {
	for i := range signals {
		if err := checkSignal(SQLite, run, &signals[i]); err != nil {
			return 0, err
		}
	}
	if len(signals) == 0 {
		return 0, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap("journal signals", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO signals
		(symbol, time, side, strategy, config, run, price, reason, indicators, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (symbol, time, side, strategy, config) DO NOTHING`)
	if err != nil {
		return 0, s.wrap("journal signals", err)
	}
	defer stmt.Close()
	now := time.Now().UnixNano()
	config := run.Config()
	added := 0
	var values []byte
	for i := range signals {
		g := &signals[i]
		values = appendValues(values[:0], &g.Indicators)
		res, err := stmt.ExecContext(ctx, g.Symbol, g.Time.UnixNano(), g.Side.String(), run.Strategy, config, run.ID,
			g.Price, g.Reason, string(values), now)
		if err != nil {
			return 0, s.journalErr(run, err)
		}
		if n, err := res.RowsAffected(); err == nil {
			added += int(n)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap("journal signals", err)
	}
	return added, nil
}

// journalErr reports a constraint violation, a run the journal does not
// hold, as ErrConstraint.
func (s *sqliteStore) journalErr(run *Run, err error) error {
	var e *sqlite.Error
	if errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT {
		return fmt.Errorf("store: sqlite %s: journal signals of run %d: %w: %v", s.path, run.ID, ErrConstraint, err)
	}
	return s.wrap("journal signals", err)
}

func (s *sqliteStore) Signals(ctx context.Context, q SignalQuery) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		var fixed []string
		var args []any
		if q.Strategy != "" {
			fixed, args = append(fixed, "strategy = ?"), append(args, q.Strategy)
		}
		if q.Run != 0 {
			fixed, args = append(fixed, "run = ?"), append(args, q.Run)
		}
		where, args := sqliteWhere(fixed, args, q.Symbols, q.Start, q.End)
		rows, err := s.db.QueryContext(ctx, `SELECT strategy, run, symbol, time, side, price, reason,
			indicators, recorded_at FROM signals`+where+` ORDER BY time, symbol, side, strategy, run`, args...)
		if err != nil {
			yield(Entry{}, s.wrap("read journal", err))
			return
		}
		defer rows.Close()
		var vr valueReader
		var values []byte
		for rows.Next() {
			var e Entry
			var ns, rec int64
			var side string
			if err := rows.Scan(&e.Strategy, &e.Run, &e.Signal.Symbol, &ns, &side, &e.Signal.Price, &e.Signal.Reason,
				&values, &rec); err != nil {
				yield(Entry{}, s.wrap("read journal", err))
				return
			}
			e.Signal.Time = time.Unix(0, ns).UTC()
			e.Recorded = time.Unix(0, rec).UTC()
			e.Signal.Side, _ = market.ParseSide(side)
			if e.Signal.Indicators, err = vr.read(values); err != nil {
				yield(Entry{}, s.wrap(fmt.Sprintf("read journal: signal of %s at %s", e.Signal.Symbol,
					e.Signal.Time.Format(time.RFC3339Nano)), err))
				return
			}
			if !yield(e, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(Entry{}, s.wrap("read journal", err))
		}
	}
}
