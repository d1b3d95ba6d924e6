package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)

// makeBars returns n bars per symbol, a minute apart, interleaved by time.
func makeBars(symbols []string, n int) []market.Bar {
	var out []market.Bar
	for i := range n {
		for k, s := range symbols {
			p := 100 + float64(k) + float64(i%97)/10
			out = append(out, market.Bar{Symbol: s, Time: t0.Add(time.Duration(i) * time.Minute),
				Open: p, High: p + 1, Low: p - 1, Close: p + 0.5, Volume: float64(1000 + i)})
		}
	}
	return out
}

// sorted returns bars ordered as Store.Bars returns them.
func sorted(bars []market.Bar) []market.Bar {
	out := slices.Clone(bars)
	slices.SortStableFunc(out, func(a, b market.Bar) int {
		if c := strings.Compare(a.Symbol, b.Symbol); c != 0 {
			return c
		}
		return a.Time.Compare(b.Time)
	})
	return out
}

func open(t testing.TB, dbURL string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func readAll(t testing.TB, st store.Store, q store.Query) []market.Bar {
	t.Helper()
	var out []market.Bar
	for b, err := range st.Bars(context.Background(), q) {
		if err != nil {
			t.Fatalf("Bars: %v", err)
		}
		out = append(out, b)
	}
	return out
}

func startRun(t testing.TB, st store.Store, r store.Run) store.Run {
	t.Helper()
	run, err := st.StartRun(context.Background(), r)
	if err != nil {
		t.Fatalf("StartRun: %v", err)
	}
	return run
}

func readJournal(t testing.TB, st store.Store, q store.SignalQuery) []store.Entry {
	t.Helper()
	var out []store.Entry
	for e, err := range st.Signals(context.Background(), q) {
		if err != nil {
			t.Fatalf("Signals: %v", err)
		}
		out = append(out, e)
	}
	return out
}

func equalBars(t testing.TB, got, want []market.Bar) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d bars, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] || got[i].Time.Location() != time.UTC {
			t.Fatalf("bar %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := open(t, dbURL)
		syms := []string{"MSFT", "AAPL", "BTC-USD"}
		bars := makeBars(syms, 500)
		for chunk := range slices.Chunk(bars, 256) {
			if err := st.WriteBars(ctx, "1m", chunk); err != nil {
				t.Fatal(err)
			}
		}
		// Another timeframe does not mix in.
		if err := st.WriteBars(ctx, "1d", makeBars([]string{"AAPL", "ZZZ"}, 3)); err != nil {
			t.Fatal(err)
		}
		equalBars(t, readAll(t, st, store.Query{Timeframe: "1m"}), sorted(bars))

		got, err := st.Symbols(ctx, "1m")
		if err != nil || !slices.Equal(got, firstSeen(bars)) { // the order they were first stored
			t.Fatalf("Symbols = %v, %v", got, err)
		}

		start, end := t0.Add(100*time.Minute), t0.Add(200*time.Minute)
		var want []market.Bar
		for _, b := range sorted(bars) {
			if (b.Symbol == "MSFT" || b.Symbol == "AAPL") && !b.Time.Before(start) && b.Time.Before(end) {
				want = append(want, b)
			}
		}
		equalBars(t, readAll(t, st, store.Query{Symbols: []string{"MSFT", "AAPL"}, Timeframe: "1m", Start: start, End: end}), want)
		equalBars(t, readAll(t, st, store.Query{Symbols: []string{"NOPE"}, Timeframe: "1m"}), nil)

		// Data survives a reopen.
		st.Close()
		st = open(t, dbURL)
		equalBars(t, readAll(t, st, store.Query{Timeframe: "1m"}), sorted(bars))
	})
}

func TestReimportIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := open(t, dbURL)
		bars := makeBars([]string{"AAPL", "MSFT"}, 300)
		for range 3 {
			if err := st.WriteBars(ctx, "", bars); err != nil {
				t.Fatal(err)
			}
		}
		equalBars(t, readAll(t, st, store.Query{}), sorted(bars))

		// A corrected bar replaces the old one; a batch repeating a key keeps the last.
		fixed := bars[10]
		fixed.Close += 0.25
		again := fixed
		again.Volume = 7
		if err := st.WriteBars(ctx, "", []market.Bar{fixed, bars[11], again}); err != nil {
			t.Fatal(err)
		}
		want := slices.Clone(bars)
		want[10] = again
		equalBars(t, readAll(t, st, store.Query{}), sorted(want))
	})
}

func TestConstraintViolationNamesTheBar(t *testing.T) {
	bad := []struct {
		name string
		edit func(b *market.Bar)
		want string
	}{
		{"high below low", func(b *market.Bar) { b.High, b.Low = 1, 2 }, "high 1 < low 2"},
		{"NaN close", func(b *market.Bar) { b.Close = math.NaN() }, "non-finite"},
		{"infinite volume", func(b *market.Bar) { b.Volume = math.Inf(1) }, "non-finite"},
		{"empty symbol", func(b *market.Bar) { b.Symbol = "" }, "empty symbol"},
		{"zero time", func(b *market.Bar) { b.Time = time.Time{} }, "zero time"},
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		st := open(t, dbURL)
		for _, tc := range bad {
			t.Run(tc.name, func(t *testing.T) {
				bars := makeBars([]string{"AAPL"}, 5)
				tc.edit(&bars[3])
				err := st.WriteBars(context.Background(), "1h", bars)
				var be *store.BarError
				if !errors.As(err, &be) || !errors.Is(err, store.ErrConstraint) {
					t.Fatalf("err = %v, want a *BarError wrapping ErrConstraint", err)
				}
				if be.Symbol != bars[3].Symbol || !be.Time.Equal(bars[3].Time) || be.Timeframe != "1h" ||
					!strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want the key of bar 3 and %q", err, tc.want)
				}
				if got := readAll(t, st, store.Query{Timeframe: "1h"}); len(got) != 0 {
					t.Fatalf("a rejected batch wrote %d bars", len(got))
				}
			})
		}
	})
}

func makeSignals(n int) []market.Signal {
	out := make([]market.Signal, n)
	for i := range out {
		s := &out[i]
		s.Symbol = []string{"AAPL", "MSFT", "SPY"}[i%3]
		s.Time = t0.Add(time.Duration(i/3) * time.Hour)
		s.Side = market.Buy
		if i%2 == 1 {
			s.Side = market.Sell
		}
		s.Price = 100 + float64(i)
		s.Reason = fmt.Sprintf("reason %d", i)
		// Undefined values are stored as NULL, so they read back as zeros.
		s.Indicators = market.DefaultRecord(99.5+float64(i), i%5 != 0, 0.1, float64(i%7)/10, i%5 != 0 && i%4 != 0)
		if i%5 == 0 {
			s.Indicators = market.DefaultRecord(0, false, 0, 0, false)
		} else if i%4 == 0 {
			s.Indicators = market.DefaultRecord(99.5+float64(i), true, 0, 0, false)
		}
	}
	return out
}

func TestJournalExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := open(t, dbURL)
		sigs := makeSignals(600)
		added := 0
		run := startRun(t, st, store.Run{Strategy: "stochrsi-ema"})
		// Overlapping replays: every signal arrives two or three times.
		for _, r := range [][2]int{{0, 200}, {100, 400}, {0, 600}, {550, 600}} {
			n, err := st.WriteSignals(ctx, &run, sigs[r[0]:r[1]])
			if err != nil {
				t.Fatal(err)
			}
			added += n
		}
		if added != len(sigs) {
			t.Fatalf("added %d in all, want %d", added, len(sigs))
		}
		// Another strategy's identical signal is its own entry.
		other := startRun(t, st, store.Run{Strategy: "other"})
		if n, err := st.WriteSignals(ctx, &other, sigs[:1]); err != nil || n != 1 {
			t.Fatalf("other strategy: %d, %v", n, err)
		}
		got := readJournal(t, st, store.SignalQuery{Strategy: "stochrsi-ema"})
		if len(got) != len(sigs) {
			t.Fatalf("journal holds %d, want %d", len(got), len(sigs))
		}
		seen := map[string]bool{}
		for _, e := range got {
			k := fmt.Sprint(e.Signal.Symbol, e.Signal.Time.UnixNano(), e.Signal.Side, e.Strategy)
			if seen[k] {
				t.Fatalf("duplicate %s", k)
			}
			seen[k] = true
		}
		want := slices.Clone(sigs)
		slices.SortFunc(want, func(a, b market.Signal) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			if c := strings.Compare(a.Symbol, b.Symbol); c != 0 {
				return c
			}
			return strings.Compare(a.Side.String(), b.Side.String())
		})
		for i := range want {
			if got[i].Signal != want[i] || got[i].Recorded.IsZero() {
				t.Fatalf("entry %d: got %+v, want %+v", i, got[i], want[i])
			}
		}
		if n := len(readJournal(t, st, store.SignalQuery{})); n != len(sigs)+1 {
			t.Fatalf("all strategies: %d entries", n)
		}
		if n := len(readJournal(t, st, store.SignalQuery{Symbols: []string{"SPY"}, Start: t0, End: t0.Add(10 * time.Hour)})); n != 10 {
			t.Fatalf("SPY in 10 hours: %d entries, want 10", n)
		}
		bad := sigs[:2:2]
		bad = append(bad, market.Signal{Symbol: "X", Time: t0})
		if _, err := st.WriteSignals(ctx, &run, bad); !errors.Is(err, store.ErrConstraint) {
			t.Fatalf("signal without a side: err = %v", err)
		}
	})
}

// TestStreamingRead reads with early exits more often than the pool has
// connections: a cursor left behind would hang the loop.
func TestStreamingRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := open(t, dbURL)
		bars := makeBars([]string{"A", "B"}, 5000)
		if err := st.WriteBars(ctx, "", bars); err != nil {
			t.Fatal(err)
		}
		for range 3 * st.MaxConns() {
			n := 0
			for _, err := range st.Bars(ctx, store.Query{}) {
				if err != nil {
					t.Fatal(err)
				}
				if n++; n == 10 {
					break
				}
			}
		}
		// Writing while a cursor is open works on both backends.
		n := 0
		for _, err := range st.Bars(ctx, store.Query{Symbols: []string{"A"}}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == 1 {
				if err := st.WriteBars(ctx, "5m", bars[:10]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n != 5000 {
			t.Fatalf("read %d bars of A, want 5000", n)
		}
		// A cancelled context ends the sequence with its error.
		cctx, cancel := context.WithCancel(ctx)
		n = 0
		var last error
		for _, err := range st.Bars(cctx, store.Query{}) {
			if err != nil {
				last = err
				break
			}
			if n++; n == 100 {
				cancel()
			}
		}
		cancel()
		if !errors.Is(last, context.Canceled) {
			t.Fatalf("after cancel: %v (read %d)", last, n)
		}
	})
}

func TestNewerSchemaVersionIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		st := open(t, dbURL)
		st.Close()
		if st.Backend() == store.SQLite {
			path := strings.TrimPrefix(dbURL, "sqlite:")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`PRAGMA user_version = 99; UPDATE tickflow_schema SET version = 99`); err != nil {
				t.Fatal(err)
			}
			db.Close()
		} else {
			storetest.Exec(t, dbURL, `UPDATE tickflow_schema SET version = 99`)
		}
		_, err := store.Open(context.Background(), dbURL)
		if !errors.Is(err, store.ErrSchemaVersion) || !strings.Contains(err.Error(), "schema version 99") {
			t.Fatalf("err = %v, want ErrSchemaVersion naming 99", err)
		}
		t.Log(err)
	})
}

func TestForeignDatabaseIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		if strings.HasPrefix(dbURL, "sqlite:") {
			path := strings.TrimPrefix(dbURL, "sqlite:")
			db, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ann')`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			before, _ := os.ReadFile(path)
			_, err = store.Open(context.Background(), dbURL)
			if !errors.Is(err, store.ErrForeign) {
				t.Fatalf("err = %v, want ErrForeign", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
				t.Fatal("Open changed a foreign file")
			}
			t.Log(err)
			return
		}
		storetest.Exec(t, dbURL, `CREATE TABLE bars (id int)`)
		_, err := store.Open(context.Background(), dbURL)
		if !errors.Is(err, store.ErrForeign) {
			t.Fatalf("err = %v, want ErrForeign", err)
		}
		t.Log(err)
	})
}

func TestCorruptSQLiteFileIsReported(t *testing.T) {
	dir := t.TempDir()
	// A tickflow database whose header page is overwritten, and a text file.
	good := filepath.Join(dir, "good.db")
	st := open(t, "sqlite:"+good)
	if err := st.WriteBars(context.Background(), "", makeBars([]string{"A"}, 100)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	damaged, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	copy(damaged[:100], bytes.Repeat([]byte{0xA5}, 100))
	cases := map[string][]byte{
		"text.db":    []byte(strings.Repeat("symbol,time,open,high,low,close,volume\n", 200)),
		"damaged.db": damaged,
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := store.Open(context.Background(), "sqlite:"+path)
			if !errors.Is(err, store.ErrCorrupt) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line wrapping ErrCorrupt", err)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
				t.Fatal("Open changed a corrupt file")
			}
			if _, err := os.Stat(path + "-wal"); err == nil {
				t.Fatal("Open left a WAL file beside a corrupt file")
			}
			t.Log(err)
		})
	}
}

func TestUnavailableAtStart(t *testing.T) {
	ctx := context.Background()
	// Port 1 on loopback refuses connections; the password must not leak.
	_, err := store.Open(ctx, "postgres://ann:s3cr3t-pw@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, store.ErrUnavailable) || !store.IsTransient(err) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t") || strings.Contains(msg, "\n") {
		t.Fatalf("error leaks the password or spans lines: %q", msg)
	}
	t.Log(err)

	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Open(ctx, "sqlite:"+filepath.Join(notDir, "x.db")); err == nil {
		t.Fatal("opened a database below a regular file")
	} else {
		t.Log(err)
	}
	for _, bad := range []string{"mysql://u:pw@h/db", "bars.db", "sqlite::memory:"} {
		if _, err := store.Open(ctx, bad); !errors.Is(err, store.ErrURL) || strings.Contains(err.Error(), ":pw@") {
			t.Errorf("Open(%q) = %v, want ErrURL without the password", bad, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://ann:pw@db:5432/x?sslmode=disable": "postgres://ann:xxxxx@db:5432/x?sslmode=disable",
		"postgres://ann@db/x":                         "postgres://ann@db/x",
		"postgres://db/x?password=pw&user=ann":        "postgres://db/x?password=xxxxx&user=ann",
		"sqlite:/tmp/x.db":                            "sqlite:/tmp/x.db",
		// PostgreSQL's key=value form: its password was once echoed in the
		// bad-URL error.
		"host=db port=5432 password=hunter2 dbname=x": "host=db port=5432 password=xxxxx dbname=x",
		"host=db PASSWORD = 'it is secret' user=ann":  "host=db PASSWORD = xxxxx user=ann",
	} {
		if got := store.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	p, err := store.DefaultPath()
	if err != nil || !strings.HasSuffix(p, filepath.Join("tickflow", "tickflow.db")) {
		t.Fatalf("DefaultPath = %q, %v", p, err)
	}
	st := open(t, "sqlite:")
	if st.String() != "sqlite:"+p {
		t.Fatalf("store at %s, want %s", st, p)
	}
}

// TestReadDoesNotHoldTheTable reads 100,000 bars and checks, half way, that
// the live heap has not grown by anything like the table's size (about
// 10 MB as market.Bar values): rows come from a cursor, not a loaded result.
func TestReadDoesNotHoldTheTable(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := open(t, dbURL)
		const total = 100_000
		bars := makeBars([]string{"A", "B", "C", "D"}, total/4)
		for chunk := range slices.Chunk(bars, 20_000) {
			if err := st.WriteBars(ctx, "", chunk); err != nil {
				t.Fatal(err)
			}
		}
		bars = nil
		heap := func() uint64 {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			return m.HeapAlloc
		}
		before := heap()
		var grown uint64
		n := 0
		for _, err := range st.Bars(ctx, store.Query{}) {
			if err != nil {
				t.Fatal(err)
			}
			if n++; n == total/2 {
				if h := heap(); h > before {
					grown = h - before
				}
			}
		}
		if n != total {
			t.Fatalf("read %d bars", n)
		}
		t.Logf("heap grew %d KB half way through %d bars", grown>>10, total)
		if grown > 2<<20 {
			t.Fatalf("heap grew %d KB while reading: rows are being held", grown>>10)
		}
	})
}

// TestRangeBoundsFinerThanTheStore: bounds between two representable times
// keep [Start, End) exact on PostgreSQL's microsecond timestamps too.
func TestRangeBoundsFinerThanTheStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		st := open(t, dbURL)
		bars := makeBars([]string{"A"}, 3)
		if err := st.WriteBars(context.Background(), "", bars); err != nil {
			t.Fatal(err)
		}
		mid := bars[1].Time
		for _, tc := range []struct {
			start, end time.Time
			want       int
		}{
			{mid, mid.Add(time.Nanosecond), 1},
			{mid.Add(time.Nanosecond), time.Time{}, 1},
			{time.Time{}, mid, 1},
			{mid.Add(-time.Nanosecond), mid.Add(time.Nanosecond), 1},
		} {
			if got := readAll(t, st, store.Query{Start: tc.start, End: tc.end}); len(got) != tc.want {
				t.Errorf("[%v, %v): %d bars, want %d", tc.start, tc.end, len(got), tc.want)
			}
		}
	})
}

