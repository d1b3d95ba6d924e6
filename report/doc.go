// Package report writes a backtest as one self-contained HTML file: the
// candles of each symbol with the indicators the strategy read, its
// oscillators and their thresholds, the fills as buy and sell markers, the
// equity and drawdown curves beside buy-and-hold, a monthly-returns heatmap,
// the metrics and trades, and for a parameter sweep a heatmap of the ranked
// metric over two parameters with the table of combinations.
//
//	backtest engine ──fills──▶ report.Data ──Write──▶ report.html
//	                                         (data, styles, chart.js inline;
//	                                          a CSP that forbids every request)
//
// The file works offline: nothing is fetched, and its Content-Security-Policy
// would refuse it if anything tried. Series travel in a compact columnar
// form (delta-coded varints: a regular time step costs 1 character, a price
// of the recorded data in ../shared/data 2.9 to 3.5), and the charts
// aggregate the visible bars per pixel column, so zoom and pan cost one
// pass over the visible bars at any size; every marker in view is drawn.
//
// Measured on a shared 2-vCPU machine (BenchmarkWrite and
// BenchmarkReportInChromium, load average 13 to 15): a million one-minute
// bars with one overlay, one oscillator, the three account curves and
// 10,309 fills make a 17.8 MB file that Write produces in 0.3 to 0.9 s;
// Chromium shows it drawn and listening 1.3 to 1.9 s after navigation (its
// main thread spending 0.85 to 0.95 s of CPU), and a frame over all million
// bars costs about 130 ms of CPU (about 215 ms of wall time).
//
// The chart renderer, [ChartJS], is one dependency-free JavaScript file
// that the live dashboard can serve too; it defines window.TickflowChart.
//
// Prices with at most 10 decimals are stored exactly; other values (an
// equity curve, an indicator) keep 7 significant digits of their series'
// largest magnitude, far finer than a chart can show.
package report
