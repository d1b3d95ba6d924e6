package pipelinetest_test

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

// The suite must fail a component that breaks its rules. Each broken
// component runs in a child process (a failing check fails its test), and
// the parent reads what the child reported.
var broken = map[string]func(t *testing.T){
	// Keeps the Emitter of one Produce call and uses it in the next.
	"emits after return": func(t *testing.T) {
		var stale pipeline.Emitter[reading]
		pipelinetest.TestSource(t, func() pipeline.Source[reading] {
			return pipeline.SourceFunc[reading](func(ctx context.Context, out pipeline.Emitter[reading]) error {
				if stale != nil {
					_ = stale.Emit(reading{Sensor: "late"})
				}
				stale = out
				return out.Emit(reading{Sensor: "s"})
			})
		}, pipelinetest.SourceOptions{Finite: true, MinItems: 1})
	},
	// Ignores the error Emit returns and goes on emitting.
	"ignores Emit errors": func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[reading] {
			return pipeline.SourceFunc[reading](func(ctx context.Context, out pipeline.Emitter[reading]) error {
				for i := range 50 {
					_ = out.Emit(reading{Sensor: "s", Value: i})
				}
				return nil
			})
		}, pipelinetest.SourceOptions{Finite: true, MinItems: 5})
	},
	// A live source that waits for input without flushing what it emitted:
	// in a pipeline, the item would wait in a batch until the source ends.
	"holds items while it waits": func(t *testing.T) {
		pipelinetest.TestSource(t, func() pipeline.Source[reading] {
			return pipeline.SourceFunc[reading](func(ctx context.Context, out pipeline.Emitter[reading]) error {
				if err := out.Emit(reading{Sensor: "s"}); err != nil {
					return err
				}
				<-ctx.Done() // the feed is quiet
				return ctx.Err()
			})
		}, pipelinetest.SourceOptions{MinItems: 1, MaxHold: 50 * time.Millisecond})
	},
	// A stage whose output depends on which worker it runs in.
	"shared state across workers": func(t *testing.T) {
		n := 0 // shared by every instance: a per-worker count leaks into the output
		var in []reading
		for i := range 200 {
			in = append(in, reading{Sensor: string(rune('a' + i%5)), Value: i})
		}
		pipelinetest.TestStage(t, func() pipeline.Stage[reading] {
			mine := 0
			n++
			return pipeline.StageFunc[reading](func(_ context.Context, r reading, out pipeline.Emitter[reading]) error {
				mine++
				return out.Emit(reading{Sensor: r.Sensor, Value: mine})
			})
		}, sensor, in)
		_ = n
	},
}

func TestBrokenComponent(t *testing.T) {
	name := os.Getenv("PIPELINETEST_BROKEN")
	if name == "" {
		t.Skip("run by TestSuiteFailsBrokenComponents in a child process")
	}
	broken[name](t)
}

func TestSuiteFailsBrokenComponents(t *testing.T) {
	if os.Getenv("PIPELINETEST_BROKEN") != "" {
		t.Skip("in the child")
	}
	for name, want := range map[string]string{
		"emits after return":          "Emit called after the call that received the Emitter returned",
		"ignores Emit errors":         "Emit called again after it returned an error",
		"shared state across workers": "differs from the stage run alone",
		"holds items while it waits":  "without calling Flush while it emitted nothing more",
	} {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBrokenComponent$", "-test.count=1")
			cmd.Env = append(os.Environ(), "PIPELINETEST_BROKEN="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a component that %s:\n%s", name, out)
			}
			if !strings.Contains(string(out), want) {
				t.Errorf("the suite failed, but without %q:\n%s", want, out)
			}
		})
	}
}
