package sinks

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tickflow/tickflow/market"
)

// Table is a sink that writes an aligned table for a person at a terminal:
// signals (the default) or indicators, one row per record, with a header
// line before the first row. It writes nothing else; summaries are the
// caller's.
//
//	SYMBOL     TIME                 SIDE        PRICE  REASON
//	AAPL       2024-01-02 15:10:00  buy        185.1   stochrsi crossed up ...
//
//	SYMBOL     TIME                        CLOSE           EMA  %K      %D
//	AAPL       2024-01-02 15:10:00        185.1      184.9377   12.50   8.31
//
// With indicators, the values after the default ones (the first record's
// schema) follow as columns headed by their names.
//
// Times are UTC to the second; values are rounded for reading (prices to 10
// significant digits, EMA and other values to 4 decimals, %K and %D to 2) and "-" while
// undefined. Columns are fixed-width, so that rows can be written as they
// come: the symbol column fits the first row's symbol (at least 10 wide),
// and a longer symbol later widens it from its row on, whatever the batches. Use [JSONL] or [CSV] for exact values.
//
// The zero value writes signals to os.Stdout.
type Table struct {
	// W receives the output (default os.Stdout); the sink does not close it.
	W io.Writer
	// Emit selects the records (default EmitSignals).
	Emit Emit
	// FlushInterval is as for [JSONL].
	FlushInterval time.Duration

	out    output
	header bool
	width  int // of the symbol column
	// extra are the columns of the values after the default ones: their
	// names and widths, from the first record's schema.
	extra []tableColumn
}

type tableColumn struct {
	name  string
	width int
}

const (
	tableTime      = "2006-01-02 15:04:05"
	tableSignals   = "TIME                 SIDE        PRICE  REASON\n"
	tableIndicator = "TIME                        CLOSE           EMA      %K      %D\n"
)

// Write formats the rows of items.
func (s *Table) Write(_ context.Context, items []market.Event) error {
	if s.Emit != EmitSignals && s.Emit != EmitIndicators {
		return fmt.Errorf("sinks.Table: unknown %v", s.Emit)
	}
	o := &s.out
	o.init(s.W, s.FlushInterval)
	for i := range items {
		e := &items[i]
		if s.Emit == EmitSignals && e.Signal == nil {
			continue
		}
		if !s.header {
			s.header = true
			s.width = max(10, len(e.Symbol)+1)
			b := pad(o.buf(), "SYMBOL", s.width)
			if s.Emit == EmitSignals {
				o.write(append(b, tableSignals...))
			} else {
				b = append(b, tableIndicator[:len(tableIndicator)-1]...)
				if sc := e.Indicators.Schema; sc != nil {
					for i := market.DefaultSchema.Len(); i < sc.Len(); i++ {
						c := tableColumn{name: sc.Name(i), width: max(14, len(sc.Name(i))+2)}
						s.extra = append(s.extra, c)
						start := len(b)
						b = alignRight(append(b, c.name...), start, c.width)
					}
				}
				o.write(append(b, '\n'))
			}
		}
		s.width = max(s.width, len(e.Symbol)+1)
		b := o.buf()
		if s.Emit == EmitSignals {
			sig := e.Signal
			symbol, t := signalKey(e)
			b = pad(b, symbol, s.width)
			b = t.AppendFormat(b, tableTime)
			b = append(b, "  "...)
			b = pad(b, sig.Side.String(), 4)
			n := len(b)
			b = alignRight(readable(b, sig.Price), n, 12)
			b = append(b, "  "...)
			b = appendOneLine(b, sig.Reason)
		} else {
			ind := &e.Indicators
			b = pad(b, e.Symbol, s.width)
			b = e.Time.UTC().AppendFormat(b, tableTime)
			n := len(b)
			b = alignRight(readable(b, e.Close), n, 14)
			n = len(b)
			v, ok := ind.Get(market.DefaultEMA)
			b = alignRight(fixed(b, ok, v, 4), n, 14)
			n = len(b)
			v, ok = ind.Get(market.DefaultStochK)
			b = alignRight(fixed(b, ok, v, 2), n, 8)
			n = len(b)
			v, ok = ind.Get(market.DefaultStochD)
			b = alignRight(fixed(b, ok, v, 2), n, 8)
			for i, c := range s.extra {
				n = len(b)
				v, ok = ind.Get(market.Handle(market.DefaultSchema.Len() + i))
				b = alignRight(fixed(b, ok, v, 4), n, c.width)
			}
		}
		b = append(b, '\n')
		o.write(b)
	}
	if err := o.endWrite(); err != nil {
		return fmt.Errorf("sinks.Table: %w", err)
	}
	return nil
}

// Flush writes out what is buffered.
func (s *Table) Flush(context.Context) error {
	if err := s.out.flush(); err != nil {
		return fmt.Errorf("sinks.Table: %w", err)
	}
	return nil
}

// pad appends s left-aligned in width columns, and at least one space.
func pad(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, ' ')
}

// alignRight right-aligns b[start:] in width columns, with at least one
// space before it, by moving it right and filling the front with spaces.
func alignRight(b []byte, start, width int) []byte {
	n := len(b) - start
	fill := max(width-n, 1)
	b = append(b, make([]byte, fill)...) // no allocation when b has room
	copy(b[start+fill:], b[start:start+n])
	for i := start; i < start+fill; i++ {
		b[i] = ' '
	}
	return b
}

// appendOneLine appends s with its control characters escaped as Go
// would (\n, \r, \t, \x00 ...), so a strategy's reason cannot break a row.
func appendOneLine(b []byte, s string) []byte {
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b = append(b, q[1:len(q)-1]...)
			continue
		}
		b = utf8.AppendRune(b, r)
	}
	return b
}

// readable appends a price to 10 significant digits, enough for any market
// and short enough to keep the columns: exact values are for JSONL and CSV.
func readable(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, '-')
	}
	return strconv.AppendFloat(b, v, 'g', 10, 64)
}

func fixed(b []byte, ok bool, v float64, decimals int) []byte {
	if !ok {
		return append(b, '-')
	}
	return strconv.AppendFloat(b, v, 'f', decimals, 64)
}
