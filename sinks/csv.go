package sinks

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
)

// CSV is a sink that writes the records of [JSONL] as CSV: a header row,
// then one row per record, the same columns in the same order:
//
//	symbol,time,close,ema,stochrsi_k,stochrsi_d   (EmitIndicators)
//	symbol,time,side,price,reason                 (EmitSignals)
//
// With indicators, the columns after close are the values of the first
// record's schema, by name (the default schema's when no record comes).
//
// Times and numbers are written as JSONL writes them; an undefined (or
// non-finite) value is an empty field. A field holding a comma, a double
// quote, a line break or surrounding spaces is quoted as RFC 4180 says. The
// header is written even when no record follows.
//
// The zero value writes signals to os.Stdout.
type CSV struct {
	// W receives the output (default os.Stdout); the sink does not close it.
	W io.Writer
	// Emit selects the records (default EmitSignals).
	Emit Emit
	// FlushInterval is as for [JSONL].
	FlushInterval time.Duration

	out    output
	header bool           // written
	schema *market.Schema // of the indicator columns
}

const (
	csvSignalsHeader = "symbol,time,side,price,reason\n"
)

// Write encodes the rows of items.
func (s *CSV) Write(_ context.Context, items []market.Event) error {
	if s.Emit != EmitSignals && s.Emit != EmitIndicators {
		return fmt.Errorf("sinks.CSV: unknown %v", s.Emit)
	}
	o := &s.out
	o.init(s.W, s.FlushInterval)
	if s.Emit == EmitIndicators && !s.header && len(items) > 0 {
		s.schema = items[0].Indicators.Schema
	}
	s.writeHeader()
	if s.Emit == EmitIndicators {
		for i := range items {
			e := &items[i]
			b := o.buf()
			b = appendCSVField(b, e.Symbol)
			b = append(b, ',')
			b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
			b = append(b, ',')
			b = appendNumber(b, e.Close, "")
			in := &e.Indicators
			for h := range max(s.schema.Len(), market.DefaultSchema.Len()) {
				b = append(b, ',')
				if v, ok := in.Get(market.Handle(h)); ok {
					b = appendNumber(b, v, "")
				}
			}
			b = append(b, '\n')
			o.write(b)
		}
	} else {
		for i := range items {
			sig := items[i].Signal
			if sig == nil {
				continue
			}
			symbol, t := signalKey(&items[i])
			b := o.buf()
			b = appendCSVField(b, symbol)
			b = append(b, ',')
			b = t.AppendFormat(b, time.RFC3339Nano)
			b = append(b, ',')
			b = append(b, sig.Side.String()...)
			b = append(b, ',')
			b = appendNumber(b, sig.Price, "")
			b = append(b, ',')
			b = appendCSVField(b, sig.Reason)
			b = append(b, '\n')
			o.write(b)
		}
	}
	if err := o.endWrite(); err != nil {
		return fmt.Errorf("sinks.CSV: %w", err)
	}
	return nil
}

func (s *CSV) writeHeader() {
	if s.header {
		return
	}
	s.header = true
	if s.Emit == EmitIndicators {
		b := append(s.out.buf(), "symbol,time,close"...)
		names := s.schema
		if names == nil {
			names = market.DefaultSchema
		}
		for i := range names.Len() {
			b = append(b, ',')
			b = append(b, names.Name(i)...)
		}
		s.out.write(append(b, '\n'))
	} else {
		s.out.write(append(s.out.buf(), csvSignalsHeader...))
	}
}

// Flush writes out what is buffered, with the header if nothing else was
// written.
func (s *CSV) Flush(context.Context) error {
	if s.Emit != EmitSignals && s.Emit != EmitIndicators {
		return fmt.Errorf("sinks.CSV: unknown %v", s.Emit)
	}
	s.out.init(s.W, s.FlushInterval)
	s.writeHeader()
	if err := s.out.flush(); err != nil {
		return fmt.Errorf("sinks.CSV: %w", err)
	}
	return nil
}

// appendCSVField appends s, quoted if a CSV reader could otherwise misread
// it.
func appendCSVField(b []byte, s string) []byte {
	if s == "" || !strings.ContainsAny(s, ",\"\r\n") && s[0] != ' ' && s[0] != '\t' &&
		s[len(s)-1] != ' ' && s[len(s)-1] != '\t' {
		return append(b, s...)
	}
	b = append(b, '"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		b = append(b, s[:i+1]...)
		b = append(b, '"')
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}
