package server

import (
	"time"

	"github.com/tickflow/tickflow/market"
)

// histChunk is how many bars one block of a symbol's history holds.
const histChunk = 64

// histBlock holds histChunk bars of one symbol, column by column and
// without pointers but the schemas', so that it costs the collector
// nothing to scan: the values take the width of the first bar's schema
// (one pipeline has one schema), about 90 bytes a bar with the default
// one.
type histBlock struct {
	schema  [histChunk]*market.Schema
	vals    []float64 // histChunk * width
	width   int
	time    [histChunk]int64 // Unix nanoseconds
	ohlcv   [histChunk][5]float64
	price   [histChunk]float64 // the signal's price
	defined [histChunk]uint32
	side    [histChunk]market.Side // the bar's signal, 0 without
}

func newBlock(width int) *histBlock {
	return &histBlock{vals: make([]float64, histChunk*width), width: width}
}

// put writes bar i of the block, once.
func (k *histBlock) put(i int, e *market.Event) {
	k.schema[i] = e.Indicators.Schema
	k.time[i] = e.Time.UnixNano()
	k.ohlcv[i] = [5]float64{e.Open, e.High, e.Low, e.Close, e.Volume}
	var mask uint32
	for h := 0; h < min(e.Indicators.Len(), k.width); h++ {
		if v, ok := e.Indicators.Get(market.Handle(h)); ok {
			k.vals[i*k.width+h], mask = v, mask|1<<h
		}
	}
	k.defined[i] = mask
	if e.Signal != nil {
		k.side[i], k.price[i] = e.Signal.Side, e.Signal.Price
	}
}

// event reads bar i of the block back as an event of symbol sym.
func (k *histBlock) event(sym string, i int) market.Event {
	c := &k.ohlcv[i]
	e := market.Event{
		Bar:        market.Bar{Symbol: sym, Time: time.Unix(0, k.time[i]).UTC(), Open: c[0], High: c[1], Low: c[2], Close: c[3], Volume: c[4]},
		Indicators: market.Indicators{Schema: k.schema[i]},
	}
	for h := 0; h < min(e.Indicators.Len(), k.width); h++ {
		if k.defined[i]&(1<<h) != 0 {
			e.Indicators.Set(market.Handle(h), k.vals[i*k.width+h])
		}
	}
	if k.side[i] != 0 {
		e.Signal = &market.Signal{Symbol: sym, Time: e.Time, Side: k.side[i], Price: k.price[i], Indicators: e.Indicators}
	}
	return e
}

// history is a symbol's recent bars in blocks that are written once, slot
// by slot, and never again: the Feed's Write fills the next slot, then
// publishes the symbol's state, which carries the history and its length,
// so a reader sees every slot below that length written and no write to
// them after. When the oldest block falls out of the kept bars a new
// history without it is made; readers holding the old one keep reading
// it.
//
//	blocks: [0..63][64..127][128..191]   first = index of blocks[0] slot 0
//	                         ▲ Write fills slot n, then publishes (history, n+1)
type history struct {
	blocks []*histBlock
	first  int64
}

// add appends e as bar n (the writer's count) of the history h (nil:
// none yet), keeping at least keep bars, and returns the history to
// publish. Under the Feed's lock.
func (h *history) add(n int64, keep int, e *market.Event) *history {
	if n%histChunk == 0 { // a new block: a new history, copied
		var blocks []*histBlock
		first := n
		if h != nil {
			blocks, first = h.blocks, h.first
		}
		for len(blocks) > 0 && n-(first+histChunk) >= int64(keep) {
			blocks, first = blocks[1:], first+histChunk
		}
		nb := make([]*histBlock, len(blocks), len(blocks)+1)
		copy(nb, blocks)
		h = &history{blocks: append(nb, newBlock(max(1, e.Indicators.Len()))), first: first}
	}
	h.blocks[(n-h.first)/histChunk].put(int(n%histChunk), e)
	return h
}

// last returns up to limit of the bars below end (the length published
// with h), oldest first, never more than keep, as events of sym.
func (h *history) last(sym string, end int64, keep, limit int) []market.Event {
	if h == nil || end <= 0 {
		return nil
	}
	if limit <= 0 || limit > keep {
		limit = keep
	}
	from := max(h.first, end-int64(limit))
	out := make([]market.Event, 0, end-from)
	for i := from; i < end; i++ {
		out = append(out, h.blocks[(i-h.first)/histChunk].event(sym, int(i%histChunk)))
	}
	return out
}
