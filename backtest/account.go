package backtest

import (
	"math"
	"time"

	"github.com/tickflow/tickflow/market"
)

// Exit is why a trade was closed.
type Exit uint8

// The reasons a trade closes.
const (
	ExitSignal Exit = iota
	ExitStopLoss
	ExitTakeProfit
	ExitTrailingStop
)

// String returns "signal", "stop-loss", "take-profit" or "trailing-stop".
func (e Exit) String() string {
	switch e {
	case ExitStopLoss:
		return "stop-loss"
	case ExitTakeProfit:
		return "take-profit"
	case ExitTrailingStop:
		return "trailing-stop"
	}
	return "signal"
}

// Trade is a closed round trip. Prices are fills (slippage included); PnL is
// the sell proceeds minus the buy cost, both fees included; Return is PnL
// over the buy cost.
type Trade struct {
	Symbol     string    `json:"-"`
	EntryTime  time.Time `json:"entry_time"`
	EntryPrice float64   `json:"entry_price"`
	ExitTime   time.Time `json:"exit_time"`
	ExitPrice  float64   `json:"exit_price"`
	Qty        float64   `json:"qty"`
	PnL        float64   `json:"pnl"`
	Return     float64   `json:"return"`
	// Cost is what the buy spent, its fee included; Fees are both sides'.
	Cost float64 `json:"-"`
	Fees float64 `json:"-"`
	Exit Exit    `json:"-"`
}

// Position is a position still open: marked at the last close, not a trade.
type Position struct {
	EntryTime  time.Time `json:"entry_time"`
	EntryPrice float64   `json:"entry_price"`
	Qty        float64   `json:"qty"`
	Cost       float64   `json:"cost"`
	MarkTime   time.Time `json:"mark_time"`
	MarkPrice  float64   `json:"mark_price"`
	// Unrealized is qty*mark - cost (no exit fee); Return is Unrealized/Cost.
	Unrealized float64 `json:"unrealized_pnl"`
	Return     float64 `json:"return"`
}

// account is one symbol's simulation, advanced bar by bar: the single
// implementation of the fill rule, used by Run, the sweeps and the live
// Broker.
type account struct {
	c     *costs
	sym   string
	start float64 // the symbol's share of the cash

	cash, qty float64
	pending   market.Side
	entryTime int64
	entryPx   float64
	entryCost float64
	entryFee  float64
	entryBar  int     // index of the entry bar in times
	highClose float64 // highest close since entry, for the trailing stop

	times  []int64
	equity []float64
	trades []Trade

	held, unfilled int
	fees           float64
	firstClose     float64
	lastClose      float64
}

func (a *account) reset(c *costs, sym string, share float64) {
	*a = account{c: c, sym: sym, start: share, cash: share,
		times: a.times[:0], equity: a.equity[:0], trades: a.trades[:0]}
}

// step advances the account by one bar of its symbol (t in Unix
// nanoseconds, bars in time order) with the strategy's signal on that bar.
// Bars outside the window are ignored.
func (a *account) step(t int64, o, h, l, c float64, sig market.Side) {
	if t < a.c.start || t > a.c.end {
		return
	}
	n := len(a.times)
	if n == 0 {
		a.firstClose = c
	}
	entered := false
	switch a.pending {
	case market.Buy:
		if a.qty == 0 && a.buy(t, o, n) {
			entered = true
		} else {
			a.unfilled++
		}
	case market.Sell:
		if a.qty > 0 {
			a.sell(t, o*(1-a.c.slip), ExitSignal)
		} else {
			a.unfilled++
		}
	}
	a.pending = 0
	if a.qty > 0 && !entered && (a.c.stop > 0 || a.c.take > 0 || a.c.trail > 0) {
		a.checkExits(t, o, h, l)
	}
	if a.qty > 0 {
		a.held++
		a.highClose = max(a.highClose, c)
	}
	a.times = append(a.times, t)
	a.equity = append(a.equity, a.cash+a.qty*c)
	a.lastClose = c
	a.pending = sig
}

// buy spends the cash at the open of the bar; it reports false when whole
// units leave nothing to buy.
func (a *account) buy(t int64, open float64, bar int) bool {
	fill := open * (1 + a.c.slip)
	unit := fill * (1 + a.c.fee)
	qty := a.cash / unit
	cost := a.cash
	if a.c.whole {
		qty = math.Floor(qty)
		cost = qty * fill * (1 + a.c.fee)
	}
	if !(qty > 0) {
		return false
	}
	fee := qty * fill * a.c.fee
	a.qty, a.cash = qty, a.cash-cost
	if !a.c.whole {
		a.cash = 0
	}
	a.entryTime, a.entryPx, a.entryCost, a.entryFee, a.entryBar = t, fill, cost, fee, bar
	a.highClose = math.Inf(-1)
	a.fees += fee
	return true
}

// sell closes the whole position at fill.
func (a *account) sell(t int64, fill float64, why Exit) {
	notional := a.qty * fill
	fee := notional * a.c.fee
	proceeds := notional * (1 - a.c.fee)
	pnl := proceeds - a.entryCost
	a.trades = append(a.trades, Trade{
		Symbol: a.sym, EntryTime: time.Unix(0, a.entryTime).UTC(), EntryPrice: a.entryPx,
		ExitTime: time.Unix(0, t).UTC(), ExitPrice: fill, Qty: a.qty, PnL: pnl, Return: pnl / a.entryCost,
		Cost: a.entryCost, Fees: a.entryFee + fee, Exit: why,
	})
	a.cash += proceeds
	a.qty = 0
	a.fees += fee
}

// checkExits applies the stop-loss, take-profit and trailing stop on a bar
// after the entry bar: a gap through a level fills at the open; with both
// levels inside the bar the stop is assumed first.
func (a *account) checkExits(t int64, o, h, l float64) {
	stop, stopWhy := math.Inf(-1), ExitStopLoss
	if a.c.stop > 0 {
		stop = a.entryPx * (1 - a.c.stop)
	}
	if a.c.trail > 0 && a.highClose > math.Inf(-1) {
		if tr := a.highClose * (1 - a.c.trail); tr > stop {
			stop, stopWhy = tr, ExitTrailingStop
		}
	}
	take := math.Inf(1)
	if a.c.take > 0 {
		take = a.entryPx * (1 + a.c.take)
	}
	switch {
	case o <= stop:
		a.sell(t, o*(1-a.c.slip), stopWhy)
	case o >= take:
		a.sell(t, o*(1-a.c.slip), ExitTakeProfit)
	case l <= stop:
		a.sell(t, stop*(1-a.c.slip), stopWhy)
	case h >= take:
		a.sell(t, take*(1-a.c.slip), ExitTakeProfit)
	}
}

// finish ends the simulation: a signal still pending was on the last bar.
func (a *account) finish() {
	if a.pending != 0 {
		a.unfilled++
		a.pending = 0
	}
}

// position returns the open position marked at the last close, or nil.
func (a *account) position() *Position {
	if a.qty == 0 || len(a.times) == 0 {
		return nil
	}
	mark := a.qty * a.lastClose
	return &Position{
		EntryTime: time.Unix(0, a.entryTime).UTC(), EntryPrice: a.entryPx, Qty: a.qty, Cost: a.entryCost,
		MarkTime: time.Unix(0, a.times[len(a.times)-1]).UTC(), MarkPrice: a.lastClose,
		Unrealized: mark - a.entryCost, Return: (mark - a.entryCost) / a.entryCost,
	}
}
