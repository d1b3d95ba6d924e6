package signals

import (
	"context"
	"fmt"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Indicators returns the constructor of a stage that fills each event's
// Indicators with the default EMA and StochRSI of its symbol: the stage of
// [NewComputed] with no extra indicator. A zero Config means the defaults:
// EMA 20, StochRSI 14 14 3.
func Indicators(cfg indicators.Config) (func() pipeline.Stage[market.Event], error) {
	c, err := NewComputed(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("signals.Indicators: %w", err)
	}
	return c.Stage(), nil
}

// Decisions returns the constructor of a keyed stage (see [pipeline.Keyed])
// that runs one Strategy per symbol, made by newStrategy on the symbol's
// first event, and sets Event.Signal when it decides. Every event goes on,
// with or without a signal. In a pipeline after the stage of [Computed],
// both find their symbol's state with one lookup per bar.
func Decisions(newStrategy Factory) func() pipeline.Stage[market.Event] {
	return pipeline.Keyed(market.Event.Key,
		func(symbol string) *decisionState { return &decisionState{newStrategy(symbol)} },
		func(_ context.Context, e *market.Event, st *decisionState, out pipeline.Emitter[market.Event]) error {
			e.Signal = st.strategy.Decide(*e)
			return out.Emit(*e)
		})
}

type decisionState struct{ strategy Strategy }

// OnlySignals is a stage that passes on only the events that carry a signal,
// so that a sink of signals is not handed every bar.
func OnlySignals() pipeline.Stage[market.Event] {
	return pipeline.StageFunc[market.Event](func(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
		if e.Signal == nil {
			return nil
		}
		return out.Emit(e)
	})
}

// Decided returns the constructor of one keyed stage that does the work of
// c's stage, then of [Decisions](newStrategy), then, with onlySignals, of
// [OnlySignals]: the default pipeline's path, where nothing runs between the
// indicators and the strategy. It runs the same code as the three stages;
// being one stage, it copies each event once instead of at every link of
// the chain (an event is some 230 bytes), which keeps the default
// pipeline's cost per bar.
func (c *Computed) Decided(newStrategy Factory, onlySignals bool) func() pipeline.Stage[market.Event] {
	return pipeline.Keyed(market.Event.Key,
		func(symbol string) *decidedState {
			return &decidedState{computed: c.newState(symbol), decisionState: decisionState{newStrategy(symbol)}}
		},
		func(_ context.Context, e *market.Event, st *decidedState, out pipeline.Emitter[market.Event]) error {
			c.fill(e, st.computed)
			e.Signal = st.strategy.Decide(*e)
			if onlySignals && e.Signal == nil {
				return nil
			}
			return out.Emit(*e)
		})
}

type decidedState struct {
	computed *computedState
	decisionState
}
