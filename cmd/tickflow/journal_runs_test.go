//go:build full

package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/store"
	"github.com/tickflow/tickflow/store/storetest"
)

// signalKeys are the (symbol, time, side, price, reason) of JSON lines of
// signals, sorted.
func signalKeys(t *testing.T, out string) []string {
	t.Helper()
	var keys []string
	for line := range strings.Lines(out) {
		var s struct {
			Symbol, Time, Side, Reason string
			Price                      float64
		}
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		keys = append(keys, s.Symbol+" "+s.Time+" "+s.Side+" "+strconv.FormatFloat(s.Price, 'g', -1, 64)+" "+s.Reason)
	}
	slices.Sort(keys)
	return keys
}

type listedRun struct {
	Run        int64              `json:"run"`
	Started    time.Time          `json:"started"`
	Command    string             `json:"command"`
	Strategy   string             `json:"strategy"`
	Params     map[string]float64 `json:"params"`
	Indicators []string           `json:"indicators"`
	Signals    int64              `json:"signals"`
}

// TestJournalRunsAreToldApart reruns with other thresholds into one journal,
// as the issue did: each run is listed with its parameters, and --run lists
// exactly the signals that run printed; a rerun with the same settings
// journals nothing twice.
func TestJournalRunsAreToldApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		base := []string{"run", "--synthetic-symbols", "3", "--synthetic-bars", "600", "--journal", dbURL, "--format", "jsonl"}
		first := mustRun(t, base...)
		_, errOut, code := dbCmd(t, base...) // the same settings again
		if code != 0 || !strings.Contains(errOut, "journal run 2: 0 new signals") {
			t.Fatalf("rerun: exit %d\n%s", code, errOut)
		}
		other := mustRun(t, append(base, "--oversold", "35", "--overbought", "65")...)
		if slices.Equal(signalKeys(t, first), signalKeys(t, other)) {
			t.Fatal("the thresholds changed nothing: the test cannot tell the runs apart")
		}

		var runs []listedRun
		for line := range strings.Lines(mustRun(t, "signals", "--db", dbURL, "--runs", "--format", "jsonl")) {
			var r listedRun
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			runs = append(runs, r)
		}
		printed := [][]string{signalKeys(t, first), nil, signalKeys(t, other)}
		if len(runs) != 3 {
			t.Fatalf("listed %d runs, want 3: %+v", len(runs), runs)
		}
		for i, r := range runs {
			over, under := 20.0, 80.0
			if i == 2 {
				over, under = 35, 65
			}
			if r.Run != int64(i+1) || r.Command != "run" || r.Strategy != "stochrsi-ema" || r.Started.IsZero() ||
				r.Params["oversold"] != over || r.Params["overbought"] != under ||
				!slices.Equal(r.Indicators, []string{"ema(20)", "stochrsi(14,14,3,sma)"}) || r.Signals != int64(len(printed[i])) {
				t.Errorf("run %d listed as %+v, want oversold %v overbought %v, %d signals", i+1, r, over, under, len(printed[i]))
			}
			listed := mustRun(t, "signals", "--db", dbURL, "--run", strconv.FormatInt(r.Run, 10), "--format", "jsonl")
			if got := signalKeys(t, listed); !slices.Equal(got, printed[i]) {
				t.Errorf("signals --run %d lists %d signals, the run printed %d", r.Run, len(got), len(printed[i]))
			}
		}
		for _, format := range []string{"csv", "table"} {
			out := mustRun(t, "signals", "--db", dbURL, "--runs", "--run", "3", "--format", format)
			if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "oversold=35 overbought=65") ||
				!strings.Contains(lines[1], "ema(20) stochrsi(14,14,3,sma)") {
				t.Errorf("signals --runs --run 3 --format %s:\n%s", format, out)
			}
		}
		if _, errOut, code := dbCmd(t, "signals", "--db", dbURL, "--runs", "--symbols", "SYM1"); code != exitUsage || !strings.Contains(errOut, "--runs lists runs") {
			t.Errorf("--runs --symbols: exit %d, %s", code, errOut)
		}
	})
}

