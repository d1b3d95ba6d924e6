package main

import (
	"fmt"
	"io"
	"time"

	"github.com/tickflow/tickflow/pipeline"
)

// progress shows the bars read so far and the rate on w, refreshed a few
// times a second, when w is a terminal and the run lasts long enough to need
// it. The returned stop clears the line and returns once the goroutine has
// exited.
func progress(w io.Writer, stats func() []pipeline.StageStats) (stop func()) {
	if !isTerminal(w) {
		return func() {}
	}
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		start := time.Now()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		shown := false
		for {
			select {
			case <-done:
				if shown {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			case now := <-tick.C:
				if now.Sub(start) < time.Second {
					continue // short runs finish before a bar is worth drawing
				}
				st := stats()
				bars, queued := st[0].Out, int64(0)
				for _, s := range st[1:] {
					queued += s.Queued
				}
				fmt.Fprintf(w, "\r\033[Ktickflow: %d bars read, %.0f bars/s, %d queued", bars, float64(bars)/now.Sub(start).Seconds(), queued)
				shown = true
			}
		}
	}()
	return func() { close(done); <-exited }
}
