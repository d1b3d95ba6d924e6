package server

import (
	"testing"

	"github.com/tickflow/tickflow/market"
)

// TestHistoryLetsOldBlocksGo: however many bars are written, a history
// holds at most the kept bars and two blocks more, and keeps every one of
// the kept bars.
func TestHistoryLetsOldBlocksGo(t *testing.T) {
	for _, keep := range []int{1, 63, 64, 65, 200} {
		var h *history
		for n := int64(0); n < 1500; n++ {
			h = h.add(n, keep, &market.Event{Bar: market.Bar{Close: float64(n)}})
			if held := len(h.blocks) * histChunk; held > keep+2*histChunk {
				t.Fatalf("keep %d, after bar %d: %d blocks held", keep, n, len(h.blocks))
			}
			got := h.last("X", n+1, keep, 0)
			if want := min(int(n)+1, keep); len(got) != want || got[len(got)-1].Close != float64(n) || got[0].Close != float64(int(n)+1-want) {
				t.Fatalf("keep %d, after bar %d: %d bars from %v to %v", keep, n, len(got), got[0].Close, got[len(got)-1].Close)
			}
		}
	}
}
