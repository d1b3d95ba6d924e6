package report

import (
	"time"

	"github.com/tickflow/tickflow/market"
)

// Data is everything one report shows. The backtest engine fills it; [Write]
// checks it and renders it. Slices are read, never kept or changed.
type Data struct {
	// Title heads the page and names the browser tab.
	Title string
	// Generated is shown under the title; the zero time shows nothing (so
	// that golden files stay stable).
	Generated time.Time
	// Settings are the run's settings (strategy, parameters, fees), shown
	// in this order.
	Settings []Field
	// Symbols are shown in this order, each with its own charts and tables.
	Symbols []Symbol
	// Portfolio is the combined account over all symbols; nil shows none.
	Portfolio *Portfolio
	// Sweep is the parameter sweep that chose the run; nil when there was none.
	Sweep *Sweep
}

// Field is one named setting.
type Field struct {
	Name, Value string
}

// Bar is one candle. Times must increase strictly within a symbol.
type Bar struct {
	Time                   time.Time
	Open, High, Low, Close float64
}

// Symbol is one instrument's bars, what the strategy read and what it did.
//
// Every per-bar slice (Overlays, Oscillators, Equity, BuyHold, Drawdown) has
// one value per bar, NaN where there is none (an indicator's warm-up), or is
// empty when there is nothing to show.
type Symbol struct {
	Name string
	Bars []Bar
	// Overlays are drawn over the candles (moving averages, bands).
	Overlays []Series
	// Oscillators each get a panel under the price (StochRSI, RSI).
	Oscillators []Oscillator
	// Markers are the fills: drawn at their time and price at every zoom.
	Markers []Marker
	// Equity is the account value at each bar's close.
	Equity []float64
	// BuyHold is what the same money would be worth bought at the first bar
	// and held, in Equity's units.
	BuyHold []float64
	// Drawdown is the fall from the running peak of Equity, as a fraction
	// ≤ 0: -0.12 is 12% below the peak.
	Drawdown []float64
	Metrics  []Metric
	Trades   []Trade
}

// Series is a named line with one value per bar; NaN is a gap.
type Series struct {
	Name   string
	Values []float64
}

// Oscillator is a panel of lines with horizontal threshold levels.
type Oscillator struct {
	Name   string
	Series []Series
	// Levels are thresholds drawn across the panel (20 and 80 for StochRSI).
	Levels []float64
}

// Marker is one fill drawn on the price panel.
type Marker struct {
	Time  time.Time
	Price float64
	Side  market.Side
	// Label is shown when the cursor is on the marker (the signal's reason).
	Label string
}

// Metric is one named result. A NaN or infinite Value is undefined (a
// Sharpe ratio without variance) and shows as "—".
type Metric struct {
	Name  string
	Value float64
	// Unit is how Value reads: "" a plain number, "%" a fraction shown as a
	// percentage (0.125 shows as 12.50%), anything else is appended as is.
	Unit string
}

// Trade is one round trip, or a position still open at the end when Exit
// is the zero time.
type Trade struct {
	// Side is the entry's side: [market.Buy] opens a long.
	Side       market.Side
	Entry      time.Time
	EntryPrice float64
	Exit       time.Time
	ExitPrice  float64
	Quantity   float64
	PnL        float64
	// Return is PnL as a fraction of the money the entry used.
	Return float64
	Reason string
}

// Portfolio is the account over all symbols, on its own time axis.
type Portfolio struct {
	// Times increase strictly; Equity, BuyHold and Drawdown have one value
	// per time (BuyHold and Drawdown may be empty).
	Times    []time.Time
	Equity   []float64
	BuyHold  []float64
	Drawdown []float64
	Metrics  []Metric
}

// Sweep is a grid of runs over parameters, ranked on one metric.
type Sweep struct {
	// Params names the columns of each row's Params.
	Params []string
	// Metrics names the columns of each row's Metrics.
	Metrics []string
	Rows    []SweepRow
	// Rank is the metric the rows are ranked on; it must be one of Metrics.
	Rank string
	// LowerIsBetter ranks the smallest Rank first (a drawdown).
	LowerIsBetter bool
	// X and Y are the parameters of the heatmap's columns and rows; empty
	// means the first and second of Params. Where other parameters vary, a
	// cell shows the best Rank among its rows.
	X, Y string
}

// SweepRow is one combination: its parameter values and its metrics.
type SweepRow struct {
	Params  []float64
	Metrics []float64
}
