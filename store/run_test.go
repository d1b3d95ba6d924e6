package store_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// record makes a record of the named values, defined as defined says.
func record(t *testing.T, names []string, vals []float64, defined []bool) market.Indicators {
	t.Helper()
	s, err := market.NewSchema(names...)
	if err != nil {
		t.Fatal(err)
	}
	r := market.Indicators{Schema: s}
	for i, v := range vals {
		if defined[i] {
			r.Set(market.Handle(i), v)
		}
	}
	return r
}

// values lists a record's values by name, "-" for undefined ones.
func values(r market.Indicators) (names []string, vals []float64, defined []bool) {
	r.Each(func(name string, v float64, ok bool) {
		names, vals, defined = append(names, name), append(vals, v), append(defined, ok)
	})
	return
}

// TestJournalKeepsValuesByName journals records of several schemas and reads
// them back by name: the default names first (null where the record had
// none), then the others in their order, every value bit for bit, NaN and
// infinities included.
func TestJournalKeepsValuesByName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := open(t, dbURL)
		run := startRun(t, st, store.Run{Command: "test", Strategy: "macd-cross",
			Indicators: []string{"macd(12,26,9)", "slow=sma(200)"}})
		ext := []string{"ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "macd_hist", "slow"}
		cases := []struct {
			name    string
			in      market.Indicators
			names   []string
			vals    []float64
			defined []bool
		}{{
			name: "default and extras",
			in: record(t, ext, []float64{185.2, 0.1 + 0.2, 0, -0.0, math.NaN(), math.Inf(1), math.Inf(-1)},
				[]bool{true, true, false, true, true, true, true}),
			names: ext, vals: []float64{185.2, 0.1 + 0.2, 0, -0.0, math.NaN(), math.Inf(1), math.Inf(-1)},
			defined: []bool{true, true, false, true, true, true, true},
		}, {
			name:  "no default names",
			in:    record(t, []string{"macd", "slow"}, []float64{1.0 / 3, math.MaxFloat64}, []bool{true, true}),
			names: []string{"ema", "stochrsi_k", "stochrsi_d", "macd", "slow"}, vals: []float64{0, 0, 0, 1.0 / 3, math.MaxFloat64},
			defined: []bool{false, false, false, true, true},
		}, {
			name:  "defaults out of order",
			in:    record(t, []string{"slow", "stochrsi_d", "ema"}, []float64{200.5, 7, 99}, []bool{true, true, false}),
			names: []string{"ema", "stochrsi_k", "stochrsi_d", "slow"}, vals: []float64{0, 0, 7, 200.5},
			defined: []bool{false, false, true, true},
		}, {
			name:  "no schema",
			in:    market.Indicators{},
			names: market.DefaultNames, vals: []float64{0, 0, 0}, defined: []bool{false, false, false},
		}}
		var sigs []market.Signal
		for i, c := range cases {
			sigs = append(sigs, market.Signal{Symbol: c.name, Time: t0.Add(time.Duration(i) * time.Minute), Side: market.Buy,
				Price: 1, Reason: c.name, Indicators: c.in})
		}
		if n, err := st.WriteSignals(ctx, &run, sigs); err != nil || n != len(sigs) {
			t.Fatalf("added %d, %v", n, err)
		}
		got := readJournal(t, st, store.SignalQuery{Run: run.ID})
		if len(got) != len(cases) {
			t.Fatalf("read %d entries, want %d", len(got), len(cases))
		}
		for i, c := range cases {
			names, vals, defined := values(got[i].Signal.Indicators)
			if !slices.Equal(names, c.names) || !slices.Equal(defined, c.defined) {
				t.Errorf("%s: names %v defined %v, want %v %v", c.name, names, defined, c.names, c.defined)
				continue
			}
			for k := range vals {
				if c.defined[k] && !sameFloat(vals[k], c.vals[k]) {
					t.Errorf("%s: %s = %v, want %v", c.name, names[k], vals[k], c.vals[k])
				}
			}
			if _, ok := got[i].Signal.Indicators.Get(market.DefaultEMA); ok != c.defined[0] {
				t.Errorf("%s: the default EMA handle reads defined=%v", c.name, ok)
			}
		}
		if got[3].Signal.Indicators.Schema != market.DefaultSchema {
			t.Errorf("a record of the default names reads back with schema %p, not DefaultSchema", got[3].Signal.Indicators.Schema)
		}

		// More values than a record holds once the default ones are added.
		var many []string
		for i := range market.MaxValues - 2 {
			many = append(many, "v"+strconv.Itoa(i))
		}
		big := sigs[0]
		big.Time = t0.Add(time.Hour)
		big.Indicators = record(t, many, make([]float64, len(many)), make([]bool, len(many)))
		if _, err := st.WriteSignals(ctx, &run, []market.Signal{big}); !errors.Is(err, store.ErrConstraint) {
			t.Fatalf("a record of %d values beside the default ones: err = %v, want ErrConstraint", len(many), err)
		}
	})
}

