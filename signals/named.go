package signals

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
)

// Builder makes a strategy once the pipeline's computed set is known: it
// declares the extra indicators it reads, which the pipeline adds to the
// computed set (see [WithNeeds]), then resolves them to handles once, in
// New. A [Named] strategy is one; a user's strategy can be another.
type Builder interface {
	// Needs are the indicators the strategy reads beyond the default ones.
	Needs() []indicators.Spec
	// New resolves the strategy's inputs in c and returns its Factory.
	New(c *Computed) (Factory, error)
}

// ErrStrategy reports a strategy spec that cannot be read or made; test
// with errors.Is.
var ErrStrategy = errors.New("bad strategy")

// StrategyFunc is a built-in strategy: its name, its parameters and its
// rule. Every built-in strategy is long only and holds at most one position
// per symbol: flat, it may buy; long, it may sell.
type StrategyFunc struct {
	Name   string
	Doc    string             // the rule, stated exactly
	Params []indicators.Param // in order; only IntParam and FloatParam
	// check validates arguments already within the Params' bounds.
	check func(args []float64) error
	// needs are the indicators read, as specs with a name.
	needs func(args []float64) []string
	// make resolves the inputs: hs[i] are the handles of needs[i]'s fields.
	make func(args []float64, hs [][]market.Handle) Factory
}

func intParam(name string, def float64) indicators.Param {
	return indicators.Param{Name: name, Kind: indicators.IntParam, Default: def, Min: 2, Max: indicators.MaxPeriod}
}

func levelParam(name string, def float64) indicators.Param {
	return indicators.Param{Name: name, Kind: indicators.FloatParam, Default: def, Min: 0, Max: 100}
}

func bandParam(name string, def float64) indicators.Param {
	return indicators.Param{Name: name, Kind: indicators.FloatParam, Default: def, Min: 0, Max: 100}
}

func fastBelowSlow(args []float64) error {
	if args[0] >= args[1] {
		return fmt.Errorf("fast period %g must be below the slow period %g", args[0], args[1])
	}
	return nil
}

func lowBelowHigh(args []float64) error {
	if args[len(args)-2] >= args[len(args)-1] {
		return fmt.Errorf("low %g must be below high %g", args[len(args)-2], args[len(args)-1])
	}
	return nil
}

