package signals_test

import (
	"context"
	"errors"
	"testing"

	"github.com/markcheno/go-talib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
)

// trade is what the strategy tests compare of a signal.
type trade struct {
	Bar   int
	Side  market.Side
	Price float64
}

// The independent implementations of the rules in the doc of each built-in
// strategy, applied bar by bar to go-talib's batch values.

// refCross: flat, buy when a crosses up b; long, sell when it crosses down;
// only on bars where a and b and the previous a and b are defined (from
// first on).
func refCross(a, b []float64, first int) []trade {
	var out []trade
	long := false
	for t := first + 1; t < len(a); t++ {
		switch {
		case !long && a[t-1] <= b[t-1] && a[t] > b[t]:
			out, long = append(out, trade{t, market.Buy, 0}), true
		case long && a[t-1] >= b[t-1] && a[t] < b[t]:
			out, long = append(out, trade{t, market.Sell, 0}), false
		}
	}
	return out
}

// refMACD is TA-Lib C's MACD from go-talib's Ema: the fast EMA starts on the
// slow EMA's first bar, the signal EMA runs over the MACD line from there
// (go-talib's own Macd seeds both otherwise, see package indicators).
func refMACD(c []float64, fast, slow, signal int) (line, sig []float64, first int) {
	n := len(c)
	line, sig = make([]float64, n), make([]float64, n)
	f, s := talib.Ema(c[slow-fast:], fast), talib.Ema(c, slow)
	for t := slow - 1; t < n; t++ {
		line[t] = f[t-(slow-fast)] - s[t]
	}
	g := talib.Ema(line[slow-1:], signal)
	first = slow - 1 + signal - 1
	for t := first; t < n; t++ {
		sig[t] = g[t-(slow-1)]
	}
	return line, sig, first
}

func refRules(name string, bars []market.Bar) []trade {
	c := make([]float64, len(bars))
	for i, b := range bars {
		c[i] = b.Close
	}
	threshold := func(r []float64, first int, low, high float64) []trade {
		var out []trade
		long := false
		for t := first; t < len(r); t++ {
			switch {
			case !long && r[t] < low:
				out, long = append(out, trade{t, market.Buy, 0}), true
			case long && r[t] > high:
				out, long = append(out, trade{t, market.Sell, 0}), false
			}
		}
		return out
	}
	var out []trade
	switch name {
	case "ema-cross(12,26)":
		out = refCross(talib.Ema(c, 12), talib.Ema(c, 26), 25)
	case "ema-cross(5,50)":
		out = refCross(talib.Ema(c, 5), talib.Ema(c, 50), 49)
	case "sma-cross(12,26)":
		out = refCross(talib.Sma(c, 12), talib.Sma(c, 26), 25)
	case "sma-cross(10,30)":
		out = refCross(talib.Sma(c, 10), talib.Sma(c, 30), 29)
	case "sma-cross(50,200)":
		out = refCross(talib.Sma(c, 50), talib.Sma(c, 200), 199)
	case "macd-cross(12,26,9)":
		m, g, first := refMACD(c, 12, 26, 9)
		out = refCross(m, g, first)
	case "macd-cross(5,35,5)":
		m, g, first := refMACD(c, 5, 35, 5)
		out = refCross(m, g, first)
	case "rsi-threshold(14,30,70)":
		out = threshold(talib.Rsi(c, 14), 14, 30, 70)
	case "rsi-threshold(2,10,90)":
		out = threshold(talib.Rsi(c, 2), 2, 10, 90)
	case "bbands-revert(20,2,2)", "bbands-revert(10,1.5,1)":
		n, up, dn := 20, 2.0, 2.0
		if name != "bbands-revert(20,2,2)" {
			n, up, dn = 10, 1.5, 1
		}
		u, _, l := talib.BBands(c, n, up, dn, talib.SMA)
		long := false
		for t := n - 1; t < len(c); t++ {
			switch {
			case !long && c[t] < l[t]:
				out, long = append(out, trade{t, market.Buy, 0}), true
			case long && c[t] > u[t]:
				out, long = append(out, trade{t, market.Sell, 0}), false
			}
		}
	case "stochrsi-ema(20,80)", "stochrsi-ema(30,70)":
		lo, hi := 20.0, 80.0
		if name != "stochrsi-ema(20,80)" {
			lo, hi = 30, 70
		}
		i := 0 // the signals are in bar order; times may repeat
		for _, s := range reference(bars, 20, 14, 14, 3, lo, hi) {
			for bars[i].Time != s.Time || bars[i].Close != s.Price {
				i++
			}
			out = append(out, trade{i, s.Side, 0})
			i++
		}
	default:
		panic("no reference for " + name)
	}
	for i := range out {
		out[i].Price = c[out[i].Bar]
	}
	return out
}

// runNamed runs the named strategy over bars, on two workers beside
// another symbol, and returns its trades on bars.
func runNamed(t *testing.T, n *signals.Named, user []indicators.Spec, bars []market.Bar) []trade {
	t.Helper()
	c, err := signals.NewComputed(indicators.Config{}, signals.WithNeeds(user, n.Needs()))
	require.NoError(t, err)
	f, err := n.New(c)
	require.NoError(t, err)
	other := randomWalk("OTHER", len(bars), 99, 0)
	var in []market.Event
	for i := range bars {
		in = append(in, market.Event{Bar: bars[i]}, market.Event{Bar: other[i]})
	}
	var got []trade
	seen := 0 // bars of the symbol so far: recorded data repeats some times
	p := pipeline.New(pipeline.Config[market.Event]{Workers: 2, Key: market.Event.Key}).
		From("in", sourcesSlice(in)).Then("both", c.Decided(f, false)).
		To("out", pipeline.SinkFunc[market.Event](func(_ context.Context, es []market.Event) error {
			for _, e := range es {
				if e.Symbol != bars[0].Symbol {
					continue
				}
				if e.Signal != nil {
					require.NotEmpty(t, e.Signal.Reason)
					require.Equal(t, e.Indicators, e.Signal.Indicators)
					got = append(got, trade{seen, e.Signal.Side, e.Signal.Price})
				}
				seen++
			}
			return nil
		}))
	require.NoError(t, p.Run(context.Background()))
	return got
}

