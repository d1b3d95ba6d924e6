// Package indicators computes the EMA, RSI and StochRSI that tickflow's
// strategies read, in two forms that give the same numbers.
//
// Batch functions ([BatchEMA], [BatchRSI], [BatchStochRSI]) wrap
// github.com/markcheno/go-talib and guard every input on which it would panic:
// they return an error wrapping [ErrPeriod], [ErrTooShort] or [ErrNotFinite]
// instead. As in go-talib, outputs have the input's length and the warm-up is
// filled with 0.0; real zeros also occur later (StochRSI %K is 0 whenever RSI
// sits at its window low), so tell warm-up from value by index, with
// [EMAIdlePeriod], [RSIIdlePeriod] and [StochRSIIdlePeriod], never by == 0.
//
// Streaming types ([EMA], [RSI], [StochRSI], and [Set], which holds one EMA
// and one StochRSI for one symbol) take one price per Update, cost O(1)
// amortized and allocate nothing per update. They are plain synchronous
// values: no goroutines, no locks; use one per symbol from one goroutine.
// Measured on a shared 2-vCPU machine (Go 1.26, amd64): EMA(20) 5 ns,
// RSI(14) 11 ns, StochRSI(14,14,3) 40 ns and a default Set 40 ns per update,
// where recomputing go-talib's StochRsi and Ema over the last 500 bars costs
// 15,000 ns or more per new bar. A default Set is under 1 KiB.
//
// # Bit for bit with go-talib
//
// Every streaming type repeats go-talib's floating-point operations in
// go-talib's order, so on every bar it returns exactly the bits that
// go-talib's Ema(close, n) and StochRsi(close, rsi, stoch, d, SMA) return for
// the same history (checked by the tests on recorded and random data). This
// matters for signals: on a few percent of bars %K equals %D mathematically
// (both pinned at 0 or 100), and there rounding alone decides K > D, so a
// crossing at an exact tie follows go-talib's rounding. Go may fuse a*b+c into
// one FMA instruction on arm64, ppc64, s390x, riscv64 and with GOAMD64=v3; the
// compiled go-talib and this package may then round differently, and the
// values agree only to about 1e-12 (a flat RSI window can still flip %K).
// The default amd64 build (GOAMD64=v1) never fuses and is exact.
//
// Rounding shows in values a reader may find odd, all of them go-talib's own:
// %D is a running-sum average, so after d bars of %K = 0 it can sit a
// rounding error below 0, and with %K pinned at 100 it can sit a hair below
// %K, making K > D true although both print as 100.
//
// StochRSI follows go-talib, which runs the stochastic over the whole RSI
// array with its zero-filled warm-up: the %K window and the %D running sum
// start before RSI is defined. The streaming type emulates that padding so
// that its sums round as go-talib's do.
//
// # History
//
// A value computed from the start of a long history differs slightly from one
// computed from a trailing window: EMA and RSI carry all history in their
// state. Warm a live stream on at least 500 bars of history before trusting
// its signals (with 500 bars EMA(20) and RSI(14) are bit-identical and
// StochRSI %D is within 5e-13 of the full-history value; with 100 bars it can
// be off by 50 points).
//
// # Non-finite input
//
// Batch functions reject NaN and ±Inf with [ErrNotFinite]. Streaming Update
// ignores such a price: the state does not change and ok is false for that
// call. Finite prices whose bar-to-bar change overflows float64 (beyond about
// 1e307) give NaN as in go-talib and StochRSI is then unspecified, though
// nothing panics.
package indicators
