// Package indicators computes technical indicators as streams, bar by bar,
// with the numbers of TA-Lib: bit for bit those of go-talib
// (github.com/markcheno/go-talib) where go-talib agrees with TA-Lib C, and
// TA-Lib C's where it does not.
//
// Streaming types ([SMA], [EMA], [MACD], [BBands], [Stoch], [StochRSI], [Set]
// and the others below) take one price or bar per Update, cost O(1)
// amortized and allocate nothing per update. They are plain synchronous
// values: no goroutines, no locks; use one per symbol from one goroutine.
// Each has a typed constructor that names a bad parameter in an error
// wrapping [ErrPeriod], [ErrParam] or [ErrMAType], a typed Update, and
// IdlePeriod, the index of its first defined output. The same indicators are
// registered by name ([Lookup], [Funcs]) and built from specs such as
// "macd(12,26,9),bbands(20,2,2),slow=sma(200)" ([ParseSpecs], [Spec.New]) as
// a [Streamer] that reads a [Bar]. A spec's fields are its name, or
// NAME_OUTPUT for the functions with several outputs (macd, macd_signal,
// macd_hist), go-talib's outputs in go-talib's order.
//
// Batch functions ([BatchEMA], [BatchRSI], [BatchStochRSI]) wrap go-talib and
// guard every input on which it would panic: they return an error wrapping
// [ErrPeriod], [ErrTooShort] or [ErrNotFinite] instead. As in go-talib,
// outputs have the input's length and the warm-up is filled with 0.0; real
// zeros also occur later (StochRSI %K is 0 whenever RSI sits at its window
// low), so tell warm-up from value by index, with [EMAIdlePeriod],
// [RSIIdlePeriod] and [StochRSIIdlePeriod], never by == 0.
//
// Measured on a shared 2-vCPU machine (Go 1.26, amd64): EMA(20) 5 ns,
// RSI(14) 11 ns, StochRSI(14,14,3) 40 ns and a default Set 40 ns per update,
// where recomputing go-talib's StochRsi and Ema over the last 500 bars costs
// 15,000 ns or more per new bar. A default Set is under 1 KiB.
//
// # The functions
//
// Every registered function, in two groups: the moving averages with the
// indicators built on a moving-average type, then the indicators of price,
// range and volume. Outputs are go-talib's, in its order ("" is the output
// written under the spec's name alone). Parameters are TA-Lib's names in
// go-talib's order, with TA-Lib's defaults and the range accepted in
// brackets: [lo] for a period from lo to [MaxPeriod], none for a band
// width (any finite number); a moving-average type is sma, ema, wma, dema,
// tema, trima, kama, mama or t3, or TA-Lib's number. VWAP's session and
// offset are minutes. The idle period is [Streamer.IdlePeriod]; L(t,n) is
// TA-Lib's MA lookback: n-1 for sma, ema, wma and trima, 2(n-1) for dema,
// 3(n-1) for tema, n for kama, 6(n-1) for t3, 32 for mama (which ignores n
// and uses the limits 0.5 and 0.05), and 0 for any type when n is 1 (the
// input itself, as go-talib's and TA-Lib's MA). `tickflow indicators`
// prints the same list from the registry.
//
// Equality: G is bit for bit go-talib's function, C bit for bit TA-Lib C
// (the oracle tests, on the default amd64 build), C* TA-Lib C where go-talib
// differs (see below). Every row is checked on every bar of random and
// recorded series, warm-up flags included, and every function is O(1)
// amortized per bar except CCI and the LINEARREG family, O(n) by choice (see
// their types). The price types without parameters are ready as zero
// values; one with periods returns ok false until made by its constructor (a
// zero SAR is SAR(0,0)).
//
// cpu is the CPU time of the benchmark's thread per Streamer.Update (one new
// bar through the interface, as the pipeline calls it), in ns, from one run
// of both benchmarks together:
//
//	go test -run '^$' -bench Streamers -benchtime 0.3s ./indicators/
//
// BenchmarkMAStreamers runs the spec it lists for each function,
// BenchmarkPriceStreamers the defaults. Go 1.26, amd64, on a 2-vCPU machine
// shared with seven other builds: the load average was 9 to 12 during the
// run (16 over five minutes), and wall time per update was two to five
// times these figures. Thread CPU time leaves out the time other processes
// held the core but not their pressure on its caches: the figures are upper
// bounds.
//
//	function            outputs             parameters                                idle period               cpu  equality
//
//	(the moving-average family)
//	sma                 ""                  timeperiod=30 [1]                         n-1                       12   G C
//	ema                 ""                  timeperiod=30 [1]                         n-1                       10   G C
//	wma                 ""                  timeperiod=30 [1]                         n-1                       10   G C
//	dema                ""                  timeperiod=30 [1]                         2(n-1)                    8    G C
//	tema                ""                  timeperiod=30 [1]                         3(n-1)                    9    G C
//	trima               ""                  timeperiod=30 [1]                         n-1                       10   G C
//	kama                ""                  timeperiod=30 [1]                         n                         12   G C
//	t3                  ""                  timeperiod=5 [1], vfactor=0.7 [0..1]      6(n-1)                    14   G C
//	mama                "", fama            fastlimit=0.5 [0.01..0.99],               32                        88   G, C within 7e-16 (C's atan)
//	                                        slowlimit=0.05 [0.01..0.99]
//	rsi                 ""                  timeperiod=14 [2]                         n                         16   G C
//	cmo                 ""                  timeperiod=14 [2]                         n                         18   G C
//	apo                 ""                  fastperiod=12 [2], slowperiod=26 [2],     L(matype,slow)            12   G C, idle C*
//	                                        matype=sma
//	ppo                 ""                  fastperiod=12 [2], slowperiod=26 [2],     L(matype,slow)            13   G C, idle C*
//	                                        matype=sma
//	trix                ""                  timeperiod=30 [1]                         3(n-1)+1                  9    G C
//	stddev              ""                  timeperiod=5 [2], nbdev=1                 n-1                       13   G C
//	var                 ""                  timeperiod=5 [1]                          n-1                       12   G C
//	macd                "", signal, hist    fastperiod=12 [2], slowperiod=26 [2],     (slow-1)+(signal-1)       18   C*
//	                                        signalperiod=9 [1]
//	macdext             "", signal, hist    fastperiod=12 [2], fastmatype=sma,        max(L(fast),L(slow)) +    19   C*
//	                                        slowperiod=26 [2], slowmatype=sma,        L(signal)
//	                                        signalperiod=9 [1], signalmatype=sma
//	bbands              upper, middle,      timeperiod=5 [2], nbdevup=2, nbdevdn=2,   L(matype,n)               17   G C; C* for dema, tema, kama, t3
//	                    lower               matype=sma
//	stoch               k, d                fastk_period=5 [1], slowk_period=3 [1],   (fastk-1) + L(slowk) +    62   G C for sma; C* otherwise
//	                                        slowk_matype=sma, slowd_period=3 [1],     L(slowd)
//	                                        slowd_matype=sma
//	stochf              k, d                fastk_period=5 [1], fastd_period=3 [1],   (fastk-1) + L(fastd)      66   G C, idle C*
//	                                        fastd_matype=sma
//	stochrsi            k, d                timeperiod=14 [2], fastk_period=5 [1],    timeperiod + (fastk-1) +  58   G for sma (C within 4e-14); C*
//	                                        fastd_period=3 [1], fastd_matype=sma      L(fastd)                       otherwise
//
//	(the price, range and volume family)
//	atr                 ""                  timeperiod=14 [1]                         n                         20   G C
//	natr                ""                  timeperiod=14 [1]                         n                         27   G C; NATR(1) is TRANGE in both
//	trange              ""                  -                                         1                         17   G C
//	adx                 ""                  timeperiod=14 [2]                         2n-1                      54   G C
//	adxr                ""                  timeperiod=14 [2]                         3n-2                      59   G C
//	plus_di             ""                  timeperiod=14 [1]                         n                         34   G C; n = 1 is DM1/TR1 without the
//	                                                                                                                 100 in both
//	minus_di            ""                  timeperiod=14 [1]                         n                         36   G C; as plus_di
//	dx                  ""                  timeperiod=14 [2]                         n                         55   G C
//	cci                 ""                  timeperiod=14 [2]                         n-1                       58   G C; O(n) per bar (mean
//	                                                                                                                 deviation)
//	mfi                 ""                  timeperiod=14 [2]                         n                         35   C; G slips one index when the
//	                                                                                                                 first window's flow is < 1 (the
//	                                                                                                                 tests undo the slip)
//	obv                 ""                  -                                         0                         23   G C
//	ad                  ""                  -                                         0                         26   G C
//	adosc               ""                  fastperiod=3 [2], slowperiod=10 [2]       max(fast,slow)-1          31   G C (EMAs seeded with the first
//	                                                                                                                 A/D value, as both do)
//	roc                 ""                  timeperiod=10 [1]                         n                         22   G C
//	rocp                ""                  timeperiod=10 [1]                         n                         21   G C
//	mom                 ""                  timeperiod=10 [1]                         n                         18   G C
//	willr               ""                  timeperiod=14 [2]                         n-1                       63   G C
//	aroon               down, up            timeperiod=14 [2]                         n                         59   G C
//	aroonosc            ""                  timeperiod=14 [2]                         n                         61   G C
//	ultosc              ""                  timeperiod1=7 [1], timeperiod2=14 [1],    max(p1,p2,p3)             43   G C; C's ULTOSC(1,1,1) also
//	                                        timeperiod3=28 [1]                                                       writes bar 0, from close[-1]
//	bop                 ""                  -                                         0                         23   G C
//	medprice            ""                  -                                         0                         18   G C
//	typprice            ""                  -                                         0                         21   G C
//	linearreg           ""                  timeperiod=14 [2]                         n-1                       35   C, O(n) per bar; go-talib's
//	                                                                                                                 running sums drift
//	linearreg_slope     ""                  timeperiod=14 [2]                         n-1                       39   C, O(n); go-talib drifts (0.3 on
//	                                                                                                                 flat 1e11 prices)
//	linearreg_angle     ""                  timeperiod=14 [2]                         n-1                       50   C within 3e-16 (Go's atan, not
//	                                                                                                                 libm's), O(n); go-talib drifts
//	                                                                                                                 (17 degrees on flat 1e11 prices)
//	linearreg_intercept ""                  timeperiod=14 [2]                         n-1                       33   C, O(n); go-talib drifts
//	sar                 ""                  acceleration=0.02 [0..], maximum=0.2      1                         27   G C
//	                                        [0..]
//	midpoint            ""                  timeperiod=14 [2]                         n-1                       48   G C
//	midprice            ""                  timeperiod=14 [2]                         n-1                       53   G C
//	max                 ""                  timeperiod=30 [2]                         n-1                       32   G C
//	min                 ""                  timeperiod=30 [2]                         n-1                       32   G C
//	vwap                ""                  session=1440 [1..527040], offset=0        0                         32   no TA-Lib: a batch definition and
//	                                        [0..527039]                                                              hand-made series
//	heikinashi          open, high, low,    -                                         0                         48   no TA-Lib: a batch definition and
//	                    close                                                                                        hand-made series
//
// # TA-Lib C where go-talib differs
//
// TA-Lib C is the reference behind go-talib, and go-talib is a faithful port
// of most of it. Where the two differ, this package follows TA-Lib C, and
// its tests hold it to values written by TA-Lib C itself (the golden files
// in testdata/talibc, and every spec above through the oracle that
// testdata/talibc/build.sh builds from the npm package talib 2.0.5):
//
//   - MACD: go-talib's Macd seeds the fast EMA on the first bar, where TA-Lib
//     C seeds it on the bar the slow EMA is first defined, and runs the signal
//     EMA over the zeros of the warm-up. Its three outputs differ from TA-Lib
//     C's for the first hundred bars or so (by up to 0.97 on spy-1d.csv, where
//     they agree within 1e-9 from bar 150 on; by up to 0.67 on the golden
//     random walk).
//   - MACDEXT: the same for its averages, and go-talib neither swaps fast and
//     slow (with their types) nor uses the types' lookbacks.
//   - STOCH with a %D type other than SMA, and STOCHRSI with a %D type other
//     than SMA: go-talib runs the %D average over the zeros of the %K
//     warm-up (for STOCHRSI over %K of the zero-filled RSI warm-up), which
//     for EMA moves %D by up to 20 points for a hundred bars or more. Here
//     each average starts on the first value of its input, as in TA-Lib C.
//     With SMA that changes no bit, and StochRSI keeps go-talib's padding
//     there so that its %D rounds as go-talib's (within 4e-14 of TA-Lib C).
//   - The first output of APO, PPO, BBANDS, STOCH and STOCHF with DEMA, TEMA,
//     KAMA or T3: go-talib reports from n-1 whatever the type, values that
//     mix in zeros of the warm-up; IdlePeriod is TA-Lib C's lookback, and
//     from there the values are go-talib's bits. BBANDS also starts its
//     deviation where TA-Lib C does (see [BBands]).
//
// TA-Lib C rejects period 1 for most averages, which go-talib accepts (the
// input itself, or for TRIX its rate of change); those rows are checked
// against go-talib alone. For TRIX(1) and a MACD signal period of 1 TA-Lib
// C's own lookback is one bar short (its EMA lookback is -1 for period 1);
// IdlePeriod is the first bar whose inputs are defined. MAMA calls atan,
// which TA-Lib C takes from the C library and go-talib from Go's math
// package: with mama anywhere, values are go-talib's bits and within 7e-16
// relative of TA-Lib C's (1.5e-11 on a MACDEXT line near zero).
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
