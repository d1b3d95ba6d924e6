package alpaca

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alpacahq/alpaca-trade-api-go/v3/marketdata"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Defaults of [Bars].
const (
	DefaultSymbolsPerRequest    = 200
	DefaultMaxBarsPerCall       = 100_000
	DefaultMaxConcurrentSymbols = pipeline.DefaultFetchLimit // the ADR's max_concurrent_symbols
	maxPageLimit                = 10_000
)

// Bars is a source of historical bars from Alpaca's REST API, for many
// symbols (stocks and crypto pairs such as "BTC/USD" may be mixed).
//
// # Requests
//
// Symbols are fetched in batches with the multi-symbol endpoint
// (GetMultiBars), 10,000 bars a page (Alpaca's cap; a page counts bars
// across symbols). The SDK holds a call's pages in memory, so each call is
// sized to at most MaxBarsPerCall bars: symbols are batched and, for long
// ranges, the range is cut into windows. Windows share their boundary
// (Alpaca's start and end are both inclusive) and the boundary bar, returned
// twice, is emitted once.
//
//	symbols ─▶ batches ─▶ windows ─▶ GetMultiBars ─▶ per symbol, in time order ─▶ Emit
//	                                   │
//	            token bucket ─▶ circuit breaker ─▶ attempt (timeout) ─▶ retry with back-off
//
// Every HTTP attempt takes a token from the client's bucket
// (Config.RequestsPerMinute) and passes its circuit breaker; 429, 5xx,
// timeouts and network errors, while reading the body too, are retried by
// the client's Config.Retry. Paging goes on where it was: a failed page is
// retried alone.
//
// # Order and errors
//
// Batches are fetched concurrently (MaxConcurrentSymbols at a time, through
// pipeline.FetchEach) and emitted whole, in the order of Symbols (stocks
// before crypto pairs), each symbol's bars in time order, so the output does
// not depend on which request ends first. A symbol whose
// request still fails after the retries, or that Alpaca rejects, or that has
// no bar in the range (an unknown symbol), fails alone through Emitter.Fail
// and the others go on: nothing is lost silently. Refused keys, recent SIP
// data on a free plan, an empty range and a bad configuration end Produce
// with a one-line error.
//
// Produce must not be called concurrently on one Bars.
type Bars struct {
	// Client is the connection to Alpaca; required.
	Client *Client
	// Symbols to fetch; "/" marks a crypto pair.
	Symbols []string
	// TimeFrame is the bar size: 1Min (default), 5Min, 15Min, 1Hour, 1Day, ...
	TimeFrame string
	// Start and End bound the bars' times, both inclusive. Start is
	// required; End defaults to now.
	Start, End time.Time
	// Adjustment of stock prices: raw (default), split, dividend, all.
	Adjustment string
	// SymbolsPerRequest caps a batch (default 200, keeping URLs short).
	SymbolsPerRequest int
	// MaxBarsPerCall bounds the bars one call holds in memory (default
	// 100,000, about 10 MB).
	MaxBarsPerCall int
	// MaxConcurrentSymbols bounds the batches fetched at once (default
	// DefaultMaxConcurrentSymbols; with SymbolsPerRequest 1, the symbols).
	// The client's MaxConcurrentRequests further bounds the requests in
	// flight. A batch's bars are held until its turn to be emitted.
	MaxConcurrentSymbols int
}

var _ pipeline.Source[market.Event] = (*Bars)(nil)

const barsName = "alpaca.Bars"

