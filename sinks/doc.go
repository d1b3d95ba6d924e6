// Package sinks holds the pipeline sinks that write market events out. The
// basic ones implement [pipeline.Sink] of [market.Event]:
//
//   - [JSONL] writes JSON lines: the output contract other programs read.
//   - [CSV] writes the same records as CSV with a header row.
//   - [Table] writes an aligned table for a person at a terminal.
//   - [Discard] only counts, for benchmarks.
//   - [Tee] hands every batch to several sinks in turn.
//
// [Async] runs a slow sink (an order API, a webhook) on its own goroutine
// behind a bounded, counted queue, so that it never slows the pipeline.
//
// They depend on nothing but the standard library and the pipeline, so a
// program that imports sinks links no network stack: the sinks of
// integrations live with them, package store (BarSink, Journal), package
// alpaca (Orders), package nats (SignalSink) and package webhook (Sink).
//
// Each writing sink either writes one record per signal ([EmitSignals], the
// default) or one record per event with its close and indicator values
// ([EmitIndicators]). Records are encoded by hand into a buffer, without
// reflection, because they are written per bar:
//
//	{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","close":185.64,"ema":null,"stochrsi_k":null,"stochrsi_d":null}
//	{"symbol":"AAPL","time":"2024-01-02T15:10:00Z","side":"buy","price":185.1,"reason":"..."}
//
// Output is buffered and written to the io.Writer when the buffer fills, at
// the end of a Write once FlushInterval has passed since the last write-out
// (so a live feed's records do not wait for the end of the run), and on
// Flush. No sink keeps the batch it is given after Write returns. A sink is
// called from one goroutine, as the pipeline does; only the counters of
// [Discard] may be read from others.
package sinks

import (
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

var (
	_ pipeline.Sink[market.Event] = (*JSONL)(nil)
	_ pipeline.Sink[market.Event] = (*CSV)(nil)
	_ pipeline.Sink[market.Event] = (*Table)(nil)
	_ pipeline.Sink[market.Event] = (*Discard)(nil)
	_ pipeline.Sink[market.Event] = (*TeeSink)(nil)
	_ pipeline.Flusher            = (*JSONL)(nil)
	_ pipeline.Flusher            = (*CSV)(nil)
	_ pipeline.Flusher            = (*Table)(nil)
	_ pipeline.Flusher            = (*TeeSink)(nil)
	_ pipeline.Closer             = (*TeeSink)(nil)
)
