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
// The stages are keyed stages ([pipeline.Keyed]): the pipeline keeps each
// symbol's state in the worker that owns the symbol, and the whole chain
// finds it with one lookup per bar, so the stages need no locks and see
// each symbol's bars in order. [Computed.Decided] does the work of the
// indicator and decision stages in one keyed stage, for pipelines with
// nothing between them.
package signals
