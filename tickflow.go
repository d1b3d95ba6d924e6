package tickflow

import (
	"fmt"
	"runtime"
	"time"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/signals"
)

// Config configures the StochRSI/EMA pipeline. Its zero value means the
// defaults: EMA 20, StochRSI 14 14 3, the default strategy with thresholds
// 20/80, one worker per CPU, every event to the sink.
type Config struct {
	// Indicators are the periods of the default EMA and StochRSI; zero
	// fields mean the defaults.
	Indicators indicators.Config
	// ExtraIndicators are computed for every symbol after the default ones
	// (see signals.Computed), parsed e.g. by
	// indicators.ParseSpecs("macd(12,26,9),slow=sma(200)"); each event's
	// record then holds their values, named by Spec.Fields after "ema",
	// "stochrsi_k" and "stochrsi_d".
	ExtraIndicators []indicators.Spec
	// Strategy makes each symbol's strategy; nil means StrategyBuilder's,
	// or else signals.StochRSIEMA with Oversold and Overbought.
	Strategy signals.Factory
	// StrategyBuilder makes the strategy once the computed set is known: a
	// built-in strategy by name, as signals.ParseStrategy("ema-cross(12,26)")
	// returns, or a user's signals.Builder. The indicators it needs are
	// computed after ExtraIndicators (an identical spec there is reused).
	// Setting both Strategy and StrategyBuilder is an error.
	StrategyBuilder signals.Builder
	// Fills, when set, tells the strategies that are signals.FillObservers
	// about the fills an order sink reports to it (Fills.Report), before
	// their symbol's next bar.
	Fills *signals.Fills
	// Oversold and Overbought are the default strategy's thresholds.
	Oversold, Overbought float64
	// Stages run between the indicators and the strategy, in order, with
	// their names (a filter, say).
	Stages []Stage
	// SignalsOnly drops events without a signal before the sink.
	SignalsOnly bool
	// Start and End, when either is set, make a window: every event goes
	// through the indicators and the strategy, and only those of bars in
	// [Start, End) reach the sink (a stage named "window", see
	// signals.Window); a zero bound is unbounded. The source reads the
	// history before Start as the window's warm-up.
	Start, End time.Time
	// Workers is the parallelism (0 means GOMAXPROCS; 1 is sequential and
	// writes the same output).
	Workers int
	// BatchSize, Buffer, Overflow, Observer and DrainTimeout are passed to
	// pipeline.Config.
	BatchSize, Buffer int
	Overflow          pipeline.Overflow
	Observer          pipeline.Observer
	DrainTimeout      time.Duration
}

// Stage is a named stage constructor for Config.Stages.
type Stage struct {
	Name string
	New  func() pipeline.Stage[market.Event]
}

// New composes source → indicators → cfg.Stages → strategy → sink, with a
// window stage before the sink when cfg.Start or cfg.End is set. Every
// stage keeps its per-symbol state in the pipeline's keyed slots (see
// pipeline.Keyed), looked up once per bar for the whole chain.
func New(src pipeline.Source[market.Event], sink pipeline.Sink[market.Event], cfg Config) (*pipeline.Pipeline[market.Event], error) {
	extra := cfg.ExtraIndicators
	if cfg.StrategyBuilder != nil {
		if cfg.Strategy != nil {
			return nil, fmt.Errorf("tickflow: both Strategy and StrategyBuilder are set: %w", pipeline.ErrConfig)
		}
		extra = signals.WithNeeds(extra, cfg.StrategyBuilder.Needs())
	}
	computed, err := signals.NewComputed(cfg.Indicators, extra)
	if err != nil {
		return nil, fmt.Errorf("tickflow: %w", err)
	}
	strategy := cfg.Strategy
	switch {
	case strategy != nil:
	case cfg.StrategyBuilder != nil:
		if strategy, err = cfg.StrategyBuilder.New(computed); err != nil {
			return nil, fmt.Errorf("tickflow: %w", err)
		}
	default:
		if strategy, err = signals.NewStochRSIEMA(cfg.Oversold, cfg.Overbought); err != nil {
			return nil, fmt.Errorf("tickflow: %w", err)
		}
	}
	if cfg.Fills != nil {
		strategy = cfg.Fills.Observe(strategy)
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := pipeline.New(pipeline.Config[market.Event]{
		Workers: workers, Key: market.Event.Key, KeyOf: eventKey,
		BatchSize: cfg.BatchSize, Buffer: cfg.Buffer, Overflow: cfg.Overflow, Observer: cfg.Observer,
		DrainTimeout: cfg.DrainTimeout,
	})
	p.From("source", src)
	// A window takes every bar before it keeps only signals, so that its
	// stage counts the window's bars.
	windowed := !cfg.Start.IsZero() || !cfg.End.IsZero()
	signalsOnly := cfg.SignalsOnly && !windowed
	if len(cfg.Stages) == 0 {
		// Nothing between the two: one stage, the event copied once.
		p.Then("indicators+strategy", computed.Decided(strategy, signalsOnly))
	} else {
		p.Then("indicators", computed.Stage())
		for _, s := range cfg.Stages {
			p.Then(s.Name, s.New)
		}
		p.Then("strategy", signals.Decisions(strategy))
		if signalsOnly {
			p.Then("signals-only", signals.OnlySignals)
		}
	}
	if windowed {
		p.Then("window", signals.Window(cfg.Start, cfg.End))
		if cfg.SignalsOnly {
			p.Then("signals-only", signals.OnlySignals)
		}
	}
	p.To("sink", sink)
	return p, nil
}

// eventKey is market.Event.Key read through a pointer (pipeline.Config.KeyOf).
func eventKey(e *market.Event) string { return e.Symbol }
