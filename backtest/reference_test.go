package backtest_test

import (
	"encoding/json"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/tickflow/tickflow/backtest"
	"github.com/tickflow/tickflow/market"
)

// This file is a deliberately plain, separate implementation of the
// simulation in the package documentation, written from the rule's text:
// the tests hold the package to it.

type refBar struct {
	t          time.Time
	o, h, l, c float64
	sig        market.Side
}

type refSettings struct {
	cash, fee, slip   float64
	whole             bool
	stop, take, trail float64
	periods           float64
}

type refTrade struct {
	entryT, exitT         time.Time
	entryPx, exitPx, qty  float64
	pnl, ret, cost, fees_ float64
}

type refSymbol struct {
	times    []time.Time
	equity   []float64
	trades   []refTrade
	open     bool
	unfilled int
	fees     float64
	held     int
	buyHold  float64
	start    float64
}

func refSimulate(bars []refBar, share float64, s refSettings) refSymbol {
	out := refSymbol{start: share}
	cash, qty := share, 0.0
	var pending market.Side
	var entryT time.Time
	var entryPx, cost, entryFee, highest float64
	sell := func(b refBar, px float64) {
		notional := qty * px
		fee := notional * s.fee
		proceeds := notional - fee
		out.trades = append(out.trades, refTrade{entryT: entryT, exitT: b.t, entryPx: entryPx, exitPx: px,
			qty: qty, pnl: proceeds - cost, ret: (proceeds - cost) / cost, cost: cost, fees_: entryFee + fee})
		out.fees += fee
		cash += proceeds
		qty = 0
	}
	for i, b := range bars {
		boughtNow := false
		if pending == market.Buy {
			if qty != 0 {
				out.unfilled++
			} else {
				px := b.o * (1 + s.slip)
				q := cash / (px * (1 + s.fee))
				if s.whole {
					q = math.Floor(q)
				}
				if q <= 0 {
					out.unfilled++
				} else {
					entryT, entryPx, qty = b.t, px, q
					if s.whole {
						cost = q * px * (1 + s.fee)
					} else {
						cost = cash
					}
					entryFee = q * px * s.fee
					out.fees += entryFee
					cash -= cost
					if !s.whole {
						cash = 0
					}
					highest = b.c
					boughtNow = true
				}
			}
		} else if pending == market.Sell {
			if qty == 0 {
				out.unfilled++
			} else {
				sell(b, b.o*(1-s.slip))
			}
		}
		pending = 0
		if qty > 0 && !boughtNow {
			stopLevel := math.Inf(-1)
			if s.stop > 0 {
				stopLevel = entryPx * (1 - s.stop)
			}
			if s.trail > 0 {
				stopLevel = math.Max(stopLevel, highest*(1-s.trail))
			}
			takeLevel := math.Inf(1)
			if s.take > 0 {
				takeLevel = entryPx * (1 + s.take)
			}
			if b.o <= stopLevel || b.o >= takeLevel {
				sell(b, b.o*(1-s.slip))
			} else if b.l <= stopLevel {
				sell(b, stopLevel*(1-s.slip))
			} else if b.h >= takeLevel {
				sell(b, takeLevel*(1-s.slip))
			}
			if qty > 0 && b.c > highest {
				highest = b.c
			}
		}
		if qty > 0 {
			out.held++
		}
		out.times = append(out.times, b.t)
		out.equity = append(out.equity, cash+qty*b.c)
		if i == len(bars)-1 && b.sig != 0 {
			out.unfilled++
		}
		pending = b.sig
	}
	out.open = qty > 0
	out.buyHold = bars[len(bars)-1].c/bars[0].c - 1
	return out
}

