// Package signals turns bars into trading signals: a stage that computes
// each symbol's indicators ([Indicators]), a stage that runs a [Strategy] per
// symbol ([Decisions]), and the default long-only StochRSI/EMA strategy
// ([StochRSIEMA]).
//
// Both stages keep per-symbol state in the worker that owns the symbol (see
// package pipeline), so they need no locks and see each symbol's bars in
// order.
package signals
