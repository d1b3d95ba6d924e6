package pipelinetest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

type reading struct {
	Sensor string
	Value  int
}

func sensor(r reading) string { return r.Sensor }

// counter emits n readings for three sensors and stops when asked.
func counter(n int) func() pipeline.Source[reading] {
	return func() pipeline.Source[reading] {
		return pipeline.SourceFunc[reading](func(ctx context.Context, out pipeline.Emitter[reading]) error {
			for i := range n {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := out.Emit(reading{Sensor: fmt.Sprint("s", i%3), Value: i}); err != nil {
					return err
				}
			}
			return nil
		})
	}
}

// delta emits each reading's change since the sensor's previous one.
type delta struct{ last map[string]int }

func (d *delta) Process(_ context.Context, r reading, out pipeline.Emitter[reading]) error {
	prev, seen := d.last[r.Sensor]
	d.last[r.Sensor] = r.Value
	if !seen {
		return nil
	}
	return out.Emit(reading{Sensor: r.Sensor, Value: r.Value - prev})
}

type text struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *text) Write(_ context.Context, rs []reading) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		fmt.Fprintf(&s.b, "%s=%d\n", r.Sensor, r.Value)
	}
	return nil
}

// live emits a burst of readings, flushes, and waits for the next burst
// until cancelled.
func live() pipeline.Source[reading] {
	return pipeline.SourceFunc[reading](func(ctx context.Context, out pipeline.Emitter[reading]) error {
		for i := range 10 {
			if err := out.Emit(reading{Sensor: fmt.Sprint("s", i%3), Value: i}); err != nil {
				return err
			}
		}
		if err := out.Flush(); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	})
}

func TestConformingComponents(t *testing.T) {
	pipelinetest.TestSource(t, counter(100), pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 10})
	pipelinetest.TestSource(t, live, pipelinetest.SourceOptions{MinItems: 10})
	var in []reading
	for i := range 300 {
		in = append(in, reading{Sensor: fmt.Sprint("s", i%7), Value: i * i})
	}
	pipelinetest.TestStage(t, func() pipeline.Stage[reading] { return &delta{last: map[string]int{}} }, sensor, in)
	pipelinetest.TestSink(t, func() pipeline.Sink[reading] { return &text{} }, in[:20], func(t *testing.T, s pipeline.Sink[reading]) {
		got := s.(*text).b.String()
		if !strings.HasPrefix(got, "s0=0\ns1=1\ns2=4\n") || strings.Count(got, "\n") != 20 {
			t.Errorf("sink wrote %q", got)
		}
	})
}