// Produce fetches the bars and emits them.
func (a *Bars) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	if a.Client == nil {
		return fmt.Errorf("%s: %w: no Client", barsName, ErrConfig)
	}
	tf, tfDur, err := parseTimeFrame(a.TimeFrame)
	if err != nil {
		return fmt.Errorf("%s: %w: %w", barsName, ErrConfig, err)
	}
	if len(a.Symbols) == 0 {
		return fmt.Errorf("%s: %w: no symbols", barsName, ErrConfig)
	}
	if a.Start.IsZero() {
		return fmt.Errorf("%s: %w: no start time", barsName, ErrConfig)
	}
	end := a.End
	if end.IsZero() {
		end = time.Now()
	}
	if end.Before(a.Start) {
		return fmt.Errorf("%s: %w: empty range: end %s is before start %s", barsName, ErrConfig,
			end.UTC().Format(time.RFC3339), a.Start.UTC().Format(time.RFC3339))
	}
	f := &barFetch{
		c: a.Client, tf: tf, tfDur: tfDur, start: a.Start, end: end, adjustment: a.Adjustment,
		symbolsPerRequest: a.SymbolsPerRequest, maxBarsPerCall: a.MaxBarsPerCall, limit: a.MaxConcurrentSymbols,
	}
	last := map[string]time.Time{}
	failed := map[string]bool{}
	err = f.run(ctx, a.Symbols,
		func(sym string, bars []market.Bar) error {
			lt, seen := last[sym]
			for _, b := range bars {
				if seen && !b.Time.After(lt) {
					continue // a window's inclusive boundary, already emitted
				}
				if err := out.Emit(market.Event{Bar: b}); err != nil {
					return emitErr(ctx, err)
				}
				lt, seen = b.Time, true
			}
			if seen {
				last[sym] = lt
			}
			return nil
		},
		func(sym string, err error) {
			failed[sym] = true
			out.Fail(sym, err)
		})
	if err != nil {
		return err
	}
	for _, sym := range f.symbols {
		if _, ok := last[sym]; !ok && !failed[sym] {
			out.Fail(sym, fmt.Errorf("%w from %s to %s (unknown symbol or no trading)", ErrNoBars,
				a.Start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
		}
	}
	return nil
}

// barFetch plans and runs the calls of one fetch.
type barFetch struct {
	c                 *Client
	tf                marketdata.TimeFrame
	tfDur             time.Duration
	start, end        time.Time // end zero: open (the server's now)
	planEnd           time.Time // with an open end, the end assumed to size calls (default now)
	adjustment        string
	symbolsPerRequest int
	maxBarsPerCall    int
	limit             int      // batches fetched at once
	symbols           []string // deduplicated, in input order
}

type fetchBatch struct {
	syms    []string
	crypto  bool
	windows [][2]time.Time // zero end: open
}

type fetchResult struct {
	batch  *fetchBatch
	bars   map[string][]market.Bar
	failed map[string]error
	fatal  error
}

// plan batches symbols and splits the range so that one call holds at most
// maxBarsPerCall bars (by the timeframe's upper bound, bars every tfDur).
func (f *barFetch) plan(symbols []string) []*fetchBatch {
	perReq := f.symbolsPerRequest
	if perReq <= 0 {
		perReq = DefaultSymbolsPerRequest
	}
	maxBars := f.maxBarsPerCall
	if maxBars <= 0 {
		maxBars = DefaultMaxBarsPerCall
	}
	end := f.end
	if end.IsZero() {
		end = f.planEnd
	}
	if end.IsZero() {
		end = time.Now()
	}
	span := max(end.Sub(f.start), 0)
	perSym := int(min(span/f.tfDur+1, time.Duration(1<<40)))
	batchSize := min(max(maxBars/perSym, 1), perReq)
	windowBars := max(maxBars/batchSize, 1)
	window := time.Duration(windowBars) * f.tfDur
	var windows [][2]time.Time
	for s := f.start; ; s = s.Add(window) {
		e := s.Add(window)
		if !e.Before(end) {
			windows = append(windows, [2]time.Time{s, f.end})
			break
		}
		windows = append(windows, [2]time.Time{s, e})
	}
	var batches []*fetchBatch
	for _, crypto := range []bool{false, true} {
		var group []string
		for _, s := range symbols {
			if isCrypto(s) == crypto {
				group = append(group, s)
			}
		}
		if len(group) == 0 {
			continue
		}
		n := (len(group) + batchSize - 1) / batchSize
		size := (len(group) + n - 1) / n // even batches
		for chunk := range slices.Chunk(group, size) {
			batches = append(batches, &fetchBatch{syms: chunk, crypto: crypto, windows: windows})
		}
	}
	return batches
}

// run fetches the batches, f.limit at a time, through pipeline.FetchEach,
// and hands each symbol's bars, in time order and in batch order, to emit
// (on the caller's goroutine); a symbol that fails goes to fail and is not
// fetched further. It returns a fatal error (auth, configuration,
// cancellation, emit's error) or nil.
func (f *barFetch) run(ctx context.Context, symbols []string,
	emit func(sym string, bars []market.Bar) error, fail func(sym string, err error)) error {
	seen := map[string]bool{}
	f.symbols = f.symbols[:0]
	for _, s := range symbols {
		s = strings.TrimSpace(s)
		if s != "" && !seen[s] {
			seen[s] = true
			f.symbols = append(f.symbols, s)
		}
	}
	batches := f.plan(f.symbols)
	keys := make([]string, len(batches))
	for i := range keys {
		keys[i] = strconv.Itoa(i)
	}
	limit := f.limit
	if limit <= 0 {
		limit = DefaultMaxConcurrentSymbols
	}
	md := f.c.marketData(ctx)
	fe := &pipeline.FetchEach[fetchResult]{Keys: keys, Limit: limit,
		Fetch: func(ctx context.Context, key string) ([]fetchResult, error) {
			i, _ := strconv.Atoi(key)
			return f.fetchBatch(ctx, md, batches[i]), ctx.Err()
		}}
	return fe.Produce(ctx, resultEmitter{emit: emit, fail: fail})
}

// resultEmitter hands FetchEach's results, in order, to run's callbacks; a
// fatal result ends the fetch.
type resultEmitter struct {
	emit func(sym string, bars []market.Bar) error
	fail func(sym string, err error)
}

func (r resultEmitter) Emit(res fetchResult) error {
	if res.fatal != nil {
		return res.fatal
	}
	for _, sym := range res.batch.syms {
		if err, bad := res.failed[sym]; bad {
			r.fail(sym, err)
			continue
		}
		if bars := res.bars[sym]; len(bars) > 0 {
			if err := r.emit(sym, bars); err != nil {
				return err
			}
		}
	}
	return nil
}

func (resultEmitter) Flush() error { return nil }

// Fail is not called: fetchBatch reports failures in its results.
func (resultEmitter) Fail(string, error) {}

// fetchBatch runs one batch's windows in order and returns their results;
// a symbol that fails is dropped from the later windows.
func (f *barFetch) fetchBatch(ctx context.Context, md *marketdata.Client, b *fetchBatch) []fetchResult {
	var results []fetchResult
	live := slices.Clone(b.syms)
	for _, w := range b.windows {
		if len(live) == 0 || ctx.Err() != nil {
			break
		}
		res := fetchResult{batch: b, bars: map[string][]market.Bar{}, failed: map[string]error{}}
		res.fatal = f.call(ctx, md, live, b.crypto, w, res.bars, res.failed)
		results = append(results, res)
		if res.fatal != nil {
			break
		}
		live = slices.DeleteFunc(live, func(s string) bool { _, bad := res.failed[s]; return bad })
	}
	return results
}

// call fetches syms over one window. A request Alpaca rejects (400/404/422)
// is split in halves until the rejected symbols are alone, so one bad
// symbol does not fail its batch.
func (f *barFetch) call(ctx context.Context, md *marketdata.Client, syms []string, crypto bool, w [2]time.Time,
	into map[string][]market.Bar, failed map[string]error) error {
	var err error
	if crypto {
		var got map[string][]marketdata.CryptoBar
		got, err = md.GetCryptoMultiBars(syms, marketdata.GetCryptoBarsRequest{
			TimeFrame: f.tf, Start: w[0], End: w[1], PageLimit: maxPageLimit,
		})
		for sym, bars := range got {
			out := make([]market.Bar, len(bars))
			for i, b := range bars {
				out[i] = market.Bar{Symbol: sym, Time: b.Timestamp.UTC(), Open: b.Open, High: b.High,
					Low: b.Low, Close: b.Close, Volume: b.Volume}
			}
			into[sym] = out
		}
	} else {
		var got map[string][]marketdata.Bar
		got, err = md.GetMultiBars(syms, marketdata.GetBarsRequest{
			TimeFrame: f.tf, Adjustment: marketdata.Adjustment(f.adjustment), Start: w[0], End: w[1],
			PageLimit: maxPageLimit,
		})
		for sym, bars := range got {
			out := make([]market.Bar, len(bars))
			for i, b := range bars {
				out[i] = market.Bar{Symbol: sym, Time: b.Timestamp.UTC(), Open: b.Open, High: b.High,
					Low: b.Low, Close: b.Close, Volume: float64(b.Volume)}
			}
			into[sym] = out
		}
	}
	if err == nil {
		for sym, bars := range into { // Alpaca sorts by time; make sure
			if !slices.IsSortedFunc(bars, func(a, b market.Bar) int { return a.Time.Compare(b.Time) }) {
				slices.SortStableFunc(bars, func(a, b market.Bar) int { return a.Time.Compare(b.Time) })
				into[sym] = bars
			}
		}
		return nil
	}
	for _, s := range syms {
		delete(into, s) // a failed call's partial pages are not used
	}
	fatal, perSym := f.c.classifyErr(ctx, err)
	if fatal != nil {
		return fatal
	}
	if errors.Is(perSym, ErrInvalid) && len(syms) > 1 {
		half := len(syms) / 2
		if err := f.call(ctx, md, syms[:half], crypto, w, into, failed); err != nil {
			return err
		}
		return f.call(ctx, md, syms[half:], crypto, w, into, failed)
	}
	span := w[0].UTC().Format(time.RFC3339) + ".."
	if !w[1].IsZero() {
		span += w[1].UTC().Format(time.RFC3339)
	}
	for _, s := range syms {
		failed[s] = fmt.Errorf("bars %s: %w", span, perSym)
	}
	return nil
}
