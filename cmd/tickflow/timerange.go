package main

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// dateRule is how every --start and --end reads its value.
const dateRule = "a date (2024-01-05) means the whole day (UTC unless --tz); a timestamp (2024-01-05T14:30:00Z) is exact"

// tzFlag names the zone of dates (and of timestamps without an offset).
func tzFlag() cli.Flag {
	return &cli.StringFlag{Name: "tz", Value: "UTC", Usage: "time `ZONE` of --start and --end dates, e.g. America/New_York"}
}

// timeRange is the span of --start and --end: [Start, End), a zero bound
// unbounded. Every command reads its flags with parseRange, so a date
// means the same everywhere.
type timeRange struct{ Start, End time.Time }

// Last is the last instant of the range, for APIs whose end is inclusive
// (zero when unbounded).
func (r timeRange) Last() time.Time {
	if r.End.IsZero() {
		return time.Time{}
	}
	return r.End.Add(-time.Nanosecond)
}

// parseRange reads --start, --end and --tz. A date covers its whole day in
// the --tz zone: --start 2024-01-05 begins at its midnight, --end
// 2024-01-05 includes it to the next midnight. A timestamp is exact and
// --end includes it. A timestamp without an offset is in the --tz zone.
func parseRange(c *cli.Context) (timeRange, error) {
	loc := time.UTC
	if tz := c.String("tz"); tz != "" && tz != "UTC" {
		var err error
		if loc, err = time.LoadLocation(tz); err != nil {
			return timeRange{}, usageError("--tz: %q is not a time zone (like UTC or America/New_York)", tz)
		}
	}
	start, err := parseBound("start", c.String("start"), loc, false)
	if err != nil {
		return timeRange{}, err
	}
	end, err := parseBound("end", c.String("end"), loc, true)
	if err != nil {
		return timeRange{}, err
	}
	if !start.IsZero() && !end.IsZero() && !end.After(start) {
		return timeRange{}, usageError("--end %s is before --start %s: the range is empty", c.String("end"), c.String("start"))
	}
	return timeRange{Start: start, End: end}, nil
}

// parseBound reads one bound; for an end it returns the exclusive end: the
// next midnight after a date, the next nanosecond after a timestamp.
func parseBound(flag, s string, loc *time.Location, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		if end {
			t = t.Add(time.Nanosecond)
		}
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			if end {
				t = t.Add(time.Nanosecond)
			}
			return t.UTC(), nil
		}
	}
	if d, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if end {
			d = d.AddDate(0, 0, 1) // the whole day; AddDate keeps midnight across DST changes
		}
		return d.UTC(), nil
	}
	return time.Time{}, usageError("--%s: %q is neither a date (2024-01-05) nor a timestamp (2024-01-05T14:30:00Z)", flag, s)
}

// warmupFlag is --warmup of run: how much history before --start the
// window's indicators are computed from.
func warmupFlag() cli.Flag {
	return &cli.IntFlag{Name: "warmup", Usage: fmt.Sprintf("with --start: compute the window's indicators from only the last `N` bars per symbol before --start, 1 to %d; "+
		"EMA-based values then differ slightly, see README", maxWarmupBars),
		DefaultText: fmt.Sprintf("all the history before --start; with --source alpaca the last %d bars", alpacaWarmupBars)}
}

// alpacaWarmupBars is alpaca.DefaultWarmupBars, named here so that the
// default build's help needs no Alpaca package (a full-build test checks
// that they agree), and maxWarmupBars bounds every --warmup.
const (
	alpacaWarmupBars = 500
	maxWarmupBars    = 10_000
)

// lookback is how much history before --start a source reads, so that a
// window's indicators are computed as over all history. run and backtest
// read it (they write or trade only the window); ingest publishes the range
// alone (the zero lookback).
type lookback struct {
	on   bool // read history before --start
	bars int  // at most this many bars per symbol before --start; 0: all
}

// parseLookback reads --warmup for run and backtest.
func parseLookback(c *cli.Context) (lookback, error) {
	lb := lookback{on: true}
	if !c.IsSet("warmup") {
		return lb, nil
	}
	if lb.bars = c.Int("warmup"); lb.bars < 1 || lb.bars > maxWarmupBars {
		return lb, usageError("--warmup: must be from 1 to %d bars, got %d", maxWarmupBars, lb.bars)
	}
	if c.String("start") == "" {
		return lb, usageError("--warmup %d counts bars before --start: set --start too", lb.bars)
	}
	return lb, nil
}

// trimmed is src keeping only lb.bars bars per symbol before start, for a
// source read whole anyway (CSV, synthetic data).
func (lb lookback) trimmed(src pipeline.Source[market.Event], start time.Time) pipeline.Source[market.Event] {
	if lb.bars == 0 || start.IsZero() {
		return src
	}
	return &sources.Lookback{Source: src, Start: start, Bars: lb.bars}
}

// String is the range as [start, end), in UTC, "…" for an unbounded side.
func (r timeRange) String() string {
	bound := func(t time.Time) string {
		if t.IsZero() {
			return "…"
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	return "[" + bound(r.Start) + ", " + bound(r.End) + ")"
}

// windowStats finds the stage of tickflow.Config's window in a pipeline's
// stats: In counts the bars it was given, Out those in the window.
func windowStats(stats []pipeline.StageStats) (pipeline.StageStats, bool) {
	for _, s := range stats {
		if s.Name == "window" {
			return s, true
		}
	}
	return pipeline.StageStats{}, false
}