// TestSignalsWritesNamedValues lists a journal whose signals hold values
// beyond the default ones: today's fields keep their places, run follows,
// then the other values by name; csv and table give each a column, empty
// (or "-") where a signal has none.
func TestSignalsWritesNamedValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dbURL string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		run, err := st.StartRun(ctx, store.Run{Command: "test", Strategy: "macd-cross", Indicators: []string{"macd(12,26,9)"}})
		if err != nil {
			t.Fatal(err)
		}
		ext := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "macd_hist")
		withMACD := market.Indicators{Schema: ext}
		withMACD.SetDefault(185.25, true, 0, 0, false)
		withMACD.Set(3, 1.5)
		withMACD.Set(4, -0.125)
		slow := market.Indicators{Schema: market.MustSchema("slow")}
		slow.Set(0, 200.5)
		t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
		sigs := []market.Signal{
			{Symbol: "AAPL", Time: t0, Side: market.Buy, Price: 186, Reason: "macd crossed up", Indicators: withMACD},
			{Symbol: "AAPL", Time: t0.Add(time.Hour), Side: market.Sell, Price: 187, Reason: "below sma", Indicators: slow},
		}
		if _, err := st.WriteSignals(ctx, &run, sigs); err != nil {
			t.Fatal(err)
		}
		st.Close()

		jsonl := mustRun(t, "signals", "--db", dbURL, "--format", "jsonl")
		lines := strings.Split(strings.TrimSpace(jsonl), "\n")
		if len(lines) != 2 {
			t.Fatalf("jsonl:\n%s", jsonl)
		}
		recorded := regexp.MustCompile(`"recorded_at":"[^"]*"`) // when it was journaled varies
		cut := func(l string) string { return recorded.ReplaceAllString(l, `"recorded_at":"T"`) }
		want := []string{
			`{"strategy":"macd-cross","symbol":"AAPL","time":"2024-01-02T14:30:00Z","side":"buy","price":186,"reason":"macd crossed up",` +
				`"ema":185.25,"stochrsi_k":null,"stochrsi_d":null,"recorded_at":"T","run":1,"macd":1.5,"macd_signal":-0.125,"macd_hist":null}`,
			`{"strategy":"macd-cross","symbol":"AAPL","time":"2024-01-02T15:30:00Z","side":"sell","price":187,"reason":"below sma",` +
				`"ema":null,"stochrsi_k":null,"stochrsi_d":null,"recorded_at":"T","run":1,"slow":200.5}`,
		}
		for i := range want {
			if cut(lines[i]) != want[i] {
				t.Errorf("jsonl line %d:\n got %s\nwant %s", i+1, cut(lines[i]), want[i])
			}
		}

		rows, err := csv.NewReader(strings.NewReader(mustRun(t, "signals", "--db", dbURL, "--format", "csv"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		header := []string{"strategy", "symbol", "time", "side", "price", "reason", "ema", "stochrsi_k", "stochrsi_d",
			"recorded_at", "run", "macd", "macd_signal", "macd_hist", "slow"}
		if len(rows) != 3 || !slices.Equal(rows[0], header) {
			t.Fatalf("csv: %q", rows)
		}
		values := func(r []string) []string { return append(slices.Clone(r[6:9]), r[11:]...) }
		if got := values(rows[1]); !slices.Equal(got, []string{"185.25", "", "", "1.5", "-0.125", "", ""}) || rows[1][10] != "1" {
			t.Errorf("csv row 1 %q", rows[1])
		}
		if got := values(rows[2]); !slices.Equal(got, []string{"", "", "", "", "", "", "200.5"}) {
			t.Errorf("csv row 2 %q", rows[2])
		}

		table := strings.Split(strings.TrimSpace(mustRun(t, "signals", "--db", dbURL, "--format", "table")), "\n")
		if len(table) != 3 || !slices.Equal(strings.Fields(table[0]), header) {
			t.Fatalf("table:\n%s", strings.Join(table, "\n"))
		}
		if f := strings.Fields(table[2]); !slices.Equal(f[len(f)-4:], []string{"-", "-", "-", "200.5000"}) || f[len(f)-5] != "1" {
			t.Errorf("table row 2: %q", f)
		}
	})
}
