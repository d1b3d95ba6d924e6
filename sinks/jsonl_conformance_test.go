package sinks

import (
	"bytes"
	"testing"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

// The sinks of this file set pass the pipeline's conformance checks, and
// their output is what encoding/json (or their golden output) says, also
// when the batch they were given is overwritten after Write.
func TestBasicSinksConformance(t *testing.T) {
	events := append(append(sampleEvents(), benchEvents()...), sampleEvents()...)
	wantJSONL := func(emit Emit) func(t *testing.T, s pipeline.Sink[market.Event]) {
		return func(t *testing.T, s pipeline.Sink[market.Event]) {
			got := s.(*JSONL).W.(*bytes.Buffer).String()
			if want := encodeStd(t, emit, events); got != want {
				t.Errorf("output:\n%s\nwant:\n%s", got, want)
			}
		}
	}
	for _, emit := range []Emit{EmitIndicators, EmitSignals} {
		t.Run("JSONL "+emit.String(), func(t *testing.T) {
			pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] {
				return &JSONL{W: &bytes.Buffer{}, Emit: emit}
			}, events, wantJSONL(emit))
		})
	}
	text := func(name string, newSink func(w *bytes.Buffer) pipeline.Sink[market.Event]) {
		var want bytes.Buffer
		writeAll(t, newSink(&want).(interface {
			pipeline.Sink[market.Event]
			pipeline.Flusher
		}), events, len(events))
		bufs := map[pipeline.Sink[market.Event]]*bytes.Buffer{}
		t.Run(name, func(t *testing.T) {
			pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] {
				b := &bytes.Buffer{}
				s := newSink(b)
				bufs[s] = b
				return s
			}, events, func(t *testing.T, s pipeline.Sink[market.Event]) {
				if got := bufs[s].String(); got != want.String() {
					t.Errorf("output:\n%s\nwant:\n%s", got, want.String())
				}
			})
		})
	}
	text("CSV", func(w *bytes.Buffer) pipeline.Sink[market.Event] { return &CSV{W: w, Emit: EmitIndicators} })
	text("Table", func(w *bytes.Buffer) pipeline.Sink[market.Event] { return &Table{W: w, Emit: EmitIndicators} })
	text("Tee", func(w *bytes.Buffer) pipeline.Sink[market.Event] {
		// Two sinks on one writer: only Flush may write out, or their
		// output would interleave by timing.
		return Tee(&JSONL{W: w, FlushInterval: -1}, &CSV{W: w, FlushInterval: -1}, &Discard{})
	})
	t.Run("Discard", func(t *testing.T) {
		pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] { return &Discard{} }, events,
			func(t *testing.T, s pipeline.Sink[market.Event]) {
				if d := s.(*Discard); d.Items() != int64(len(events)) || d.Signals() != 5 {
					t.Errorf("counted %d items, %d signals; want %d, 5", d.Items(), d.Signals(), len(events))
				}
			})
	})
}
