package server

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/market"
)

// snapshots hold /api/symbols encoded: every request between two rebuilds
// is the same bytes, written out, so a hundred readers cost one encoding.
// A rebuild reads the Feed's published states, never its lock.
type snapshots struct {
	every time.Duration // rebuilt at most this often (<= 0: whenever the Feed changed)
	cur   atomic.Pointer[snapshot]
	build sync.Mutex // one rebuild at a time; readers only
}

type snapshot struct {
	version uint64 // the Feed's version when the rebuild began
	at      time.Time
	symbols []byte // the /api/symbols body
}

// symbolsJSON returns the /api/symbols body: rebuilt when the Feed changed
// and the last rebuild is older than the interval. While one reader
// rebuilds, the others get the previous body.
func (f *Feed) symbolsJSON() []byte {
	fresh := func(sn *snapshot) bool {
		return sn != nil && (sn.version == f.version.Load() || time.Since(sn.at) < f.snap.every)
	}
	sn := f.snap.cur.Load()
	if fresh(sn) {
		return sn.symbols
	}
	if sn == nil {
		f.snap.build.Lock()
	} else if !f.snap.build.TryLock() {
		return sn.symbols
	}
	defer f.snap.build.Unlock()
	if sn = f.snap.cur.Load(); fresh(sn) {
		return sn.symbols
	}
	sn = &snapshot{version: f.version.Load(), at: time.Now()}
	syms := f.Symbols()
	out := make([]Symbol, len(syms))
	for i, st := range syms {
		b, in := st.Bar, st.Indicators
		out[i] = Symbol{
			Symbol: b.Symbol, Time: b.Time.UTC(), Open: b.Open, High: b.High, Low: b.Low, Close: b.Close, Volume: b.Volume,
			EMA: opt(in.Get(market.DefaultEMA)), StochRSIK: opt(in.Get(market.DefaultStochK)), StochRSID: opt(in.Get(market.DefaultStochD)),
			Bars: st.Bars, LastSignal: st.LastSignal, Indicators: Values{in},
		}
	}
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil { // only a bar time beyond year 9999 can fail
		body = market.AppendJSONString([]byte(`{"error":`), err.Error())
		body = append(body, '}')
	}
	sn.symbols = append(body, '\n')
	f.snap.cur.Store(sn)
	return sn.symbols
}
