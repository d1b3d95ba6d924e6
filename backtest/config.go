package backtest

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tickflow/tickflow"
)

// Defaults of [Config] fields left zero.
const (
	DefaultCash     = 10_000.0
	DefaultFee      = 0.001
	DefaultSlippage = 0.0005
)

// ErrUsage marks an error in what the caller asked for (a bad parameter, an
// empty range, a window without bars): the CLI reports it on one line and
// exits 2. Test for it with errors.Is.
var ErrUsage = errors.New("bad usage")

// usageError is a one-line message that is also ErrUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Config is a simulation's settings. Its zero value means the defaults:
// 10,000 of cash, fee 0.001, slippage 0.0005, fractional quantities, no
// stops, the whole time range, periods per year from the data, and the
// default pipeline (StochRSI/EMA strategy).
type Config struct {
	// Cash is the starting cash of the whole portfolio, split equally
	// across the symbols (default 10,000).
	Cash float64
	// Fee is the fee rate charged on each side's notional (default 0.001).
	// As with net.Dialer.KeepAlive, zero means the default and a negative
	// value means none.
	Fee float64
	// Slippage moves each fill against the trader by this fraction of the
	// price (default 0.0005; negative means none).
	Slippage float64
	// WholeUnits floors every buy's quantity to a whole number.
	WholeUnits bool
	// StopLoss, TakeProfit and TrailingStop are fractions (0.05 is 5 %);
	// zero means off. See the package documentation for how they fill.
	StopLoss, TakeProfit, TrailingStop float64
	// PeriodsPerYear annualises volatility, Sharpe and Sortino; zero means
	// (bars-1)/years of the equity series.
	PeriodsPerYear float64
	// Start and End bound the simulated window (both inclusive; zero means
	// unbounded). Bars before Start still warm the indicators and the
	// strategy but are not traded.
	Start, End time.Time
	// KeepBars makes Run and Simulate keep each symbol's bars in
	// SymbolResult.Bars, for [Result.WriteReport]; off, a Result holds no
	// bars (Run's copy costs about 41 bytes a bar). Sweeps ignore it.
	KeepBars bool
	// Signals configures the pipeline that Run runs: indicators, strategy,
	// workers. Its zero value is the default pipeline of `tickflow run`.
	Signals tickflow.Config
}

// costs are a Config's resolved, validated rates.
type costs struct {
	cash, fee, slip   float64
	whole             bool
	stop, take, trail float64
	periods           float64
	start, end        int64 // Unix nanoseconds; math.MinInt64/MaxInt64 when open
}

func rate(v, def float64) float64 {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// resolve fills in the defaults and checks every field.
func (c Config) resolve() (costs, error) {
	r := costs{
		cash: c.Cash, fee: rate(c.Fee, DefaultFee), slip: rate(c.Slippage, DefaultSlippage),
		whole: c.WholeUnits, stop: c.StopLoss, take: c.TakeProfit, trail: c.TrailingStop,
		periods: c.PeriodsPerYear, start: math.MinInt64, end: math.MaxInt64,
	}
	if r.cash == 0 {
		r.cash = DefaultCash
	}
	check := []struct {
		name string
		v    float64
		ok   bool
	}{
		{"cash", r.cash, r.cash > 0},
		{"fee", r.fee, r.fee < 1},
		{"slippage", r.slip, r.slip < 1},
		{"stop-loss", r.stop, r.stop >= 0 && r.stop < 1},
		{"take-profit", r.take, r.take >= 0},
		{"trailing-stop", r.trail, r.trail >= 0 && r.trail < 1},
		{"periods-per-year", r.periods, r.periods >= 0},
	}
	for _, f := range check {
		if !f.ok || math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return costs{}, usagef("backtest: %s %v is out of range", f.name, f.v)
		}
	}
	if !c.Start.IsZero() {
		r.start = c.Start.UnixNano()
	}
	if !c.End.IsZero() {
		r.end = c.End.UnixNano()
	}
	if r.start > r.end {
		return costs{}, usagef("backtest: window start %v is after its end %v", c.Start.UTC(), c.End.UTC())
	}
	return r, nil
}
