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
// When only the last N bars before start are read (a window's bars are then
// computed from N bars of history), the difference from the full-history
// values depends on the indicator:
//
//   - Trailing-window indicators depend only on their last idle-period+1
//     bars (Streamer.IdlePeriod, the index of the first output): SMA, WMA,
//     TRIMA, BBANDS, STDDEV, VAR, MAX, MIN, MIDPOINT, MIDPRICE, WILLR,
//     AROON, AROONOSC, CCI, MFI, MOM, ROC, ROCP, ULTOSC, LINEARREG and its
//     variants, STOCH and STOCHF with SMA smoothing, and the price
//     transforms. With N at least the idle period they are the full run's
//     values up to rounding: TA-Lib keeps running sums, whose last bits
//     depend on every bar added before (within 1e-12 relative on the
//     recorded series; the window functions MAX, MIN, WILLR, AROON and the
//     transforms are bit for bit).
//
//   - Recursive indicators remember all of history (TA-Lib's unstable
//     period): EMA, DEMA, TEMA, T3, KAMA, MACD, APO and PPO with EMA, TRIX,
//     RSI, CMO, STOCHRSI, ATR, NATR, ADX, ADXR, DX, PLUS_DI, MINUS_DI and
//     SAR. The seed's error decays geometrically with N:
//
//     EMA(n):         |Δ| ≤ R · ((n-1)/(n+1))^(N-n+1)   (R: the range of the closes read)
//     RSI(n), Wilder: |Δ| ≤ 100 · ((n-1)/n)^(N-n)
//
//     so EMA(20) agrees to rounding after N = 500 bars and RSI(14) within
//     1e-14, while 100 bars can leave RSI points off. StochRSI's %K divides
//     RSI's distance to its window low by the window's range, which
//     amplifies a small RSI error where the window is nearly flat; on the
//     recorded daily series it is within 1e-9 after 500 bars (shown by
//     TestWarmupIsClose in cmd/tickflow).
//
//   - Cumulative sums (OBV, AD, ADOSC's AD) differ by a constant level:
//     their changes agree, their values do not.
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
