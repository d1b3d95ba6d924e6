package main

import (
	"time"

	"github.com/urfave/cli/v2"
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
