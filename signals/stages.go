package signals

import (
	"context"
	"fmt"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Indicators returns the constructor of a stage that fills each event's
// Indicators from one indicators.Set per symbol. A zero Config means the
// defaults: EMA 20, StochRSI 14 14 3.
func Indicators(cfg indicators.Config) (func() pipeline.Stage[market.Event], error) {
	cfg = cfg.WithDefaults()
	if _, err := indicators.NewSet(cfg); err != nil {
		return nil, fmt.Errorf("signals.Indicators: %w", err)
	}
	return func() pipeline.Stage[market.Event] {
		return &indicatorStage{cfg: cfg, sets: map[string]*indicators.Set{}}
	}, nil
}

type indicatorStage struct {
	cfg  indicators.Config
	sets map[string]*indicators.Set
}

func (s *indicatorStage) Process(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
	set := s.sets[e.Symbol]
	if set == nil {
		set, _ = indicators.NewSet(s.cfg) // cfg was checked by Indicators
		s.sets[e.Symbol] = set
	}
	in := &e.Indicators
	if in.Schema == nil {
		in.Schema = market.DefaultSchema
	}
	in.SetDefault(set.Update(e.Close))
	return out.Emit(e)
}

// Decisions returns the constructor of a stage that runs one Strategy per
// symbol, made by newStrategy, and sets Event.Signal when it decides. Every
// event goes on, with or without a signal.
func Decisions(newStrategy Factory) func() pipeline.Stage[market.Event] {
	return func() pipeline.Stage[market.Event] {
		return &decisionStage{newStrategy: newStrategy, strategies: map[string]Strategy{}}
	}
}

type decisionStage struct {
	newStrategy Factory
	strategies  map[string]Strategy
}

func (s *decisionStage) Process(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
	st := s.strategies[e.Symbol]
	if st == nil {
		st = s.newStrategy(e.Symbol)
		s.strategies[e.Symbol] = st
	}
	e.Signal = st.Decide(e)
	return out.Emit(e)
}

// IndicatorsAndDecisions returns the constructor of one stage that does the
// work of [Indicators] followed by [Decisions] with a single lookup of the
// symbol's state per bar: the default pipeline's path, where the two stages
// have nothing between them. With onlySignals it also does the work of
// [OnlySignals], passing on only the events that carry a signal.
func IndicatorsAndDecisions(cfg indicators.Config, newStrategy Factory, onlySignals bool) (func() pipeline.Stage[market.Event], error) {
	cfg = cfg.WithDefaults()
	if _, err := indicators.NewSet(cfg); err != nil {
		return nil, fmt.Errorf("signals.IndicatorsAndDecisions: %w", err)
	}
	return func() pipeline.Stage[market.Event] {
		return &fusedStage{cfg: cfg, newStrategy: newStrategy, onlySignals: onlySignals, symbols: map[string]*symbolState{}}
	}, nil
}

type symbolState struct {
	set      *indicators.Set
	strategy Strategy
}

type fusedStage struct {
	cfg         indicators.Config
	newStrategy Factory
	onlySignals bool
	symbols     map[string]*symbolState
}

func (s *fusedStage) Process(_ context.Context, e market.Event, out pipeline.Emitter[market.Event]) error {
	st := s.symbols[e.Symbol]
	if st == nil {
		set, _ := indicators.NewSet(s.cfg) // cfg was checked by IndicatorsAndDecisions
		st = &symbolState{set: set, strategy: s.newStrategy(e.Symbol)}
		s.symbols[e.Symbol] = st
	}
	in := &e.Indicators
	if in.Schema == nil {
		in.Schema = market.DefaultSchema
	}
	in.SetDefault(st.set.Update(e.Close))
	e.Signal = st.strategy.Decide(e)
	if s.onlySignals && e.Signal == nil {
		return nil
	}
	return out.Emit(e)
}

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
