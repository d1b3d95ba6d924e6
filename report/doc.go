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
// form (delta-coded varints, 2 to 3 characters per price on recorded data),
// so a million bars make a file of tens of megabytes that a browser opens
// in about a second; the charts aggregate visible bars per pixel column, so
// zoom and pan stay fast at any size, and every marker in view is drawn.
//
// The chart renderer, [ChartJS], is one dependency-free JavaScript file
// that the live dashboard can serve too; it defines window.TickflowChart.
//
// Prices with at most 10 decimals are stored exactly; other values (an
// equity curve, an indicator) keep 7 significant digits of their series'
// largest magnitude, far finer than a chart can show.
package report
