// Package market holds the values that travel through a tickflow pipeline: a
// [Bar] of prices, the [Indicators] computed from it, the [Signal] a strategy
// makes, and the [Event] that carries all three from stage to stage.
//
// The package is a leaf: it imports nothing from tickflow, so sources, sinks,
// strategies and user code can all share these types.
package market
