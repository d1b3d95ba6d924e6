package backtest

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Metrics are a backtest's figures, for one symbol or the portfolio, under
// the JSON keys users and tools rely on. Returns and drawdowns are
// fractions; durations are seconds. An undefined metric is null.
type Metrics struct {
	FinalEquity          float64 `json:"final_equity"`
	TotalReturn          Number  `json:"total_return"`
	BuyHoldReturn        Number  `json:"buy_hold_return"`
	CAGR                 Number  `json:"cagr"`
	MaxDrawdown          Number  `json:"max_drawdown"`
	MaxDrawdownDuration  Number  `json:"max_drawdown_duration"`
	Volatility           Number  `json:"volatility"`
	Sharpe               Number  `json:"sharpe"`
	Sortino              Number  `json:"sortino"`
	Calmar               Number  `json:"calmar"`
	Trades               int     `json:"trades"`
	WinRate              Number  `json:"win_rate"`
	ProfitFactor         Number  `json:"profit_factor"`
	AvgTradeReturn       Number  `json:"avg_trade_return"`
	BestTradeReturn      Number  `json:"best_trade_return"`
	WorstTradeReturn     Number  `json:"worst_trade_return"`
	AvgTradeDuration     Number  `json:"avg_trade_duration"`
	MaxConsecutiveLosses int     `json:"max_consecutive_losses"`
	Expectancy           Number  `json:"expectancy"`
	SQN                  Number  `json:"sqn"`
	Exposure             Number  `json:"exposure"`
	Fees                 float64 `json:"fees"`
	Unfilled             int     `json:"unfilled"`
}

// metricKeys are the JSON keys in Metrics' order, with how to read each
// and whether a lower value ranks better.
var metricKeys = []struct {
	key   string
	get   func(*Metrics) Number
	lower bool
}{
	{"final_equity", func(m *Metrics) Number { return num(m.FinalEquity) }, false},
	{"total_return", func(m *Metrics) Number { return m.TotalReturn }, false},
	{"buy_hold_return", func(m *Metrics) Number { return m.BuyHoldReturn }, false},
	{"cagr", func(m *Metrics) Number { return m.CAGR }, false},
	{"max_drawdown", func(m *Metrics) Number { return m.MaxDrawdown }, true},
	{"max_drawdown_duration", func(m *Metrics) Number { return m.MaxDrawdownDuration }, true},
	{"volatility", func(m *Metrics) Number { return m.Volatility }, true},
	{"sharpe", func(m *Metrics) Number { return m.Sharpe }, false},
	{"sortino", func(m *Metrics) Number { return m.Sortino }, false},
	{"calmar", func(m *Metrics) Number { return m.Calmar }, false},
	{"trades", func(m *Metrics) Number { return num(float64(m.Trades)) }, false},
	{"win_rate", func(m *Metrics) Number { return m.WinRate }, false},
	{"profit_factor", func(m *Metrics) Number { return m.ProfitFactor }, false},
	{"avg_trade_return", func(m *Metrics) Number { return m.AvgTradeReturn }, false},
	{"best_trade_return", func(m *Metrics) Number { return m.BestTradeReturn }, false},
	{"worst_trade_return", func(m *Metrics) Number { return m.WorstTradeReturn }, false},
	{"avg_trade_duration", func(m *Metrics) Number { return m.AvgTradeDuration }, true},
	{"max_consecutive_losses", func(m *Metrics) Number { return num(float64(m.MaxConsecutiveLosses)) }, true},
	{"expectancy", func(m *Metrics) Number { return m.Expectancy }, false},
	{"sqn", func(m *Metrics) Number { return m.SQN }, false},
	{"exposure", func(m *Metrics) Number { return m.Exposure }, false},
	{"fees", func(m *Metrics) Number { return num(m.Fees) }, true},
	{"unfilled", func(m *Metrics) Number { return num(float64(m.Unfilled)) }, true},
}

// MetricKeys returns the JSON keys of [Metrics], in order.
func MetricKeys() []string {
	keys := make([]string, len(metricKeys))
	for i, k := range metricKeys {
		keys[i] = k.key
	}
	return keys
}

func metricIndex(key string) (int, error) {
	i := slices.IndexFunc(metricKeys, func(k struct {
		key   string
		get   func(*Metrics) Number
		lower bool
	}) bool {
		return k.key == key
	})
	if i < 0 {
		return 0, usagef("backtest: unknown metric %q (one of %s)", key, strings.Join(MetricKeys(), ", "))
	}
	return i, nil
}

// Get returns the metric under its JSON key.
func (m *Metrics) Get(key string) (Number, error) {
	i, err := metricIndex(key)
	if err != nil {
		return Number{}, err
	}
	return metricKeys[i].get(m), nil
}

// equityInput is what the metrics are computed from.
type equityInput struct {
	times  []int64   // Unix nanoseconds, increasing
	equity []float64 // equity at each time
	start  float64   // E_0, the starting cash
	trades []Trade
	// held and bars give exposure (summed over symbols for a portfolio).
	held, bars     int
	fees           float64
	unfilled       int
	buyHold        Number
	periodsPerYear float64 // 0: from the data
}

const year = 365.25 * 24 * float64(time.Hour)