// refMetrics computes every metric by its definition; nil is null.
func refMetrics(times []time.Time, eq []float64, e0 float64, trades []refTrade, held, bars int,
	fees float64, unfilled int, buyHold float64, periods float64) map[string]*float64 {
	m := map[string]*float64{}
	set := func(k string, v float64) { m[k] = &v }
	n := len(eq)
	end := eq[n-1]
	set("final_equity", end)
	set("total_return", end/e0-1)
	set("buy_hold_return", buyHold)
	years := times[n-1].Sub(times[0]).Hours() / 24 / 365.25
	m["cagr"], m["calmar"], m["volatility"], m["sharpe"], m["sortino"] = nil, nil, nil, nil, nil
	if years > 0 {
		set("cagr", math.Pow(end/e0, 1/years)-1)
	}
	// A drawdown runs from a peak to the first bar back at or above it.
	mdd, dur := 0.0, 0.0
	peak, peakAt, below := eq[0], times[0], false
	for i := range eq {
		if eq[i] >= peak {
			if below {
				dur = math.Max(dur, times[i].Sub(peakAt).Seconds())
			}
			peak, peakAt, below = eq[i], times[i], false
			continue
		}
		below = true
		mdd = math.Max(mdd, 1-eq[i]/peak)
	}
	if below {
		dur = math.Max(dur, times[n-1].Sub(peakAt).Seconds())
	}
	set("max_drawdown", mdd)
	set("max_drawdown_duration", dur)
	if m["cagr"] != nil && mdd > 0 {
		set("calmar", *m["cagr"]/mdd)
	}
	p := periods
	if p == 0 && years > 0 {
		p = float64(n-1) / years
	}
	var r []float64
	for i := 1; i < n; i++ {
		r = append(r, eq[i]/eq[i-1]-1)
	}
	if p > 0 && len(r) >= 1 {
		mean, down := 0.0, 0.0
		for _, x := range r {
			mean += x / float64(len(r))
			down += math.Pow(math.Min(x, 0), 2) / float64(len(r))
		}
		if down > 0 {
			set("sortino", mean/math.Sqrt(down)*math.Sqrt(p))
		}
		if len(r) >= 2 {
			v := 0.0
			for _, x := range r {
				v += (x - mean) * (x - mean)
			}
			sd := math.Sqrt(v / float64(len(r)-1))
			set("volatility", sd*math.Sqrt(p))
			if sd > 0 {
				set("sharpe", mean/sd*math.Sqrt(p))
			}
		}
	}
	set("trades", float64(len(trades)))
	for _, k := range []string{"win_rate", "profit_factor", "avg_trade_return", "best_trade_return",
		"worst_trade_return", "avg_trade_duration", "expectancy", "sqn"} {
		m[k] = nil
	}
	losses, run := 0, 0
	if k := float64(len(trades)); k > 0 {
		var wins, gain, loss, ret, pnl, d float64
		best, worst := trades[0].ret, trades[0].ret
		for _, t := range trades {
			if t.pnl > 0 {
				wins++
				gain += t.pnl
				run = 0
			} else {
				loss -= math.Min(t.pnl, 0)
				run++
				losses = max(losses, run)
			}
			ret += t.ret
			pnl += t.pnl
			d += t.exitT.Sub(t.entryT).Seconds()
			best, worst = math.Max(best, t.ret), math.Min(worst, t.ret)
		}
		set("win_rate", wins/k)
		if loss > 0 {
			set("profit_factor", gain/loss)
		}
		set("avg_trade_return", ret/k)
		set("best_trade_return", best)
		set("worst_trade_return", worst)
		set("avg_trade_duration", d/k)
		set("expectancy", pnl/k)
		if k >= 2 {
			v := 0.0
			for _, t := range trades {
				v += (t.pnl - pnl/k) * (t.pnl - pnl/k)
			}
			if sd := math.Sqrt(v / (k - 1)); sd > 0 {
				set("sqn", math.Sqrt(k)*(pnl/k)/sd)
			}
		}
	}
	set("max_consecutive_losses", float64(losses))
	set("exposure", float64(held)/float64(bars))
	set("fees", fees)
	set("unfilled", float64(unfilled))
	return m
}

// refPortfolio sums the symbols' latest equity at every time any has a bar.
func refPortfolio(syms []refSymbol) ([]time.Time, []float64) {
	seen := map[time.Time]bool{}
	var times []time.Time
	for _, s := range syms {
		for _, t := range s.times {
			if !seen[t] {
				seen[t] = true
				times = append(times, t)
			}
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	eq := make([]float64, len(times))
	for _, s := range syms {
		v, j := s.start, 0
		for k, t := range times {
			for j < len(s.times) && !s.times[j].After(t) {
				v = s.equity[j]
				j++
			}
			eq[k] += v
		}
	}
	return times, eq
}

// metricsMap decodes metrics through their JSON form, so keys and nulls are
// checked as users see them.
func metricsMap(t *testing.T, m backtest.Metrics) map[string]*float64 {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]*float64
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func close9(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) || math.Abs(a-b) < 1e-12
}

func compareMetrics(t *testing.T, where string, got backtest.Metrics, want map[string]*float64) {
	t.Helper()
	g := metricsMap(t, got)
	if len(g) != len(want) {
		t.Errorf("%s: %d metric keys, reference has %d", where, len(g), len(want))
	}
	for k, w := range want {
		gv, ok := g[k]
		switch {
		case !ok:
			t.Errorf("%s: metric %q missing", where, k)
		case (gv == nil) != (w == nil):
			t.Errorf("%s: %s = %v, want %v", where, k, fmtp(gv), fmtp(w))
		case gv != nil && !close9(*gv, *w):
			t.Errorf("%s: %s = %.17g, want %.17g", where, k, *gv, *w)
		}
	}
}

func fmtp(p *float64) any {
	if p == nil {
		return "null"
	}
	return *p
}

func compareTrades(t *testing.T, where string, got []backtest.Trade, want []refTrade) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d trades, want %d", where, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if !g.EntryTime.Equal(w.entryT) || !g.ExitTime.Equal(w.exitT) || !close9(g.EntryPrice, w.entryPx) ||
			!close9(g.ExitPrice, w.exitPx) || !close9(g.Qty, w.qty) || !close9(g.PnL, w.pnl) || !close9(g.Return, w.ret) {
			t.Fatalf("%s: trade %d = %+v, want %+v", where, i, g, w)
		}
	}
}
