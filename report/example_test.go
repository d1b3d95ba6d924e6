package report_test

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/report"
)

// A backtest engine fills report.Data and writes one HTML file.
func ExampleWrite() {
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	s := report.Symbol{Name: "SPY"}
	for i, c := range []float64{510.2, 512.8, 511.1, 515.6} {
		s.Bars = append(s.Bars, report.Bar{Time: t0.AddDate(0, 0, i), Open: c - 1, High: c + 2, Low: c - 2, Close: c})
	}
	s.Overlays = []report.Series{{Name: "EMA(2)", Values: []float64{math.NaN(), 511.5, 511.3, 514.2}}}
	s.Markers = []report.Marker{
		{Time: t0.AddDate(0, 0, 1), Price: 512.8, Side: market.Buy, Label: "K crossed above D"},
		{Time: t0.AddDate(0, 0, 3), Price: 515.6, Side: market.Sell, Label: "K crossed below D"},
	}
	s.Metrics = []report.Metric{{Name: "total return", Value: 0.0055, Unit: "%"}, {Name: "sharpe", Value: math.NaN()}}

	var page bytes.Buffer
	if err := report.Write(&page, report.Data{Title: "SPY daily", Symbols: []report.Symbol{s}}); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(strings.Contains(page.String(), "<title>SPY daily</title>"))
	fmt.Println(strings.Contains(page.String(), "https://"))

	s.Bars[2].Time = t0 // out of order
	err := report.Write(&page, report.Data{Symbols: []report.Symbol{s}})
	fmt.Println(err)
	// Output:
	// true
	// false
	// report: symbol "SPY": bar 2 (2024-03-01T00:00:00Z): time not after bar 1's 2024-03-02T00:00:00Z: invalid report data
}
