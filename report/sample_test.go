package report_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
)

// sample is a deterministic backtest of n one-minute bars per symbol: a
// multiplicative random walk priced in cents, an EMA overlay, a 0-100 oscillator with
// thresholds, a fill every 97 bars, the account curves, metrics, trades, a
// portfolio and a sweep.
func sample(n int, symbols ...string) report.Data {
	d := report.Data{
		Title:    "tickflow backtest",
		Settings: []report.Field{{Name: "strategy", Value: "stochrsi-cross"}, {Name: "fee", Value: "0.1%"}},
	}
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for k, name := range symbols {
		rng := rand.New(rand.NewPCG(uint64(k), 7))
		s := report.Symbol{Name: name, Bars: make([]report.Bar, n)}
		ema := make([]float64, n)
		osc := make([]float64, n)
		equity, hold, dd := make([]float64, n), make([]float64, n), make([]float64, n)
		price := 100.0 * float64(k+1)
		cash, units, peak := 10000.0, 0.0, 10000.0
		for i := range n {
			open := price
			price = math.Max(0.01, math.Round(price*(1+rng.NormFloat64()*0.001)*100)/100)
			hi := math.Round(math.Max(open, price)*(1+rng.Float64()*0.0005)*100) / 100
			lo := math.Round(math.Min(open, price)*(1-rng.Float64()*0.0005)*100) / 100
			s.Bars[i] = report.Bar{Time: t0.Add(time.Duration(i) * time.Minute), Open: open, High: hi, Low: lo, Close: price}
			switch {
			case i < 19:
				ema[i] = math.NaN()
			case i == 19:
				ema[i] = price
			default:
				ema[i] = ema[i-1] + (price-ema[i-1])*2/21
			}
			osc[i] = 50 + 50*math.Sin(float64(i)/9)
			if i%97 == 50 {
				side := market.Buy
				if units > 0 {
					side = market.Sell
				}
				s.Markers = append(s.Markers, report.Marker{Time: s.Bars[i].Time, Price: price, Side: side, Label: fmt.Sprintf("%v at %.2f", side, osc[i])})
				if side == market.Buy {
					units, cash = cash/price, 0
				} else {
					s.Trades = append(s.Trades, report.Trade{Side: market.Buy, Entry: s.Bars[i-97].Time, EntryPrice: s.Bars[i-97].Close,
						Exit: s.Bars[i].Time, ExitPrice: price, Quantity: units, PnL: units * (price - s.Bars[i-97].Close),
						Return: price/s.Bars[i-97].Close - 1, Reason: "K crossed D"})
					cash, units = units*price, 0
				}
			}
			equity[i] = cash + units*price
			hold[i] = 10000 * price / s.Bars[0].Open
			peak = math.Max(peak, equity[i])
			dd[i] = equity[i]/peak - 1
		}
		s.Overlays = []report.Series{{Name: "EMA(20)", Values: ema}}
		s.Oscillators = []report.Oscillator{{Name: "StochRSI", Series: []report.Series{{Name: "K", Values: osc}}, Levels: []float64{20, 80}}}
		s.Equity, s.BuyHold, s.Drawdown = equity, hold, dd
		s.Metrics = []report.Metric{{Name: "total return", Value: equity[n-1]/10000 - 1, Unit: "%"},
			{Name: "trades", Value: float64(len(s.Trades))}, {Name: "sharpe", Value: math.NaN()}}
		d.Symbols = append(d.Symbols, s)
	}
	if len(d.Symbols) > 1 {
		p := &report.Portfolio{Metrics: []report.Metric{{Name: "total return", Value: 0.05, Unit: "%"}}}
		for i := range n {
			p.Times = append(p.Times, t0.Add(time.Duration(i)*time.Minute))
			e := 0.0
			for _, s := range d.Symbols {
				e += s.Equity[i]
			}
			p.Equity = append(p.Equity, e)
		}
		d.Portfolio = p
	}
	sw := &report.Sweep{Params: []string{"fast", "slow", "k"}, Metrics: []string{"return", "trades"}, Rank: "return"}
	for fast := 5.0; fast <= 20; fast += 5 {
		for slow := 20.0; slow <= 50; slow += 10 {
			for _, k := range []float64{3, 5} {
				sw.Rows = append(sw.Rows, report.SweepRow{Params: []float64{fast, slow, k},
					Metrics: []float64{math.Sin(fast*slow+k) / 10, fast + slow}})
			}
		}
	}
	d.Sweep = sw
	return d
}
