package signals

import (
	"context"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Window returns the constructor of a stage that passes on only the events
// whose bar time is in [start, end); a zero bound is unbounded. Put it after
// the strategy, so that the indicators and the strategy see the history
// before start (the warm-up) and only the window is written:
//
//	source (history + window) ─▶ indicators ─▶ strategy ─▶ Window ─▶ sink
//	  bars before start:  computed, decided ──────────────▶ dropped
//	  bars in [start,end): computed, decided ──────────────▶ written
//
// # What a window means
//
// The strategy runs over the warm-up as over any bar, so its position
// carries into the window: a window's first signal may be a sell that
// closes a position bought during the warm-up, and a buy signalled during
// the warm-up is not written. This is the rule that makes a window's output
// equal to the run over all history restricted to the window, value for
// value and signal for signal, when the warm-up is the whole history before
// start (tickflow run --start without --warmup, and always for a CSV).
//
// # A shorter warm-up (tickflow run --warmup N)
//
// When only the last N bars before start are read, a window's values are
// computed from N bars of history, and how far they may be from the full
// run's depends on the indicator.
//
// Trailing-window indicators depend only on their last idle-period+1 bars
// (Streamer.IdlePeriod, the index of the first output): SMA, WMA, TRIMA,
// BBANDS, STDDEV, VAR, MAX, MIN, MIDPOINT, MIDPRICE, WILLR, AROON, AROONOSC,
// CCI, MFI, MOM, ROC, ROCP, ULTOSC, LINEARREG and its variants, STOCH and
// STOCHF with SMA smoothing, and the price transforms. With N at least the
// idle period they give the full run's values: bit for bit where no running
// sum is kept (MAX, MIN, MIDPRICE, WILLR, AROON, MOM, ...), and up to
// rounding where TA-Lib keeps one (SMA, BBANDS, ...: the last bits of the
// sum depend on every bar added before; within 1e-12 relative on
// spy-1d.csv). With fewer, their first window values are null.
//
// Recursive indicators remember all of history (what TA-Lib calls the
// unstable period): EMA, DEMA, TEMA, T3, KAMA, MACD, APO and PPO with EMA,
// TRIX, RSI, CMO, STOCHRSI, ATR, NATR, ADX, ADXR, DX, PLUS_DI, MINUS_DI and
// SAR. The error of their seed decays geometrically with N:
//
//	EMA(n):         |Δ| ≤ R · ((n-1)/(n+1))^(N-n+1)   R: the range of the closes so far
//	RSI(n), Wilder: |Δ| ≤ 100 · ((n-1)/n)^(N-n)
//
// StochRSI's %K divides RSI's distance to its window low by the window's
// range, which amplifies an RSI error where the window is nearly flat, and
// %D averages %K. Measured on the recorded spy-1d.csv, btcusdt-1h.csv and
// btcperp-1m.csv (3,942, 2,873 and 30,021 window bars, against the run over
// all history): 500 bars give EMA(20) and StochRSI(14,14,3) %K bit for
// bit and %D within 2e-13; 250 bars leave EMA within 1e-8 and %K, %D within
// 1e-6; 100 bars leave EMA off by up to 0.06 and %K, %D by 0.1 points.
// Cumulative sums (OBV, AD, ADOSC's AD) differ by a constant level: their
// changes agree, their values do not.
//
// Signals follow from values: one crossing decided differently changes the
// position and every later signal, so only the whole history is sure to
// give the full run's signals.
func Window(start, end time.Time) func() pipeline.Stage[market.Event] {
	return func() pipeline.Stage[market.Event] {
		return pipeline.StageFunc[market.Event](func(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
			if !InWindow(e.Time, start, end) {
				return nil
			}
			return out.Emit(e)
		})
	}
}

// InWindow reports whether t is in [start, end), a zero bound unbounded.
func InWindow(t, start, end time.Time) bool {
	return (start.IsZero() || !t.Before(start)) && (end.IsZero() || t.Before(end))
}