func g(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// maCross is ema-cross or sma-cross.
func maCross(ma, doc string) StrategyFunc {
	return StrategyFunc{
		Name: ma + "-cross", Doc: doc,
		Params: []indicators.Param{intParam("fast", 12), intParam("slow", 26)},
		check:  fastBelowSlow,
		needs: func(a []float64) []string {
			return []string{ma + g(a[0]) + "=" + ma + "(" + g(a[0]) + ")", ma + g(a[1]) + "=" + ma + "(" + g(a[1]) + ")"}
		},
		make: func(a []float64, hs [][]market.Handle) Factory {
			return crossFactory(hs[0][0], hs[1][0], fmt.Sprintf("%s(%g)", ma, a[0]), fmt.Sprintf("%s(%g)", ma, a[1]))
		},
	}
}

var strategyFuncs = []StrategyFunc{
	{
		Name: "stochrsi-ema",
		Doc: "the default strategy (StochRSIEMA) on the default EMA and StochRSI: with K, D the StochRSI lines and " +
			"E the EMA of close, on a bar where E, K and D and the previous K and D are defined: " +
			"flat: BUY if K crosses up D (K[t-1] <= D[t-1] and K[t] > D[t]) and D[t] < oversold and close[t] > E[t]; " +
			"long: SELL if (K crosses down D and D[t] > overbought) or close[t] < E[t]",
		Params: []indicators.Param{levelParam("oversold", DefaultOversold), levelParam("overbought", DefaultOverbought)},
		check:  lowBelowHigh,
		needs:  func([]float64) []string { return nil },
		make: func(a []float64, _ [][]market.Handle) Factory {
			f, _ := NewStochRSIEMA(a[0], a[1]) // checked
			return f
		},
	},
	maCross("ema", "with F = EMA(fast) and S = EMA(slow) of close, on a bar where F and S and the previous F and S are defined: "+
		"flat: BUY if F crosses up S (F[t-1] <= S[t-1] and F[t] > S[t]); long: SELL if F crosses down S (F[t-1] >= S[t-1] and F[t] < S[t])"),
	maCross("sma", "as ema-cross, with F = SMA(fast) and S = SMA(slow) of close"),
	{
		Name: "macd-cross",
		Doc: "with M the MACD line and G its signal line (macd(fast,slow,signal), TA-Lib C's), on a bar where M and G " +
			"and the previous M and G are defined: flat: BUY if M crosses up G (M[t-1] <= G[t-1] and M[t] > G[t]); " +
			"long: SELL if M crosses down G (M[t-1] >= G[t-1] and M[t] < G[t])",
		Params: []indicators.Param{intParam("fast", 12), intParam("slow", 26), {Name: "signal", Kind: indicators.IntParam, Default: 9, Min: 1, Max: indicators.MaxPeriod}},
		check:  fastBelowSlow,
		needs: func(a []float64) []string {
			return []string{fmt.Sprintf("macd=macd(%g,%g,%g)", a[0], a[1], a[2])}
		},
		make: func(a []float64, hs [][]market.Handle) Factory {
			return crossFactory(hs[0][0], hs[0][1], "macd", "its signal")
		},
	},
	{
		Name:   "rsi-threshold",
		Doc:    "with R = RSI(n) of close, on a bar where R is defined: flat: BUY if R[t] < low; long: SELL if R[t] > high",
		Params: []indicators.Param{intParam("n", 14), levelParam("low", 30), levelParam("high", 70)},
		check:  lowBelowHigh,
		needs:  func(a []float64) []string { return []string{fmt.Sprintf("rsi=rsi(%g)", a[0])} },
		make: func(a []float64, hs [][]market.Handle) Factory {
			h, low, high := hs[0][0], a[1], a[2]
			buy, sell := "rsi below "+g(low), "rsi above "+g(high)
			return func(string) Strategy { return &rsiThreshold{h: h, low: low, high: high, buy: buy, sell: sell} }
		},
	},
	{
		Name: "bbands-revert",
		Doc: "with U and L the upper and lower Bollinger bands bbands(n,up,dn,sma) of close, on a bar where they are " +
			"defined: flat: BUY if close[t] < L[t]; long: SELL if close[t] > U[t]",
		Params: []indicators.Param{intParam("n", 20), bandParam("up", 2), bandParam("dn", 2)},
		needs: func(a []float64) []string {
			return []string{fmt.Sprintf("bbands=bbands(%g,%g,%g,sma)", a[0], a[1], a[2])}
		},
		make: func(a []float64, hs [][]market.Handle) Factory {
			up, low := hs[0][0], hs[0][2]
			return func(string) Strategy { return &bbandsRevert{up: up, low: low} }
		},
	},
}

// Strategies returns the built-in strategies, in the order of the doc.
func Strategies() []*StrategyFunc {
	out := make([]*StrategyFunc, len(strategyFuncs))
	for i := range strategyFuncs {
		out[i] = &strategyFuncs[i]
	}
	return out
}

// Named is a built-in strategy with its arguments, as [ParseStrategy]
// reads it. It is a [Builder].
type Named struct {
	Func  *StrategyFunc
	Args  []float64 // one per Func.Params, defaults filled in
	needs []indicators.Spec
}

// ParseStrategy reads a built-in strategy by name with its arguments, as
// "ema-cross(12,26)", "rsi-threshold(14,30,70)" or "stochrsi-ema";
// arguments left out take their defaults. The names and rules are those of
// [Strategies].
func ParseStrategy(spec string) (*Named, error) {
	fail := func(format string, a ...any) (*Named, error) {
		return nil, fmt.Errorf("signals: strategy %q: %s: %w", spec, fmt.Sprintf(format, a...), ErrStrategy)
	}
	s := strings.TrimSpace(spec)
	name, rest := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return fail("missing ')' at the end")
		}
		name, rest = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	name = strings.ToLower(name)
	i := slices.IndexFunc(strategyFuncs, func(f StrategyFunc) bool { return f.Name == name })
	if i < 0 {
		names := make([]string, len(strategyFuncs))
		for i, f := range strategyFuncs {
			names[i] = f.Name
		}
		return fail("unknown strategy %q: want one of %s", name, strings.Join(names, ", "))
	}
	f := &strategyFuncs[i]
	var raw []string
	if strings.TrimSpace(rest) != "" {
		raw = strings.Split(rest, ",")
	}
	if len(raw) > len(f.Params) {
		return fail("%d arguments, %s takes at most %d", len(raw), f.Name, len(f.Params))
	}
	args := make([]float64, len(f.Params))
	for i, p := range f.Params {
		if i >= len(raw) {
			args[i] = p.Default
			continue
		}
		r := strings.TrimSpace(raw[i])
		v, err := strconv.ParseFloat(r, 64)
		switch {
		case err != nil || math.IsNaN(v) || math.IsInf(v, 0):
			return fail("%s: %q is not a number", p.Name, r)
		case p.Kind == indicators.IntParam && v != math.Trunc(v):
			return fail("%s: %q is not a whole number", p.Name, r)
		case v < p.Min || v > p.Max:
			return fail("%s: %s is outside %g..%g", p.Name, r, p.Min, p.Max)
		}
		args[i] = v
	}
	if f.check != nil {
		if err := f.check(args); err != nil {
			return fail("%v", err)
		}
	}
	n := &Named{Func: f, Args: args}
	for _, item := range f.needs(args) {
		sp, err := indicators.ParseSpec(item)
		if err != nil {
			return fail("%v", err)
		}
		n.needs = append(n.needs, sp)
	}
	return n, nil
}

