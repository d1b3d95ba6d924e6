package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tickflow/tickflow/market"
)

// pgConnectTimeout bounds a connection attempt when the URL sets no
// connect_timeout, so a server that is down fails Open quickly.
const pgConnectTimeout = 5 * time.Second

// pgMigrations[i] takes a PostgreSQL schema from version i to i+1.
var pgMigrations = [][]string{{
	`CREATE TABLE tickflow_schema (
		version     integer     NOT NULL,
		application text        NOT NULL,
		migrated_at timestamptz NOT NULL DEFAULT now()
	)`,
	`CREATE TABLE bars (
		symbol    text        NOT NULL CHECK (symbol <> ''),
		timeframe text        NOT NULL,
		time      timestamptz NOT NULL,
		open      float8      NOT NULL,
		high      float8      NOT NULL,
		low       float8      NOT NULL,
		close     float8      NOT NULL,
		volume    float8      NOT NULL,
		CHECK (high >= low),
		PRIMARY KEY (symbol, timeframe, time)
	)`,
	`CREATE TABLE signals (
		symbol      text        NOT NULL CHECK (symbol <> ''),
		time        timestamptz NOT NULL,
		side        text        NOT NULL CHECK (side IN ('buy', 'sell')),
		strategy    text        NOT NULL,
		price       float8      NOT NULL,
		reason      text        NOT NULL,
		ema         float8,
		stoch_k     float8,
		stoch_d     float8,
		recorded_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (symbol, time, side, strategy)
	)`,
	`CREATE INDEX signals_by_time ON signals (time)`,
}, {
	// Version 2: the order in which symbols were first stored, so that
	// reading a store back follows the order of what was imported.
	`CREATE TABLE symbols (
		seq       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		symbol    text   NOT NULL,
		timeframe text   NOT NULL,
		UNIQUE (symbol, timeframe)
	)`,
	`INSERT INTO symbols (symbol, timeframe) SELECT DISTINCT symbol, timeframe FROM bars ORDER BY symbol, timeframe`,
}, {
	// Version 3: runs, and a signal's indicator values by name, as json
	// (not jsonb, which would reorder the names: cast to jsonb to index
	// them). The signals of version 2 go under one run per strategy, their
	// ema, stoch_k and stoch_d into the named values (float8 to json is
	// exact with extra_float_digits 3, NaN and infinities are strings).
	`SET LOCAL extra_float_digits = 3`,
	`CREATE TABLE runs (
		id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		started_at  timestamptz NOT NULL DEFAULT now(),
		command     text        NOT NULL,
		strategy    text        NOT NULL,
		params      json        NOT NULL, -- object: name -> number
		indicators  json        NOT NULL  -- array of specs
	)`,
	`INSERT INTO runs (started_at, command, strategy, params, indicators)
		SELECT min(recorded_at), '` + BeforeRuns + `', strategy, '{}', '[]' FROM signals
		GROUP BY strategy ORDER BY min(recorded_at), strategy`,
	`CREATE TABLE signals_v3 (
		symbol      text        NOT NULL CHECK (symbol <> ''),
		time        timestamptz NOT NULL,
		side        text        NOT NULL CHECK (side IN ('buy', 'sell')),
		strategy    text        NOT NULL,
		config      text        NOT NULL, -- the run's parameters and indicators (store.Run.Config)
		run         bigint      NOT NULL REFERENCES runs (id),
		price       float8      NOT NULL,
		reason      text        NOT NULL,
		indicators  json        NOT NULL, -- object: name -> value or null
		recorded_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (symbol, time, side, strategy, config)
	)`,
	`INSERT INTO signals_v3 (symbol, time, side, strategy, config, run, price, reason, indicators, recorded_at)
		SELECT s.symbol, s.time, s.side, s.strategy, '', r.id, s.price, s.reason,
			json_build_object('ema', s.ema,
				'stochrsi_k', CASE WHEN s.stoch_d IS NULL THEN NULL ELSE s.stoch_k END,
				'stochrsi_d', CASE WHEN s.stoch_k IS NULL THEN NULL ELSE s.stoch_d END),
			s.recorded_at
		FROM signals s JOIN runs r ON r.strategy = s.strategy`,
	`DROP TABLE signals`,
	`ALTER TABLE signals_v3 RENAME TO signals`,
	`ALTER TABLE signals RENAME CONSTRAINT signals_v3_pkey TO signals_pkey`,
	`ALTER TABLE signals RENAME CONSTRAINT signals_v3_run_fkey TO signals_run_fkey`,
	`ALTER TABLE signals RENAME CONSTRAINT signals_v3_side_check TO signals_side_check`,
	`ALTER TABLE signals RENAME CONSTRAINT signals_v3_symbol_check TO signals_symbol_check`,
	`CREATE INDEX signals_by_time ON signals (time)`,
	`CREATE INDEX signals_by_run ON signals (run, time)`,
}}

