package sinks

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/tickflow/tickflow/market"
)

// Emit selects the records a sink writes.
type Emit uint8

const (
	// EmitSignals writes one record per event whose Signal is set:
	// symbol, time, side, price, reason.
	EmitSignals Emit = iota
	// EmitIndicators writes one record per event: symbol, time, close, ema,
	// stochrsi_k, stochrsi_d; an indicator not yet defined is null (empty
	// in CSV, "-" in a table).
	EmitIndicators
)

// String returns "signals" or "indicators".
func (e Emit) String() string {
	switch e {
	case EmitSignals:
		return "signals"
	case EmitIndicators:
		return "indicators"
	}
	return fmt.Sprintf("Emit(%d)", uint8(e))
}

// ParseEmit is the inverse of [Emit.String].
func ParseEmit(s string) (Emit, error) {
	switch s {
	case "signals":
		return EmitSignals, nil
	case "indicators":
		return EmitIndicators, nil
	}
	return 0, fmt.Errorf("sinks: emit %q is neither signals nor indicators", s)
}

// JSONL is a sink that writes one JSON object per line. With EmitIndicators
// it writes one object per event, keys in this order:
//
//	{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","close":185.64,"ema":185.2,"stochrsi_k":null,"stochrsi_d":null}
//
// then the other values of the record's schema by name; a value is null
// while it is not defined. With EmitSignals (the default) it writes one
// object per event whose Signal is set:
//
//	{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","side":"buy","price":185.64,"reason":"..."}
//
// time is in UTC as time.RFC3339Nano formats it. Numbers are written as
// encoding/json writes a float64: the shortest decimal that reads back as the
// same float64, in exponent form only below 1e-6 or from 1e21; a NaN or
// infinite value, which JSON cannot hold, is written as null. Strings are
// escaped as encoding/json escapes them (without HTML escaping), so the
// output is byte for byte what encoding/json would write. The records are
// [market.AppendEventJSON] and [market.AppendSignalJSON] without
// indicators: the encoder every JSON form of tickflow shares.
//
// The zero value writes signals to os.Stdout.
type JSONL struct {
	// W receives the output (default os.Stdout); the sink does not close it.
	W io.Writer
	// Emit selects the records (default EmitSignals).
	Emit Emit
	// FlushInterval bounds how long records wait in the buffer while
	// Writes keep coming: a Write that ends later than this after the last
	// write-out writes the buffer out (default DefaultFlushInterval; a
	// negative value writes out only when the buffer is full and on Flush).
	FlushInterval time.Duration

	out output
}

// Write encodes the records of items.
func (s *JSONL) Write(_ context.Context, items []market.Event) error {
	o := &s.out
	o.init(s.W, s.FlushInterval)
	switch s.Emit {
	case EmitIndicators:
		for i := range items {
			b := market.AppendEventJSON(o.buf(), &items[i])
			o.write(append(b, '\n'))
		}
	case EmitSignals:
		for i := range items {
			if items[i].Signal == nil {
				continue
			}
			sig := *items[i].Signal
			sig.Symbol, sig.Time = signalKey(&items[i])
			b := market.AppendSignalJSON(o.buf(), &sig, false)
			o.write(append(b, '\n'))
		}
	default:
		return fmt.Errorf("sinks.JSONL: unknown %v", s.Emit)
	}
	if err := o.endWrite(); err != nil {
		return fmt.Errorf("sinks.JSONL: %w", err)
	}
	return nil
}

// Flush writes out what is buffered.
func (s *JSONL) Flush(context.Context) error {
	if err := s.out.flush(); err != nil {
		return fmt.Errorf("sinks.JSONL: %w", err)
	}
	return nil
}

// signalKey returns a signal's symbol and time in UTC, taken from its event
// when the strategy left them unset.
func signalKey(e *market.Event) (string, time.Time) {
	sig := e.Signal
	symbol, t := sig.Symbol, sig.Time
	if symbol == "" {
		symbol = e.Symbol
	}
	if t.IsZero() {
		t = e.Time
	}
	return symbol, t.UTC()
}
