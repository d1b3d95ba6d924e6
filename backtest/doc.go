// Package backtest answers "what would these signals have earned": a
// simulated broker that fills the signals of tickflow's own pipeline (the
// same indicators and strategies as `tickflow run` and `tickflow stream`, so
// live and backtest cannot drift), exact metrics, parameter sweeps on all
// cores, walk-forward analysis and bootstrap confidence intervals.
//
//	source ──▶ indicators+strategy ──▶ Recorder ──▶ Simulate ──▶ Result
//	                (tickflow.New)        (bars + signals, in columns)
//
// [Run] runs a source through the pipeline and simulates it; [Simulate]
// fills signals already recorded; [Broker] is the same simulation as a live
// paper wallet (a pipeline sink with a [Broker.Snapshot]); [Sweep] and
// [WalkForward] run many parameter combinations over bars from [Load].
//
// # The simulation
//
//   - --cash C (default 10,000) is split equally across the symbols; each symbol trades its share on its
//     own, long only, one position at a time; the portfolio is their sum.
//   - A signal on bar t fills at the open of bar t+1 of that symbol: buy at open*(1+slippage), sell at
//     open*(1-slippage); fee = fee * notional on each side (--fee, default 0.001; --slippage,
//     default 0.0005). A buy spends all of the symbol's cash: qty = cash / (fill*(1+fee)) (fractional;
//     --whole-units floors it). A sell closes the whole position: cash += qty*fill*(1-fee). A buy while
//     long, a sell while flat, and a signal on a symbol's last bar are not filled (counted as unfilled).
//   - Equity at bar t is cash + qty*close[t]. The portfolio equity at a time is the sum of each symbol's
//     latest equity (its starting share before its first bar). A position still open at the end is marked
//     at the last close and reported as open, not as a closed trade.
//   - A trade: entry time and price (the fill), exit time and price, qty, pnl = sell proceeds minus buy
//     cost with both fees, return = pnl / buy cost.
//   - Metrics, per symbol and for the portfolio, under these JSON keys: final_equity; total_return
//     (E_end/E_0 - 1); buy_hold_return (close_last/close_first - 1; portfolio: the mean over symbols);
//     cagr ((E_end/E_0)^(1/years) - 1, years = span/365.25 days); max_drawdown (max over t of
//     1 - E_t/max(E_s, s<=t), a fraction); max_drawdown_duration (longest time below a previous peak);
//     volatility, sharpe and sortino on per-bar returns r_t = E_t/E_(t-1) - 1 of the equity series,
//     annualised by P periods per year, where P = (bars - 1) / years unless --periods-per-year is given
//     (this follows the data's own sessions: ~252 for daily equities, ~98,000 for 1-minute US sessions,
//     8,766 for 1h crypto): volatility = stdev(r, ddof=1)*sqrt(P), sharpe = mean(r)/stdev(r, ddof=1)
//     *sqrt(P), sortino = mean(r)/sqrt(mean(min(r,0)^2))*sqrt(P); calmar = cagr/max_drawdown;
//     trades (closed), win_rate (pnl > 0 / closed), profit_factor (sum of winning pnl / |sum of
//     losing pnl|, null without losses), avg_trade_return, best_trade_return, worst_trade_return,
//     avg_trade_duration, max_consecutive_losses, expectancy, sqn, exposure (fraction of bars
//     held at the close), fees, unfilled. A metric that is undefined (no trades, zero variance) is
//     null, never NaN or a made-up number.
//
// # Exits
//
// --stop-loss F, --take-profit F, --trailing-stop F (fractions of the entry, or of the highest
// close since entry for the trailing stop), off by default. Checked on each bar after the entry bar
// against its low and high: if the open is already beyond a level, fill at the open; else if both the
// stop and the take-profit lie inside the bar's range, assume the stop came first (pessimistic); fill at
// the level, slippage and fee as above.
//
// Precisely: the entry is the buy's fill price; the stop level is
// entry*(1-F), the take-profit level entry*(1+F), the trailing level
// H*(1-F) with H the highest close from the entry bar to the bar before the
// one checked; with both stops set the higher level is the stop. A bar
// whose open is at or below the stop sells at the open, at or above the
// take-profit sells at the open; otherwise a low at or below the stop sells
// at the stop, else a high at or above the take-profit sells at the
// take-profit. The strategy is not told: it may later send a sell that,
// the position being closed, counts as unfilled.
//
// # Details the rule leaves open
//
//   - Durations (max_drawdown_duration, avg_trade_duration) are in seconds.
//     A drawdown lasts from its peak to the first bar back at or above it
//     (or to the last bar).
//   - avg_trade_return is the mean of the trades' return; expectancy is the
//     mean pnl per closed trade, in cash; sqn is sqrt(trades) *
//     mean(pnl)/stdev(pnl, ddof=1); max_consecutive_losses counts trades
//     with pnl <= 0. Portfolio trade metrics pool every symbol's trades, in
//     symbol order; portfolio exposure is the held bars over all bars of
//     all symbols.
//   - sharpe, sortino and calmar are null when their denominator is zero;
//     volatility and sharpe need at least two returns, cagr and the
//     annualised metrics a span longer than zero (or --periods-per-year).
//   - With whole units, a buy that cannot afford one unit is unfilled.
//   - The window (Config.Start, End): bars before it warm the indicators
//     and the strategy but are not traded, nor are their signals; bars
//     after it are ignored. Only symbols with a bar in the window share the
//     cash; a window without bars is an error (ErrUsage).
//
// # Sweeps and walk-forward
//
// [Sweep] backtests every combination of [Param] values (see [ParseParam]:
// "14", "20,50,100", "5:50" or "10:30:5", both ends inclusive), keeps those
// a --where filter accepts ([ParseWhere]: names, numbers, + - * /,
// comparisons, && || ! and parentheses), and ranks them by one metric key
// (SweepConfig.Rank, default sharpe; undefined values rank last). Each row
// holds the swept parameters and the portfolio metrics, under the same keys
// as a single backtest; the best row equals [Run] with its parameters.
// Combinations a strategy cannot run (fast >= slow, oversold >= overbought)
// are skipped and counted; none left is an ErrUsage error.
//
// Strategies by name: [StrategyStochRSIEMA] (parameters ema, rsi, stoch, d,
// smoothk, oversold, overbought; unlisted ones come from Config.Signals)
// and [StrategyEMACross] (fast, slow; defaults 12 and 26), whose rule is
// given at [EMACross]: BUY on the bar where EMA(fast) > EMA(slow) after
// EMA(fast) <= EMA(slow) on the previous bar, both defined; SELL on the
// reverse cross. Combinations that share indicator periods share the
// indicators: each distinct StochRSI and EMA is computed once per symbol. An
// EMA-cross sweep of one symbol with fractional units and no stops walks
// the series once per pair over precomputed EMAs, block by block, with the
// same fills; its metrics agree with the general engine to 1e-9 (tested).
//
// [WalkForward] cuts the window into K+1 consecutive folds of equal numbers
// of distinct bar times. For fold i (1..K) the best combination on fold i-1
// trades fold i; indicators and strategy are warmed on every bar before the
// fold, and no bar of a fold is read to choose its parameters (tested by
// rewriting the last fold). Each fold starts flat with the previous fold's
// final equity; the report joins the out-of-sample equity and gives each
// fold's winner with its in-sample and out-of-sample metrics.
//
// # Reports
//
// [Result.WriteReport], [SweepResult.WriteReport] and
// [WalkForwardResult.WriteReport] write one self-contained HTML file (see
// package report): each symbol's candles with the strategy's indicators
// (recomputed from the bars, warm-up included, as the run read them), its
// fills as markers, equity and drawdown beside buy-and-hold, monthly
// returns, metrics and trades; the portfolio; a sweep's heatmap and table;
// a walk-forward's folds. The candles need the bars, which a Result keeps
// only with Config.KeepBars.
//
// [Result.Bootstrap] gives seeded 95 % intervals for total_return and
// sharpe by resampling the closed trades (see its documentation).
//
// Errors in what the caller asked for (an unknown parameter or metric, an
// empty range, a filter no combination passes, a window without bars) wrap
// [ErrUsage] and read as one line naming the culprit.
package backtest
