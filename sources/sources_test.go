package sources

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// emitRecorder is a fake pipeline.Emitter that keeps what a source emits, until
// the pipeline's conformance suite can drive the sources.
type emitRecorder struct {
	events  []market.Event
	fails   []string // "KEY: error", in call order
	flushes int
	// onEmit, if set, runs before each Emit is accepted; an error refuses
	// the item, as a pipeline does once its context is done.
	onEmit func(n int) error
}

func (r *emitRecorder) Emit(e market.Event) error {
	if r.onEmit != nil {
		if err := r.onEmit(len(r.events)); err != nil {
			return err
		}
	}
	r.events = append(r.events, e)
	return nil
}

func (r *emitRecorder) Flush() error { r.flushes++; return nil }

func (r *emitRecorder) Fail(key string, err error) {
	r.fails = append(r.fails, key+": "+err.Error())
}

// String renders the recording one line per event or failure, for golden
// files and failure messages.
func (r *emitRecorder) String() string {
	var b strings.Builder
	for _, e := range r.events {
		b.WriteString(fmtBar(e.Bar))
		b.WriteByte('\n')
	}
	for _, f := range r.fails {
		fmt.Fprintf(&b, "FAIL %s\n", f)
	}
	return b.String()
}

func fmtBar(b market.Bar) string {
	return fmt.Sprintf("%s %s o=%s h=%s l=%s c=%s v=%s", b.Symbol, b.Time.Format(time.RFC3339Nano),
		fmtNum(b.Open), fmtNum(b.High), fmtNum(b.Low), fmtNum(b.Close), fmtNum(b.Volume))
}

// cancelAfter returns a emitRecorder that cancels ctx once n items are in and
// refuses items from then on.
func cancelAfter(n int, cancel context.CancelFunc) *emitRecorder {
	return &emitRecorder{onEmit: func(have int) error {
		if have >= n {
			cancel()
			return context.Canceled
		}
		return nil
	}}
}