type pgStore struct {
	pool     *pgxpool.Pool
	redacted string
	schema   string
}

func openPostgres(ctx context.Context, rawURL string) (Store, error) {
	redacted := Redact(rawURL)
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: %w %s", ErrURL, redacted)
	}
	q := u.Query()
	schema := q.Get("schema")
	q.Del("schema")
	if !q.Has("connect_timeout") {
		q.Set("connect_timeout", strconv.Itoa(int(pgConnectTimeout/time.Second)))
	}
	u.RawQuery = q.Encode()
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("store: %w %s: %v", ErrURL, redacted, err)
	}
	if !q.Has("pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "tickflow"
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("store: postgres %s: %v", redacted, err)
	}
	s := &pgStore{pool: pool, redacted: redacted, schema: schema}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: postgres %s: %w: %w", redacted, ErrUnavailable, err)
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *pgStore) wrap(op string, err error) error {
	return fmt.Errorf("store: postgres %s: %s: %w", s.redacted, op, err)
}

func (s *pgStore) migrate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return s.wrap("migrate", err)
	}
	defer tx.Rollback(ctx)
	// Serialize migrations of this schema across processes.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('tickflow schema ' || $1))`, s.schema); err != nil {
		return s.wrap("migrate", err)
	}
	if s.schema != "" {
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{s.schema}.Sanitize()); err != nil {
			return s.wrap("create schema", err)
		}
	}
	var hasMeta, hasBars, hasSignals bool
	if err := tx.QueryRow(ctx, `SELECT
		to_regclass('tickflow_schema') IS NOT NULL,
		to_regclass('bars') IS NOT NULL,
		to_regclass('signals') IS NOT NULL`).Scan(&hasMeta, &hasBars, &hasSignals); err != nil {
		return s.wrap("migrate", err)
	}
	version := 0
	if hasMeta {
		var v *int
		if err := tx.QueryRow(ctx, `SELECT max(version) FROM tickflow_schema`).Scan(&v); err != nil {
			return s.wrap("read schema version", err)
		}
		if v == nil {
			return fmt.Errorf("store: postgres %s: %w: tickflow_schema is empty", s.redacted, ErrSchemaVersion)
		}
		version = *v
	} else if hasBars || hasSignals {
		return fmt.Errorf("store: postgres %s: %w: tables bars or signals exist without tickflow_schema", s.redacted, ErrForeign)
	}
	switch {
	case version > SchemaVersion:
		return fmt.Errorf("store: postgres %s: %w: schema version %d is newer than this program's %d; upgrade tickflow",
			s.redacted, ErrSchemaVersion, version, SchemaVersion)
	case version < 0:
		return fmt.Errorf("store: postgres %s: %w: schema version %d", s.redacted, ErrSchemaVersion, version)
	case version == SchemaVersion:
		return nil
	}
	for v := version; v < SchemaVersion; v++ {
		for _, stmt := range pgMigrations[v] {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return s.wrap(fmt.Sprintf("migrate to version %d", v+1), err)
			}
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO tickflow_schema (version, application) VALUES ($1, 'tickflow')`, SchemaVersion); err != nil {
		return s.wrap("record schema version", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return s.wrap("migrate", err)
	}
	return nil
}

func (s *pgStore) Backend() Backend { return Postgres }
func (s *pgStore) String() string   { return s.redacted }
func (s *pgStore) MaxConns() int    { return int(s.pool.Config().MaxConns) }
func (s *pgStore) Close() error     { s.pool.Close(); return nil }

// pgConstraint names the bar a constraint violation's detail points at, or
// the first bar of the batch.
func (s *pgStore) constraint(timeframe string, bars []market.Bar, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "23") {
		b := bars[0]
		return &BarError{Symbol: b.Symbol, Timeframe: timeframe, Time: b.Time,
			Err: fmt.Errorf("in a batch of %d from this bar: %w: %s (%s)", len(bars), ErrConstraint, pgErr.Message, pgErr.Detail)}
	}
	return s.wrap("write bars", err)
}

func (s *pgStore) WriteBars(ctx context.Context, timeframe string, bars []market.Bar) error {
	for i := range bars {
		if err := checkBar(Postgres, timeframe, &bars[i]); err != nil {
			return err
		}
	}
	if len(bars) == 0 {
		return nil
	}
	firsts := firstAppearances(bars)
	bars = lastPerKey(bars)
	// One statement, one round trip, atomic by itself: the columns travel as
	// arrays and are unnested into rows. (COPY into a temporary table and an
	// INSERT ... SELECT from it measured no faster at 5,000 to 20,000 rows,
	// and slower below, for four round trips instead of one.)
	n := len(bars)
	syms := make([]string, n)
	times := make([]time.Time, n)
	o, h, l, c, v := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range bars {
		b := &bars[i]
		syms[i], times[i], o[i], h[i], l[i], c[i], v[i] = b.Symbol, b.Time, b.Open, b.High, b.Low, b.Close, b.Volume
	}
	_, err := s.pool.Exec(ctx, `WITH first_seen AS (
			INSERT INTO symbols (symbol, timeframe)
			SELECT symbol, $2 FROM unnest($9::text[]) WITH ORDINALITY AS f(symbol, n) ORDER BY n
			ON CONFLICT (symbol, timeframe) DO NOTHING)
		INSERT INTO bars (symbol, timeframe, time, open, high, low, close, volume)
		SELECT symbol, $2, time, open, high, low, close, volume
		FROM unnest($1::text[], $3::timestamptz[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[])
			AS t(symbol, time, open, high, low, close, volume)
		ON CONFLICT (symbol, timeframe, time) DO UPDATE SET
			open = excluded.open, high = excluded.high, low = excluded.low,
			close = excluded.close, volume = excluded.volume
		WHERE (bars.open, bars.high, bars.low, bars.close, bars.volume)
			IS DISTINCT FROM (excluded.open, excluded.high, excluded.low, excluded.close, excluded.volume)`,
		syms, timeframe, times, o, h, l, c, v, firsts)
	if err != nil {
		return s.constraint(timeframe, bars, err)
	}
	return nil
}

// lastPerKey drops all but the last of the bars that share a (symbol, time)
// key: PostgreSQL's ON CONFLICT DO UPDATE refuses to touch a row twice in one
// statement. Bars without repeats are returned as they are.
func lastPerKey(bars []market.Bar) []market.Bar {
	type key struct {
		sym string
		ns  int64
		sec int64
	}
	seen := make(map[key]int, len(bars))
	dup := false
	for i := range bars {
		k := key{bars[i].Symbol, int64(bars[i].Time.Nanosecond()), bars[i].Time.Unix()}
		if _, ok := seen[k]; ok {
			dup = true
		}
		seen[k] = i
	}
	if !dup {
		return bars
	}
	out := make([]market.Bar, 0, len(seen))
	for i := range bars {
		k := key{bars[i].Symbol, int64(bars[i].Time.Nanosecond()), bars[i].Time.Unix()}
		if seen[k] == i {
			out = append(out, bars[i])
		}
	}
	return out
}

// pgWhere builds the WHERE clause and arguments shared by the queries.
func pgWhere(fixed []string, args []any, symbols []string, start, end time.Time) (string, []any) {
	conds := fixed
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if len(symbols) == 1 {
		conds = append(conds, "symbol = "+arg(symbols[0]))
	} else if len(symbols) > 1 {
		conds = append(conds, "symbol = ANY("+arg(symbols)+")")
	}
	// timestamptz holds microseconds and pgx truncates finer times: round
	// the bounds up instead, so [Start, End) keeps its meaning.
	if !start.IsZero() {
		conds = append(conds, "time >= "+arg(ceilMicro(start)))
	}
	if !end.IsZero() {
		conds = append(conds, "time < "+arg(ceilMicro(end)))
	}
	if len(conds) == 0 {
		return "", args
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ceilMicro rounds t up to a whole microsecond.
func ceilMicro(t time.Time) time.Time {
	if r := t.Truncate(time.Microsecond); !r.Equal(t) {
		return r.Add(time.Microsecond)
	}
	return t
}

func (s *pgStore) Bars(ctx context.Context, q Query) iter.Seq2[market.Bar, error] {
	return func(yield func(market.Bar, error) bool) {
		where, args := pgWhere([]string{"timeframe = $1"}, []any{q.Timeframe}, q.Symbols, q.Start, q.End)
		rows, err := s.pool.Query(ctx,
			`SELECT symbol, time, open, high, low, close, volume FROM bars`+where+` ORDER BY symbol, time`, args...)
		if err != nil {
			yield(market.Bar{}, s.wrap("read bars", err))
			return
		}
		defer rows.Close()
		var b market.Bar
		for rows.Next() {
			if err := rows.Scan(&b.Symbol, &b.Time, &b.Open, &b.High, &b.Low, &b.Close, &b.Volume); err != nil {
				yield(market.Bar{}, s.wrap("read bars", err))
				return
			}
			b.Time = b.Time.UTC()
			if !yield(b, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(market.Bar{}, s.wrap("read bars", err))
		}
	}
}

func (s *pgStore) Symbols(ctx context.Context, timeframe string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT symbol FROM (
			SELECT symbol, seq FROM symbols WHERE timeframe = $1
			UNION ALL -- bars stored by other means than WriteBars, after the rest
			SELECT DISTINCT symbol, NULL::bigint FROM bars b WHERE timeframe = $1 AND NOT EXISTS (
				SELECT 1 FROM symbols s WHERE s.symbol = b.symbol AND s.timeframe = b.timeframe)
		) AS known ORDER BY seq NULLS LAST, symbol`, timeframe)
	if err != nil {
		return nil, s.wrap("list symbols", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, s.wrap("list symbols", err)
	}
	return out, nil
}

func (s *pgStore) StartRun(ctx context.Context, run Run) (Run, error) {
	if err := checkRun(&run); err != nil {
		return Run{}, err
	}
	err := s.pool.QueryRow(ctx, `INSERT INTO runs (command, strategy, params, indicators)
		VALUES ($1, $2, $3::text::json, $4::text::json) RETURNING id, started_at`, run.Command, run.Strategy,
		paramsJSON(run.Params), specsJSON(run.Indicators)).Scan(&run.ID, &run.Started)
	if err != nil {
		return Run{}, s.wrap("record run", err)
	}
	run.Started, run.Signals = run.Started.UTC(), 0
	return run, nil
}

func (s *pgStore) Runs(ctx context.Context) ([]Run, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, started_at, command, strategy, params::text, indicators::text,
		(SELECT count(*) FROM signals WHERE run = runs.id) FROM runs ORDER BY id`)
	if err != nil {
		return nil, s.wrap("list runs", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var r Run
		var params, specs []byte
		if err := rows.Scan(&r.ID, &r.Started, &r.Command, &r.Strategy, &params, &specs, &r.Signals); err != nil {
			return nil, s.wrap("list runs", err)
		}
		r.Started = r.Started.UTC()
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

func (s *pgStore) WriteSignals(ctx context.Context, run *Run, signals []market.Signal) (int, error) {
	for i := range signals {
		if err := checkSignal(Postgres, run, &signals[i]); err != nil {
			return 0, err
		}
	}
	if len(signals) == 0 {
		return 0, nil
	}
	n := len(signals)
	syms, sides, reasons, values := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	times := make([]time.Time, n)
	prices := make([]float64, n)
	var buf []byte
	for i := range signals {
		g := &signals[i]
		syms[i], sides[i], reasons[i], times[i], prices[i] = g.Symbol, g.Side.String(), g.Reason, g.Time, g.Price
		buf = appendValues(buf[:0], &g.Indicators)
		values[i] = string(buf)
	}
	// One statement, one round trip: the arrays are unnested into rows.
	tag, err := s.pool.Exec(ctx, `INSERT INTO signals (symbol, time, side, strategy, config, run, price, reason, indicators)
		SELECT symbol, time, side, $4, $5, $6, price, reason, indicators::json
		FROM unnest($1::text[], $2::timestamptz[], $3::text[], $7::float8[], $8::text[], $9::text[])
			AS t(symbol, time, side, price, reason, indicators)
		ON CONFLICT (symbol, time, side, strategy, config) DO NOTHING`,
		syms, times, sides, run.Strategy, run.Config(), run.ID, prices, reasons, values)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && strings.HasPrefix(pgErr.Code, "23") {
			return 0, fmt.Errorf("store: postgres %s: journal signals of run %d: %w: %s (%s)",
				s.redacted, run.ID, ErrConstraint, pgErr.Message, pgErr.Detail)
		}
		return 0, s.wrap("journal signals", err)
	}
	return int(tag.RowsAffected()), nil
}

func (s *pgStore) Signals(ctx context.Context, q SignalQuery) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		var fixed []string
		var args []any
		if q.Strategy != "" {
			args = append(args, q.Strategy)
			fixed = append(fixed, "strategy = $"+strconv.Itoa(len(args)))
		}
		if q.Run != 0 {
			args = append(args, q.Run)
			fixed = append(fixed, "run = $"+strconv.Itoa(len(args)))
		}
		where, args := pgWhere(fixed, args, q.Symbols, q.Start, q.End)
		rows, err := s.pool.Query(ctx, `SELECT strategy, run, symbol, time, side, price, reason,
			indicators::text, recorded_at FROM signals`+where+` ORDER BY time, symbol, side, strategy, run`, args...)
		if err != nil {
			yield(Entry{}, s.wrap("read journal", err))
			return
		}
		defer rows.Close()
		var vr valueReader
		var values []byte
		for rows.Next() {
			var e Entry
			var side string
			if err := rows.Scan(&e.Strategy, &e.Run, &e.Signal.Symbol, &e.Signal.Time, &side, &e.Signal.Price, &e.Signal.Reason,
				&values, &e.Recorded); err != nil {
				yield(Entry{}, s.wrap("read journal", err))
				return
			}
			e.Signal.Time, e.Recorded = e.Signal.Time.UTC(), e.Recorded.UTC()
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