// Needs implements Builder.
func (n *Named) Needs() []indicators.Spec { return slices.Clone(n.needs) }

// New implements Builder: it finds each needed indicator in c (whatever
// name it has there) by its handles.
func (n *Named) New(c *Computed) (Factory, error) {
	hs := make([][]market.Handle, len(n.needs))
	for i, sp := range n.needs {
		h, err := c.Handles(sp)
		if err != nil {
			return nil, fmt.Errorf("signals: strategy %s: %w", n, err)
		}
		hs[i] = h
	}
	return n.Func.make(n.Args, hs), nil
}

// String writes the strategy back with every argument: "ema-cross(12,26)".
func (n *Named) String() string {
	parts := make([]string, len(n.Args))
	for i, a := range n.Args {
		parts[i] = g(a)
	}
	return n.Func.Name + "(" + strings.Join(parts, ",") + ")"
}

// crossFactory makes strategies that buy when value a crosses up value b
// and sell when it crosses down.
func crossFactory(a, b market.Handle, aName, bName string) Factory {
	buy, sell := aName+" crossed above "+bName, aName+" crossed below "+bName
	return func(string) Strategy { return &crossing{a: a, b: b, buy: buy, sell: sell} }
}

type crossing struct {
	a, b      market.Handle
	buy, sell string
	cross     Cross
	long      bool
}

func (s *crossing) Decide(e market.Event) *Signal {
	a, aok := e.Indicators.Get(s.a)
	b, bok := e.Indicators.Get(s.b)
	up, down := s.cross.Update(a, b, aok && bok)
	switch {
	case !s.long && up:
		s.long = true
		return Buy(&e, s.buy)
	case s.long && down:
		s.long = false
		return Sell(&e, s.sell)
	}
	return nil
}

type rsiThreshold struct {
	h         market.Handle
	low, high float64
	buy, sell string
	long      bool
}

func (s *rsiThreshold) Decide(e market.Event) *Signal {
	r, ok := e.Indicators.Get(s.h)
	switch {
	case !ok:
	case !s.long && r < s.low:
		s.long = true
		return Buy(&e, s.buy)
	case s.long && r > s.high:
		s.long = false
		return Sell(&e, s.sell)
	}
	return nil
}

type bbandsRevert struct {
	up, low market.Handle
	long    bool
}

func (s *bbandsRevert) Decide(e market.Event) *Signal {
	u, uok := e.Indicators.Get(s.up)
	l, lok := e.Indicators.Get(s.low)
	switch {
	case !uok || !lok:
	case !s.long && e.Close < l:
		s.long = true
		return Buy(&e, "close below the lower band")
	case s.long && e.Close > u:
		s.long = false
		return Sell(&e, "close above the upper band")
	}
	return nil
}
