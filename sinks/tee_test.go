package sinks

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// logSink records the calls it gets.
type logSink struct {
	name string
	log  *[]string
	err  error
}

func (s logSink) Write(_ context.Context, items []market.Event) error {
	*s.log = append(*s.log, s.name+".Write")
	return s.err
}

type flushCloseSink struct{ logSink }

func (s flushCloseSink) Flush(context.Context) error {
	*s.log = append(*s.log, s.name+".Flush")
	return s.err
}

func (s flushCloseSink) Close() error {
	*s.log = append(*s.log, s.name+".Close")
	return s.err
}

func TestTee(t *testing.T) {
	var log []string
	a := logSink{"a", &log, nil}
	b := flushCloseSink{logSink{"b", &log, errors.New("b broke")}}
	c := flushCloseSink{logSink{"c", &log, errors.New("c broke")}}
	d := &Discard{}
	tee := Tee(a, b, c, d)
	ctx := context.Background()
	events := sampleEvents()
	err := tee.Write(ctx, events)
	if err == nil || err.Error() != "b broke\nc broke" {
		t.Errorf("Write = %v, want both errors", err)
	}
	if err := tee.Flush(ctx); err == nil || err.Error() != "b broke\nc broke" {
		t.Errorf("Flush = %v, want both errors", err)
	}
	if err := tee.Close(); err == nil || !errors.Is(err, c.err) {
		t.Errorf("Close = %v, want both errors", err)
	}
	want := "a.Write b.Write c.Write b.Flush c.Flush b.Close c.Close"
	if got := join(log); got != want {
		t.Errorf("calls %s, want %s", got, want)
	}
	if d.Items() != int64(len(events)) || d.Signals() != 2 {
		t.Errorf("Discard counted %d items, %d signals; want %d, 2", d.Items(), d.Signals(), len(events))
	}
	if err := Tee().Write(ctx, events); err != nil {
		t.Errorf("empty Tee: %v", err)
	}
}

func join(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out
}

// Two text sinks behind a Tee write what each writes alone.
func TestTeeText(t *testing.T) {
	var j1, c1, j2, c2 bytes.Buffer
	events := sampleEvents()
	writeAll(t, Tee(&JSONL{W: &j1, Emit: EmitIndicators}, &CSV{W: &c1}), events, 2)
	writeAll(t, &JSONL{W: &j2, Emit: EmitIndicators}, events, 2)
	writeAll(t, &CSV{W: &c2}, events, 2)
	if j1.String() != j2.String() || c1.String() != c2.String() {
		t.Errorf("Tee output differs from the sinks' own")
	}
	var _ pipeline.Sink[market.Event] = Tee()
}

func BenchmarkDiscard(b *testing.B) {
	benchSink(b, struct {
		*Discard
		pipeline.Flusher
	}{&Discard{}, &JSONL{W: discardWriter{}}})
}