func TestNamedStrategiesEqualTheirRules(t *testing.T) {
	all := map[string]func(t *testing.T) []market.Bar{
		"random walk":      func(*testing.T) []market.Bar { return randomWalk("RW", 20000, 1, 0) },
		"whole-unit ticks": func(*testing.T) []market.Bar { return randomWalk("TICK", 20000, 2, 1) },
		"cent ticks":       func(*testing.T) []market.Bar { return randomWalk("CENT", 20000, 3, 0.01) },
	}
	for _, name := range []string{"spy-1d.csv", "btcusdt-1h.csv", "btcperp-1m.csv"} {
		all[name] = func(t *testing.T) []market.Bar { return loadShared(t, name) }
	}
	names := []string{"stochrsi-ema", "stochrsi-ema(30,70)", "ema-cross", "ema-cross(5,50)", "sma-cross(10,30)",
		"sma-cross(50,200)", "macd-cross", "macd-cross(5,35,5)", "rsi-threshold", "rsi-threshold(2,10,90)",
		"bbands-revert", "bbands-revert(10,1.5,1)"}
	for series, load := range all {
		t.Run(series, func(t *testing.T) {
			bars := load(t)
			for _, name := range names {
				n, err := signals.ParseStrategy(name)
				require.NoError(t, err)
				want := refRules(n.String(), bars)
				require.NotEmpty(t, want, "%s: the rule trades, so the comparison means something", n)
				require.Equal(t, want, runNamed(t, n, nil, bars), "%s", n)
			}
		})
	}
}

func TestNamedStrategyReusesUserSpecs(t *testing.T) {
	n, err := signals.ParseStrategy("sma-cross(12, 26)")
	require.NoError(t, err)
	assert.Equal(t, "sma-cross(12,26)", n.String())
	user := specs(t, "slow=sma(26),sma26=ema(26)")
	all := signals.WithNeeds(user, n.Needs())
	c, err := signals.NewComputed(indicators.Config{}, all)
	require.NoError(t, err)
	assert.Equal(t, []string{"ema", "stochrsi_k", "stochrsi_d", "slow", "sma26", "sma12"}, c.Schema().Names(),
		"sma(26) reuses the user's slow; sma(12) is added")
	bars := randomWalk("RW", 5000, 5, 0)
	require.Equal(t, refRules("sma-cross(12,26)", bars), runNamed(t, n, user, bars))

	// A need whose name a user took for something else is renamed.
	m, err := signals.ParseStrategy("macd-cross")
	require.NoError(t, err)
	all = signals.WithNeeds(specs(t, "macd(5,35,5)"), m.Needs())
	c, err = signals.NewComputed(indicators.Config{}, all)
	require.NoError(t, err)
	assert.Equal(t, []string{"ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "macd_hist",
		"macd_2", "macd_2_signal", "macd_2_hist"}, c.Schema().Names())
	require.Equal(t, refRules("macd-cross(12,26,9)", bars), runNamed(t, m, specs(t, "macd(5,35,5)"), bars))
}

func TestParseStrategyErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{"ema-cross(26,12)", "fast period 26 must be below the slow period 12"},
		{"sma-cross(20,20)", "must be below"},
		{"macd-cross(26,12,9)", "must be below"},
		{"rsi-threshold(14,70,30)", "low 70 must be below high 30"},
		{"stochrsi-ema(80,20)", "must be below"},
		{"ema-cross(1.5,26)", "not a whole number"},
		{"ema-cross(12,26,3)", "3 arguments, ema-cross takes at most 2"},
		{"ema-cross(12", "missing ')'"},
		{"golden-goose", `unknown strategy "golden-goose": want one of stochrsi-ema, ema-cross`},
		{"rsi-threshold(14,-1,70)", "outside 0..100"},
		{"bbands-revert(x)", `"x" is not a number`},
	} {
		_, err := signals.ParseStrategy(tc.spec)
		require.Error(t, err, tc.spec)
		assert.ErrorContains(t, err, tc.want, tc.spec)
		assert.True(t, errors.Is(err, signals.ErrStrategy), tc.spec)
	}
	n, err := signals.ParseStrategy("ema-cross")
	require.NoError(t, err)
	c, err := signals.NewComputed(indicators.Config{}, nil) // the needs not added
	require.NoError(t, err)
	_, err = n.New(c)
	assert.ErrorContains(t, err, "ema(12) is not computed")
}

func TestStrategiesListed(t *testing.T) {
	var names []string
	for _, f := range signals.Strategies() {
		names = append(names, f.Name)
		assert.NotEmpty(t, f.Doc)
		_, err := signals.ParseStrategy(f.Name)
		assert.NoError(t, err, "%s parses with its defaults", f.Name)
	}
	assert.Equal(t, []string{"stochrsi-ema", "ema-cross", "sma-cross", "macd-cross", "rsi-threshold", "bbands-revert"}, names)
}
