// Package signals turns bars into trading signals: a stage that computes
// each symbol's indicators ([Computed], with [Indicators] for the default
// set alone), a stage that runs a [Strategy] per symbol ([Decisions]), and
// the default long-only StochRSI/EMA strategy ([StochRSIEMA]).
//
// The computed set is the default EMA and StochRSI followed by any extra
// indicators ([indicators.Spec]); its [market.Schema] is built once, when
// the pipeline is built, and a strategy resolves the values it reads to
// handles once, when it is made.
//
// # Strategies by name
//
// [ParseStrategy] reads a built-in strategy with its parameters, as
// "ema-cross(12,26)"; each declares the indicators it reads ([Builder]),
// which the pipeline adds to the computed set (a user's identical spec is
// reused, see [WithNeeds]), and resolves them to handles once. All are long
// only, one position per symbol; bar t is evaluated only where the values
// named are defined, on t and, for a cross, on t-1. A cross up of A over B
// is A[t-1] <= B[t-1] and A[t] > B[t] ([CrossUp]); down, A[t-1] >= B[t-1]
// and A[t] < B[t] ([CrossDown]).
//
//	stochrsi-ema(oversold=20,overbought=80)  the default, [StochRSIEMA]: with K, D the
//	    StochRSI lines and E the EMA of close (the default indicators):
//	    flat: BUY if K crosses up D and D[t] < oversold and close[t] > E[t];
//	    long: SELL if (K crosses down D and D[t] > overbought) or close[t] < E[t]
//	ema-cross(fast=12,slow=26)  F = ema(fast), S = ema(slow) of close:
//	    flat: BUY if F crosses up S; long: SELL if F crosses down S
//	sma-cross(fast=12,slow=26)  as ema-cross, with sma(fast) and sma(slow)
//	macd-cross(fast=12,slow=26,signal=9)  M, G = macd(fast,slow,signal)'s
//	    line and signal line (TA-Lib C's): flat: BUY if M crosses up G;
//	    long: SELL if M crosses down G
//	rsi-threshold(n=14,low=30,high=70)  R = rsi(n) of close:
//	    flat: BUY if R[t] < low; long: SELL if R[t] > high
//	bbands-revert(n=20,up=2,dn=2)  U, L = upper and lower bands of
//	    bbands(n,up,dn,sma) of close: flat: BUY if close[t] < L[t];
//	    long: SELL if close[t] > U[t]
//
// fast >= slow and low >= high (oversold >= overbought) are errors. Each
// rule is checked against an independent implementation on go-talib's
// batch values (named_test.go).
//
// A strategy of your own reads values by [market.Handle], resolved once
// from the schema, and uses [Cross], [Buy] and [Sell] (see the example).
//
// The stages are keyed stages ([pipeline.Keyed]): the pipeline keeps each
// symbol's state in the worker that owns the symbol, and the whole chain
// finds it with one lookup per bar, so the stages need no locks and see
// each symbol's bars in order. [Computed.Decided] does the work of the
// indicator and decision stages in one keyed stage, for pipelines with
// nothing between them.
package signals
