package server

import (
	"github.com/tickflow/tickflow/market"
)

// histChunk is how many bars one block of a symbol's history holds.
const histChunk = 64

// histBar is one bar of a symbol's history: what /api/history shows.
type histBar struct {
	bar   market.Bar
	ind   market.Indicators
	side  market.Side // the bar's signal, 0 without
	price float64     // the signal's price
}

// history is a symbol's recent bars in blocks that are written once, slot
// by slot, and never again: the Feed's Write fills the next slot, then
// publishes the symbol's state, which carries the history and its length,
// so a reader sees every slot below that length written and no write to
// them after. When the oldest block falls out of the kept bars a new
// history without it is made; readers holding the old one keep reading
// it.
//
//	blocks: [0..63][64..127][128..191]   first = index of blocks[0][0]
//	                         ▲ Write fills slot n, then publishes (history, n+1)
type history struct {
	blocks []*[histChunk]histBar
	first  int64
}

// add appends b as bar n (the writer's count) of the history h (nil:
// none yet), keeping at least keep bars, and returns the history to
// publish. Under the Feed's lock.
func (h *history) add(n int64, keep int, b histBar) *history {
	if n%histChunk == 0 { // a new block: a new history, copied
		var blocks []*[histChunk]histBar
		first := n
		if h != nil {
			blocks, first = h.blocks, h.first
		}
		for len(blocks) > 0 && n-(first+histChunk) >= int64(keep) {
			blocks, first = blocks[1:], first+histChunk
		}
		nb := make([]*[histChunk]histBar, len(blocks), len(blocks)+1)
		copy(nb, blocks)
		h = &history{blocks: append(nb, new([histChunk]histBar)), first: first}
	}
	h.blocks[(n-h.first)/histChunk][n%histChunk] = b
	return h
}

// last returns up to limit of the bars below end (the length published
// with h), oldest first, never more than keep.
func (h *history) last(end int64, keep, limit int) []histBar {
	if h == nil || end <= 0 {
		return nil
	}
	if limit <= 0 || limit > keep {
		limit = keep
	}
	from := max(h.first, end-int64(limit))
	out := make([]histBar, 0, end-from)
	for i := from; i < end; i++ {
		out = append(out, h.blocks[(i-h.first)/histChunk][i%histChunk])
	}
	return out
}