// computeMetrics is the definition of every metric (see the package
// documentation); it is plain two-pass arithmetic so that it reads like the
// definitions.
func computeMetrics(in equityInput) Metrics {
	var m Metrics
	n := len(in.equity)
	m.Fees, m.Unfilled, m.BuyHoldReturn = in.fees, in.unfilled, in.buyHold
	if n == 0 {
		m.FinalEquity = in.start
		return m
	}
	end := in.equity[n-1]
	m.FinalEquity = end
	m.TotalReturn = num(end/in.start - 1)
	years := float64(in.times[n-1]-in.times[0]) / year
	if years > 0 {
		m.CAGR = num(math.Pow(end/in.start, 1/years) - 1)
	}

	peak, peakT, below := in.equity[0], in.times[0], false
	var mdd float64
	var mddDur int64
	for i, e := range in.equity {
		if e >= peak {
			if below {
				mddDur = max(mddDur, in.times[i]-peakT)
			}
			peak, peakT, below = e, in.times[i], false
			continue
		}
		below = true
		mdd = max(mdd, 1-e/peak)
	}
	if below {
		mddDur = max(mddDur, in.times[n-1]-peakT)
	}
	m.MaxDrawdown = num(mdd)
	m.MaxDrawdownDuration = num(float64(mddDur) / float64(time.Second))
	if m.CAGR.OK && mdd > 0 {
		m.Calmar = num(m.CAGR.V / mdd)
	}

	var ps pathStats
	if r := n - 1; r >= 1 {
		var sum, down float64
		for i := 1; i < n; i++ {
			ret := in.equity[i]/in.equity[i-1] - 1
			sum += ret
			if ret < 0 {
				down += ret * ret
			}
		}
		mean := sum / float64(r)
		var ss float64
		for i := 1; i < n; i++ {
			d := in.equity[i]/in.equity[i-1] - 1 - mean
			ss += d * d
		}
		ps = pathStats{returns: r, mean: mean, downMeanSq: down / float64(r)}
		if r >= 2 {
			ps.variance = ss / float64(r-1)
		}
	}
	ps.annualise(&m, in.periodsPerYear, years, n)
	if in.bars > 0 {
		m.Exposure = num(float64(in.held) / float64(in.bars))
	}
	tradeMetrics(&m, in.trades)
	return m
}

// pathStats are the moments of the per-bar returns of an equity series.
type pathStats struct {
	returns    int     // bars - 1
	mean       float64 // mean return
	variance   float64 // with ddof=1; meaningful with 2 returns or more
	downMeanSq float64 // mean of min(r, 0)^2
}

// annualise sets volatility, Sharpe and Sortino from the moments.
func (ps pathStats) annualise(m *Metrics, periodsPerYear, years float64, bars int) {
	periods := periodsPerYear
	if periods == 0 && years > 0 {
		periods = float64(bars-1) / years
	}
	if ps.returns < 1 || !(periods > 0) {
		return
	}
	if dd := math.Sqrt(ps.downMeanSq); dd > 0 {
		m.Sortino = num(ps.mean / dd * math.Sqrt(periods))
	}
	if ps.returns >= 2 {
		sd := math.Sqrt(max(ps.variance, 0))
		m.Volatility = num(sd * math.Sqrt(periods))
		if sd > 0 {
			m.Sharpe = num(ps.mean / sd * math.Sqrt(periods))
		}
	}
}

// tradeMetrics fills the metrics of the closed trades.
func tradeMetrics(m *Metrics, trades []Trade) {
	var acc tradeStats
	for i := range trades {
		t := &trades[i]
		acc.add(t.PnL, t.Return, t.ExitTime.Sub(t.EntryTime).Seconds())
	}
	acc.fill(m)
}

// tradeStats accumulates the trade metrics one closed trade at a time, so
// a sweep need not keep its trades.
type tradeStats struct {
	n, wins, run, maxRun int
	gain, loss           float64 // sums of winning pnl and of losing pnl (<= 0)
	sumRet, sumDur       float64
	best, worst          float64
	mean, m2             float64 // Welford's running mean and squared deviations of pnl
	sumPnL               float64
}

func (a *tradeStats) add(pnl, ret, durSeconds float64) {
	a.n++
	if pnl > 0 {
		a.wins++
		a.gain += pnl
		a.run = 0
	} else {
		if pnl < 0 {
			a.loss += pnl
		}
		a.run++
		a.maxRun = max(a.maxRun, a.run)
	}
	a.sumRet += ret
	a.sumPnL += pnl
	a.sumDur += durSeconds
	if a.n == 1 || ret > a.best {
		a.best = ret
	}
	if a.n == 1 || ret < a.worst {
		a.worst = ret
	}
	d := pnl - a.mean
	a.mean += d / float64(a.n)
	a.m2 += d * (pnl - a.mean)
}

func (a *tradeStats) fill(m *Metrics) {
	m.Trades = a.n
	m.MaxConsecutiveLosses = a.maxRun
	if a.n == 0 {
		return
	}
	fk := float64(a.n)
	m.WinRate = num(float64(a.wins) / fk)
	if a.loss < 0 {
		m.ProfitFactor = num(a.gain / -a.loss)
	}
	m.AvgTradeReturn = num(a.sumRet / fk)
	m.BestTradeReturn, m.WorstTradeReturn = num(a.best), num(a.worst)
	m.AvgTradeDuration = num(a.sumDur / fk)
	m.Expectancy = num(a.sumPnL / fk)
	if a.n >= 2 {
		if sd := math.Sqrt(a.m2 / (fk - 1)); sd > 0 {
			m.SQN = num(math.Sqrt(fk) * a.mean / sd)
		}
	}
}

// String renders the metrics as "key=value" pairs, for logs and examples.
func (m Metrics) String() string {
	var b strings.Builder
	for i, k := range metricKeys {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%v", k.key, k.get(&m))
	}
	return b.String()
}