// TestRuns records runs and journals the same signals under them: a run
// with the settings of an earlier one journals no duplicates (its entries
// stay the first run's), a run with other settings journals its own, and
// SignalQuery.Run and Runs tell them apart.
func TestRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := open(t, dbURL)
		if runs, err := st.Runs(ctx); err != nil || len(runs) != 0 {
			t.Fatalf("a new journal's runs: %v, %v", runs, err)
		}
		settings := store.Run{Command: "run", Strategy: "stochrsi-ema",
			Params:     []store.Param{{Name: "oversold", Value: 20}, {Name: "overbought", Value: 80}},
			Indicators: []string{"ema(20)", "stochrsi(14,14,3,sma)"}}
		first := startRun(t, st, settings)
		again := startRun(t, st, settings) // a rerun: same settings
		other := settings
		other.Params = []store.Param{{Name: "oversold", Value: 30}, {Name: "overbought", Value: 70}}
		other.Command = "run --bus"
		third := startRun(t, st, other)
		if first.ID <= 0 || again.ID <= first.ID || third.ID <= again.ID || first.Started.IsZero() {
			t.Fatalf("run ids %d, %d, %d started %v: want increasing, a start time", first.ID, again.ID, third.ID, first.Started)
		}
		if first.Config() != "oversold=20 overbought=80; ema(20) stochrsi(14,14,3,sma)" {
			t.Fatalf("Config() = %q", first.Config())
		}

		sigs := makeSignals(30)
		for _, w := range []struct {
			run  store.Run
			want int
		}{{first, 30}, {again, 0}, {third, 30}} {
			if n, err := st.WriteSignals(ctx, &w.run, sigs); err != nil || n != w.want {
				t.Fatalf("run %d: added %d, %v; want %d", w.run.ID, n, err, w.want)
			}
		}
		for id, want := range map[int64]int{first.ID: 30, again.ID: 0, third.ID: 30} {
			got := readJournal(t, st, store.SignalQuery{Run: id})
			if len(got) != want {
				t.Fatalf("run %d: %d entries, want %d", id, len(got), want)
			}
			for _, e := range got {
				if e.Run != id {
					t.Fatalf("run %d's query returned an entry of run %d", id, e.Run)
				}
			}
		}
		if n := len(readJournal(t, st, store.SignalQuery{})); n != 60 {
			t.Fatalf("journal holds %d entries, want 60", n)
		}

		runs, err := st.Runs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 3 {
			t.Fatalf("Runs = %+v", runs)
		}
		for i, want := range []store.Run{first, again, third} {
			want.Signals = []int64{30, 0, 30}[i]
			got := runs[i]
			if got.ID != want.ID || !got.Started.Equal(want.Started.Truncate(time.Microsecond)) && !got.Started.Equal(want.Started) ||
				got.Command != want.Command || got.Strategy != want.Strategy || !slices.Equal(got.Params, want.Params) ||
				!slices.Equal(got.Indicators, want.Indicators) || got.Signals != want.Signals {
				t.Errorf("run %d = %+v, want %+v", i, got, want)
			}
		}

		// A signal needs a recorded run.
		if _, err := st.WriteSignals(ctx, &store.Run{}, sigs[:1]); !errors.Is(err, store.ErrConstraint) {
			t.Fatalf("no run: err = %v, want ErrConstraint", err)
		}
		ghost := first
		ghost.ID = 999
		fresh := sigs[0]
		fresh.Time = t0.Add(-time.Hour) // new, so the key does not hide the run
		if _, err := st.WriteSignals(ctx, &ghost, []market.Signal{fresh}); !errors.Is(err, store.ErrConstraint) {
			t.Fatalf("a run the journal does not hold: err = %v, want ErrConstraint", err)
		}
		for _, bad := range []store.Run{
			{Strategy: "s", Params: []store.Param{{Name: "a b", Value: 1}}},
			{Strategy: "s", Params: []store.Param{{Name: "x", Value: math.NaN()}}},
			{Strategy: "s", Indicators: []string{"sma(20); drop"}},
		} {
			if _, err := st.StartRun(ctx, bad); !errors.Is(err, store.ErrConstraint) {
				t.Errorf("StartRun(%+v): err = %v, want ErrConstraint", bad, err)
			}
		}
	})
}

// TestJournalRecordsItsRun: the sink records its run once, before its first
// signal, even a run that journals none.
func TestJournalRecordsItsRun(t *testing.T) {
	noLeaks(t)
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st := openDB(t, dbURL)
		quiet := &store.Journal{DB: st, Run: store.Run{Command: "run"}}
		if err := quiet.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		j := &store.Journal{DB: st, Run: store.Run{Command: "run", Params: []store.Param{{Name: "oversold", Value: 25}}}}
		if j.RunID() != 0 {
			t.Fatal("RunID before the run is recorded")
		}
		if err := j.Start(ctx); err != nil {
			t.Fatal(err)
		}
		id := j.RunID()
		events := signalEvents(300) // 100 signals
		for chunk := range slices.Chunk(events, 64) {
			if err := j.Write(ctx, chunk); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		runs, err := st.Runs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[0].ID != quiet.RunID() || runs[0].Signals != 0 || runs[1].ID != id || runs[1].Signals != 100 ||
			runs[1].Strategy != store.DefaultStrategy || runs[1].Command != "run" {
			t.Fatalf("runs = %+v; want the quiet run with none, then run %d with 100 signals", runs, id)
		}
	})
}
