package store_test

import (
	"context"
	"database/sql"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// execSQL runs sql with args on the database of dbURL, bypassing the store.
func execSQL(t *testing.T, dbURL, query string, args ...any) {
	t.Helper()
	path, ok := strings.CutPrefix(dbURL, "sqlite:")
	if !ok {
		storetest.Exec(t, dbURL, query, args...)
		return
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// createV2 makes the database of dbURL a tickflow database of schema
// version 2 from the DDL in testdata, as the program made it before.
func createV2(t *testing.T, dbURL string) {
	t.Helper()
	file := "testdata/schema_v2_postgres.sql"
	if strings.HasPrefix(dbURL, "sqlite:") {
		file = "testdata/schema_v2_sqlite.sql"
	}
	ddl, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, dbURL, string(ddl))
}

// v2Signal is a row of the version 2 journal; nil is NULL.
type v2Signal struct {
	symbol, side, strategy, reason string
	time, recorded                 time.Time
	price                          float64
	ema, k, d                      *float64
}

func f(v float64) *float64 { return &v }

// v2Rows are rows with every kind of value version 2 could hold: exact
// binary fractions and not, the extremes of float64, a negative zero,
// NULLs, %K without %D, an infinity, and two strategies.
func v2Rows(backend store.Backend) []v2Signal {
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	rows := []v2Signal{
		{"AAPL", "buy", "stochrsi-ema", "cross up", at(0), at(100), 185.64, f(185.2), f(12.5), f(10)},
		{"AAPL", "sell", "stochrsi-ema", "cross down", at(1), at(101), 186.01, f(0.1 + 0.2), f(1.0 / 3), f(2.0 / 3)},
		{"MSFT", "buy", "stochrsi-ema", "ema only", at(1), at(101), 370, f(369.999999999999), nil, nil},
		{"MSFT", "sell", "stochrsi-ema", "nothing defined", at(2), at(102), 371, nil, nil, nil},
		{"SPY", "buy", "stochrsi-ema", "extremes", at(3), at(103), 472.7, f(math.MaxFloat64), f(math.SmallestNonzeroFloat64), f(-0.0)},
		{"SPY", "sell", "stochrsi-ema", "k without d", at(4), at(104), 470, f(-1e-300), f(55), nil},
		{"SPY", "buy", "stochrsi-ema", "infinite ema", at(5), at(105), 471, f(math.Inf(1)), f(0), f(100)},
		{"SPY", "buy", "ema-cross", "another strategy", at(3), at(50), 472.7, f(471.5), nil, nil},
		{"BTC/USD", "sell", "ema-cross", "another strategy", at(6), at(60), 42000.5, f(math.Inf(-1)), f(99.99999999999999), f(1e-9)},
	}
	if backend == store.Postgres { // SQLite cannot store a NaN
		rows = append(rows, v2Signal{"SPY", "sell", "stochrsi-ema", "NaN ema", at(7), at(107), 469, f(math.NaN()), f(1), f(2)})
	}
	return rows
}

func insertV2(t *testing.T, dbURL string, backend store.Backend, rows []v2Signal) {
	t.Helper()
	for _, r := range rows {
		opt := func(p *float64) any {
			if p == nil {
				return nil
			}
			return *p
		}
		if backend == store.SQLite {
			execSQL(t, dbURL, `INSERT INTO signals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.symbol, r.time.UnixNano(), r.side,
				r.strategy, r.price, r.reason, opt(r.ema), opt(r.k), opt(r.d), r.recorded.UnixNano())
		} else {
			execSQL(t, dbURL, `INSERT INTO signals VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, r.symbol, r.time, r.side,
				r.strategy, r.price, r.reason, opt(r.ema), opt(r.k), opt(r.d), r.recorded)
		}
	}
	for i, sym := range []string{"AAPL", "MSFT"} {
		if backend == store.SQLite {
			execSQL(t, dbURL, `INSERT INTO bars VALUES (?, '1d', ?, 1, 2, 0.5, 1.5, 1000)`, sym, t0.Add(time.Duration(i)*time.Hour).UnixNano())
			execSQL(t, dbURL, `INSERT INTO symbols (symbol, timeframe) VALUES (?, '1d')`, sym)
		} else {
			execSQL(t, dbURL, `INSERT INTO bars VALUES ($1, '1d', $2, 1, 2, 0.5, 1.5, 1000)`, sym, t0.Add(time.Duration(i)*time.Hour))
			execSQL(t, dbURL, `INSERT INTO symbols (symbol, timeframe) VALUES ($1, '1d')`, sym)
		}
	}
}

// sameFloat is bit equality, any NaN equal to any NaN.
func sameFloat(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || math.IsNaN(a) && math.IsNaN(b)
}

// checkMigrated checks that every row of version 2 reads back from version
// 3 with all its values, under one run per strategy.
func checkMigrated(t *testing.T, st store.Store, rows []v2Signal) {
	t.Helper()
	ctx := context.Background()
	runs, err := st.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// One run per strategy, in the order of their first recorded signal.
	if len(runs) != 2 || runs[0].Strategy != "ema-cross" || runs[1].Strategy != "stochrsi-ema" {
		t.Fatalf("runs = %+v, want ema-cross then stochrsi-ema", runs)
	}
	runOf := map[string]int64{}
	count := map[string]int64{}
	for _, r := range rows {
		count[r.strategy]++
	}
	for _, r := range runs {
		if r.Command != store.BeforeRuns || r.Params != nil || r.Indicators != nil || r.Config() != "" {
			t.Errorf("run %d = %+v, want a run of the migration with no settings", r.ID, r)
		}
		if r.Signals != count[r.Strategy] {
			t.Errorf("run %d (%s) has %d signals, want %d", r.ID, r.Strategy, r.Signals, count[r.Strategy])
		}
		runOf[r.Strategy] = r.ID
	}
	if !runs[0].Started.Equal(t0.Add(50 * time.Hour)) {
		t.Errorf("run 1 started %v, want its first signal's recording %v", runs[0].Started, t0.Add(50*time.Hour))
	}
	want := slices.Clone(rows)
	slices.SortFunc(want, func(a, b v2Signal) int {
		if c := a.time.Compare(b.time); c != 0 {
			return c
		}
		if c := strings.Compare(a.symbol, b.symbol); c != 0 {
			return c
		}
		if c := strings.Compare(a.side, b.side); c != 0 {
			return c
		}
		return strings.Compare(a.strategy, b.strategy)
	})
	got := readJournal(t, st, store.SignalQuery{})
	if len(got) != len(want) {
		t.Fatalf("journal holds %d signals, want %d", len(got), len(want))
	}
	for i, w := range want {
		e, s := got[i], got[i].Signal
		if e.Strategy != w.strategy || e.Run != runOf[w.strategy] || s.Symbol != w.symbol || s.Side.String() != w.side ||
			!s.Time.Equal(w.time) || !e.Recorded.Equal(w.recorded) || s.Price != w.price || s.Reason != w.reason {
			t.Errorf("entry %d = %+v, want %+v", i, e, w)
			continue
		}
		if s.Indicators.Schema != market.DefaultSchema {
			t.Errorf("entry %d (%s): schema %v, want the default one", i, w.reason, s.Indicators.Schema)
		}
		// Version 2 read %K and %D as defined only together.
		kd := w.k != nil && w.d != nil
		for h, p := range map[market.Handle]*float64{market.DefaultEMA: w.ema, market.DefaultStochK: w.k, market.DefaultStochD: w.d} {
			v, ok := s.Indicators.Get(h)
			wantOK := p != nil && (h == market.DefaultEMA || kd)
			if ok != wantOK || ok && !sameFloat(v, *p) {
				t.Errorf("entry %d (%s): %s = %v (defined %v), want %v (defined %v)", i, w.reason,
					market.DefaultNames[h], v, ok, deref(p), wantOK)
			}
		}
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func schemaVersion(t *testing.T, dbURL string) []int {
	t.Helper()
	path, ok := strings.CutPrefix(dbURL, "sqlite:")
	if !ok {
		return nil // PostgreSQL: read through the store (Open would refuse another)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var user, recorded int
	if err := db.QueryRow(`SELECT (SELECT user_version FROM pragma_user_version), (SELECT max(version) FROM tickflow_schema)`).
		Scan(&user, &recorded); err != nil {
		t.Fatal(err)
	}
	return []int{user, recorded}
}

// TestMigrationFromVersion2 makes a database of schema version 2 from its
// DDL, with journal rows holding every kind of value, and opens it: the
// program migrates it to version 3, each signal's ema, stoch_k and stoch_d
// now named values under a run per strategy, every value as it was; opening
// it again changes nothing, and new runs journal beside the old signals.
func TestMigrationFromVersion2(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		backend := store.SQLite
		if !strings.HasPrefix(dbURL, "sqlite:") {
			backend = store.Postgres
		}
		createV2(t, dbURL)
		rows := v2Rows(backend)
		insertV2(t, dbURL, backend, rows)

		st := open(t, dbURL)
		checkMigrated(t, st, rows)
		if v := schemaVersion(t, dbURL); v != nil && !slices.Equal(v, []int{3, 3}) {
			t.Fatalf("user_version, tickflow_schema = %v, want 3, 3", v)
		}
		st.Close()

		// Idempotent: a second open finds version 3 and leaves it be.
		st = open(t, dbURL)
		checkMigrated(t, st, rows)
		if got := readAll(t, st, store.Query{Timeframe: "1d"}); len(got) != 2 {
			t.Fatalf("bars after migration: %d, want 2", len(got))
		}
		if syms, err := st.Symbols(ctx, "1d"); err != nil || !slices.Equal(syms, []string{"AAPL", "MSFT"}) {
			t.Fatalf("symbols after migration: %v, %v", syms, err)
		}

		// A new run with settings journals its signals beside the old ones,
		// its own key; replayed, nothing more.
		run := startRun(t, st, store.Run{Command: "run", Strategy: "stochrsi-ema",
			Params: []store.Param{{Name: "oversold", Value: 20}}, Indicators: []string{"ema(20)"}})
		sig := market.Signal{Symbol: "AAPL", Time: t0, Side: market.Buy, Price: 185.64, Reason: "cross up",
			Indicators: market.DefaultRecord(185.2, true, 12.5, 10, true)}
		for want := 1; want >= 0; want-- {
			if n, err := st.WriteSignals(ctx, &run, []market.Signal{sig}); err != nil || n != want {
				t.Fatalf("new run's signal: added %d, %v; want %d", n, err, want)
			}
		}
		if got := readJournal(t, st, store.SignalQuery{Run: run.ID}); len(got) != 1 || got[0].Signal != sig {
			t.Fatalf("the new run's entries: %+v", got)
		}
		if n := len(readJournal(t, st, store.SignalQuery{})); n != len(rows)+1 {
			t.Fatalf("journal holds %d signals, want %d", n, len(rows)+1)
		}
	})
}