func firstSeen(bars []market.Bar) []string {
	var out []string
	for _, b := range bars {
		if !slices.Contains(out, b.Symbol) {
			out = append(out, b.Symbol)
		}
	}
	return out
}

// TestMigrationFromVersion1 makes a store of schema version 1 (version 2's
// DDL without the symbols table) and opens it: the program migrates it,
// recording the symbols it holds (by name), and new symbols follow in the
// order stored.
func TestMigrationFromVersion1(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		createV2(t, dbURL)
		sqlite := strings.HasPrefix(dbURL, "sqlite:")
		for i, sym := range []string{"ZED", "ABC"} {
			if sqlite {
				execSQL(t, dbURL, `INSERT INTO bars VALUES (?, '1m', ?, 1, 2, 0.5, 1.5, 1000)`, sym, t0.Add(time.Duration(i)*time.Minute).UnixNano())
			} else {
				execSQL(t, dbURL, `INSERT INTO bars VALUES ($1, '1m', $2, 1, 2, 0.5, 1.5, 1000)`, sym, t0.Add(time.Duration(i)*time.Minute))
			}
		}
		back := `DROP TABLE symbols; UPDATE tickflow_schema SET version = 1;`
		if sqlite {
			back += `PRAGMA user_version = 1`
		}
		execSQL(t, dbURL, back)
		st := open(t, dbURL)
		if err := st.WriteBars(ctx, "1m", makeBars([]string{"MMM", "ABC"}, 5)); err != nil {
			t.Fatal(err)
		}
		got, err := st.Symbols(ctx, "1m")
		if err != nil || !slices.Equal(got, []string{"ABC", "ZED", "MMM"}) {
			t.Fatalf("Symbols after migration = %v, %v; want the old ones by name, then MMM", got, err)
		}
	})
}
