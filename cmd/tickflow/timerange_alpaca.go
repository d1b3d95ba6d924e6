//go:build full

package main

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/alpaca"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// alpacaWindow is src widened by lb when it is Alpaca's history, which has
// no cheap "all history" (see alpacaLookback).
func (lb lookback) alpacaWindow(src pipeline.Source[market.Event]) (pipeline.Source[market.Event], bool) {
	bars, ok := src.(*alpaca.Bars)
	if !ok {
		return src, false
	}
	return lb.alpacaLookback(bars), true
}

// alpacaLookback widens Alpaca's request to history before its start: far
// enough back to hold lb.bars bars (default alpaca.DefaultWarmupBars: Alpaca
// has no cheap "all history") in stock trading hours, then trimmed to that
// many per symbol. A crypto pair, trading around the clock, fetches more than
// it keeps; a sparse feed (IEX minutes) may find fewer.
func (lb lookback) alpacaLookback(src *alpaca.Bars) pipeline.Source[market.Event] {
	n := lb.bars
	if n == 0 {
		n = alpaca.DefaultWarmupBars
	}
	start := src.Start
	src.Start = start.Add(-alpacaSpan(n, src.TimeFrame))
	return &sources.Lookback{Source: src, Start: start, Bars: n}
}

// alpacaSpan is a calendar span that holds n bars of Alpaca's timeframe tf
// (1Min, 5Min, 1Hour, 1Day, 1Week, 1Month, ...) of a stock: 6.5 trading
// hours a day, about 252 trading days in 365, plus a week for holidays.
func alpacaSpan(n int, tf string) time.Duration {
	const day = 24 * time.Hour
	i := 0
	for i < len(tf) && tf[i] >= '0' && tf[i] <= '9' {
		i++
	}
	k, err := strconv.Atoi(tf[:i])
	if err != nil || k < 1 {
		k = 1
	}
	tradingDays := func(days float64) time.Duration {
		return time.Duration(math.Ceil(days*1.5))*day + 7*day
	}
	switch strings.ToLower(tf[i:]) {
	case "min", "t":
		perDay := max(1, int((390*time.Minute)/(time.Duration(k)*time.Minute)))
		return tradingDays(math.Ceil(float64(n) / float64(perDay)))
	case "hour", "h":
		perDay := max(1, 6/k) // 6.5 hours make 6 whole bars of an hour
		return tradingDays(math.Ceil(float64(n) / float64(perDay)))
	case "week", "w":
		return time.Duration(n*k)*7*day + 14*day
	case "month", "m":
		return time.Duration(n*k)*31*day + 31*day
	}
	return tradingDays(float64(n * k)) // days, and what Alpaca will refuse anyway
}
