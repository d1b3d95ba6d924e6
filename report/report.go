package report

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"time"

	"github.com/tickflow/tickflow/market"
)

// ErrInvalid is wrapped by every error that [Write] returns for data it
// cannot show; the message names the place (symbol, bar, series, field).
var ErrInvalid = errors.New("invalid report data")

// ChartJS returns the chart renderer the report embeds: dependency-free
// JavaScript that defines window.TickflowChart (its API is described at
// the top of the file). The live dashboard serves the same text, so both
// draw with one renderer.
func ChartJS() string { return chartJS }

var (
	//go:embed chart.js
	chartJS string
	//go:embed page.js
	pageJS string
	//go:embed page.css
	pageCSS string
	//go:embed page.html
	pageHTML string
)

// catchErrors is the first script on the page, so that an error in any
// later one is shown on the page and counted by the test hook.
const catchErrors = `window.tickflowErrors=[];window.addEventListener("error",function(e){window.tickflowErrors.push(String(e.message));var p=document.createElement("pre");p.className="error";p.textContent="report error: "+e.message;document.body.prepend(p)});`

var page = template.Must(template.New("report").Parse(pageHTML))

// csp allows only the page's own style and its three executable scripts,
// by hash: no request can leave the page, so a report shows the same
// offline as online, and text in the data can never run.
var csp = func() string {
	hash := func(s string) string {
		h := sha256.Sum256([]byte(s))
		return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
	}
	return "default-src 'none'; style-src " + hash(pageCSS) +
		"; script-src " + hash(catchErrors) + " " + hash(chartJS) + " " + hash(pageJS)
}()

// Write checks d and writes it to w as one self-contained HTML file: its
// data, styles and scripts are inline and its Content-Security-Policy
// forbids any request, so it opens offline from a file or an e-mail.
//
// Data that cannot be shown (unordered bars, a series whose length is not
// the bar count, a non-finite price) returns an error wrapping
// [ErrInvalid] that names the place, and nothing is written.
//
// Write encodes the whole page in memory before writing it: about 18 bytes
// per bar with a handful of series, 18 MB for a million bars.
func Write(w io.Writer, d Data) error {
	doc, err := encode(d)
	if err != nil {
		return err
	}
	data, err := json.Marshal(doc) // escapes <, >, & and U+2028/9: safe inside <script>
	if err != nil {
		return fmt.Errorf("report: encoding: %w", err)
	}
	err = page.Execute(w, struct {
		Title      string
		CSP        string
		CSS        template.CSS
		Data       template.JS
		CatchError template.JS
		Chart      template.JS
		Page       template.JS
	}{d.Title, csp, template.CSS(pageCSS), template.JS(data), template.JS(catchErrors), template.JS(chartJS), template.JS(pageJS)})
	if err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

// The page's data as page.js reads it; series are columns (see column).
type (
	jsonDoc struct {
		Title     string       `json:"title"`
		Generated string       `json:"generated,omitempty"`
		Settings  [][2]string  `json:"settings"`
		Symbols   []jsonSymbol `json:"symbols"`
		Portfolio *jsonCurve   `json:"portfolio,omitempty"`
		Sweep     *jsonSweep   `json:"sweep,omitempty"`
	}
	jsonSymbol struct {
		Name        string           `json:"name"`
		Time        column           `json:"t"`
		Open        column           `json:"o"`
		High        column           `json:"h"`
		Low         column           `json:"l"`
		Close       column           `json:"c"`
		Overlays    []jsonSeries     `json:"overlays"`
		Oscillators []jsonOscillator `json:"oscillators"`
		Markers     jsonMarkers      `json:"markers"`
		jsonCurve
	}
	jsonSeries struct {
		Name   string `json:"name"`
		Values column `json:"v"`
	}
	jsonOscillator struct {
		Name   string       `json:"name"`
		Series []jsonSeries `json:"series"`
		Levels []number     `json:"levels"`
	}
	jsonMarkers struct {
		Time   column   `json:"t"`
		Price  column   `json:"p"`
		Side   string   `json:"side"` // one letter per marker: B or S
		Labels []string `json:"labels"`
		Label  []int    `json:"label"` // index into Labels per marker
	}
	// jsonCurve is an account: a symbol's (on its bars' times) or the
	// portfolio's (on Time).
	jsonCurve struct {
		Time     *column       `json:"curveT,omitempty"`
		Equity   *column       `json:"equity,omitempty"`
		BuyHold  *column       `json:"buyhold,omitempty"`
		Drawdown *column       `json:"drawdown,omitempty"`
		Monthly  *jsonMonthly  `json:"monthly,omitempty"`
		Metrics  [][3]any      `json:"metrics"`
		Trades   *jsonTradeSet `json:"trades,omitempty"`
	}
	jsonMonthly struct {
		Years  []int    `json:"years"`
		Values []number `json:"v"`
	}
	// jsonTradeSet is columnar: one array per field.
	jsonTradeSet struct {
		Side       string   `json:"side"`
		Entry      []number `json:"entry"`
		EntryPrice []number `json:"entryPrice"`
		Exit       []number `json:"exit"`
		ExitPrice  []number `json:"exitPrice"`
		Quantity   []number `json:"qty"`
		PnL        []number `json:"pnl"`
		Return     []number `json:"ret"`
		Reason     []string `json:"reason"`
	}
	jsonSweep struct {
		Params        []string   `json:"params"`
		Metrics       []string   `json:"metrics"`
		Rank          string     `json:"rank"`
		LowerIsBetter bool       `json:"lowerIsBetter"`
		Rows          [][]number `json:"rows"` // params then metrics, best first
		X             string     `json:"x"`
		Y             string     `json:"y"`
		Xs            []number   `json:"xs"`
		Ys            []number   `json:"ys"`
		Grid          []number   `json:"grid"`
	}
)

// number is a float64 that encodes NaN and infinities as null.
type number float64

func (n number) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

func numbers(vs []float64) []number {
	out := make([]number, len(vs))
	for i, v := range vs {
		out[i] = number(v)
	}
	return out
}

// invalid is an ErrInvalid at a place.
func invalid(place, format string, args ...any) error {
	return fmt.Errorf("report: %s: %s: %w", place, fmt.Sprintf(format, args...), ErrInvalid)
}

func encode(d Data) (*jsonDoc, error) {
	doc := &jsonDoc{Title: d.Title, Settings: [][2]string{}, Symbols: []jsonSymbol{}}
	if !d.Generated.IsZero() {
		doc.Generated = d.Generated.UTC().Format(time.RFC3339)
	}
	for _, f := range d.Settings {
		doc.Settings = append(doc.Settings, [2]string{f.Name, f.Value})
	}
	for i := range d.Symbols {
		s, err := encodeSymbol(&d.Symbols[i])
		if err != nil {
			return nil, err
		}
		doc.Symbols = append(doc.Symbols, s)
	}
	if p := d.Portfolio; p != nil {
		c, err := encodePortfolio(p)
		if err != nil {
			return nil, err
		}
		doc.Portfolio = c
	}
	if d.Sweep != nil {
		s, err := encodeSweep(d.Sweep)
		if err != nil {
			return nil, err
		}
		doc.Sweep = s
	}
	return doc, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// perBar checks a series on an axis of n bars (or times): n values or
// none, no infinities.
func perBar(place string, vs []float64, n int, axis string) error {
	if len(vs) != 0 && len(vs) != n {
		return invalid(place, "%d values for %d %s", len(vs), n, axis)
	}
	for i, v := range vs {
		if math.IsInf(v, 0) {
			return invalid(place, "value %d is %v", i, v)
		}
	}
	return nil
}

func optional(vs []float64) *column {
	if len(vs) == 0 {
		return nil
	}
	c := encodeValues(vs)
	return &c
}

func encodeSymbol(s *Symbol) (jsonSymbol, error) {
	place := fmt.Sprintf("symbol %q", s.Name)
	n := len(s.Bars)
	o, h, l, c := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, b := range s.Bars {
		if err := checkBar(s.Bars, i); err != nil {
			return jsonSymbol{}, invalid(fmt.Sprintf("%s: bar %d (%s)", place, i, b.Time.UTC().Format(time.RFC3339)), "%v", err)
		}
		o[i], h[i], l[i], c[i] = b.Open, b.High, b.Low, b.Close
	}
	at := func(i int) time.Time { return s.Bars[i].Time }
	js := jsonSymbol{Name: s.Name, Time: encodeTimes(n, at),
		Open: encodeValues(o), High: encodeValues(h), Low: encodeValues(l), Close: encodeValues(c),
		Overlays: []jsonSeries{}, Oscillators: []jsonOscillator{}}
	for _, ov := range s.Overlays {
		if err := perBar(fmt.Sprintf("%s: overlay %q", place, ov.Name), ov.Values, n, "bars"); err != nil {
			return jsonSymbol{}, err
		}
		js.Overlays = append(js.Overlays, jsonSeries{Name: ov.Name, Values: encodeValues(ov.Values)})
	}
	for _, osc := range s.Oscillators {
		jo := jsonOscillator{Name: osc.Name, Series: []jsonSeries{}, Levels: numbers(osc.Levels)}
		for _, se := range osc.Series {
			if err := perBar(fmt.Sprintf("%s: oscillator %q: series %q", place, osc.Name, se.Name), se.Values, n, "bars"); err != nil {
				return jsonSymbol{}, err
			}
			jo.Series = append(jo.Series, jsonSeries{Name: se.Name, Values: encodeValues(se.Values)})
		}
		for _, v := range osc.Levels {
			if !finite(v) {
				return jsonSymbol{}, invalid(fmt.Sprintf("%s: oscillator %q", place, osc.Name), "level is %v", v)
			}
		}
		js.Oscillators = append(js.Oscillators, jo)
	}
	m, err := encodeMarkers(place, s.Markers)
	if err != nil {
		return jsonSymbol{}, err
	}
	js.Markers = m
	for _, f := range []struct {
		name string
		vs   []float64
	}{{"equity", s.Equity}, {"buy and hold", s.BuyHold}, {"drawdown", s.Drawdown}} {
		if err := perBar(place+": "+f.name, f.vs, n, "bars"); err != nil {
			return jsonSymbol{}, err
		}
	}
	js.jsonCurve = encodeCurve(n, at, s.Equity, s.BuyHold, s.Drawdown, s.Metrics)
	if js.Trades, err = encodeTrades(place, s.Trades); err != nil {
		return jsonSymbol{}, err
	}
	return js, nil
}

// checkBar says what is wrong with bars[i], if anything; the caller names
// the place (kept out of the loop: a million bars would format a million).
func checkBar(bars []Bar, i int) error {
	b := bars[i]
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"open", b.Open}, {"high", b.High}, {"low", b.Low}, {"close", b.Close}} {
		if !finite(f.v) {
			return fmt.Errorf("%s is %v", f.name, f.v)
		}
	}
	if b.High < b.Low || b.High < max(b.Open, b.Close) || b.Low > min(b.Open, b.Close) {
		return fmt.Errorf("high %v and low %v do not hold open %v and close %v", b.High, b.Low, b.Open, b.Close)
	}
	if i > 0 && !b.Time.After(bars[i-1].Time) {
		return fmt.Errorf("time not after bar %d's %s", i-1, bars[i-1].Time.UTC().Format(time.RFC3339))
	}
	return nil
}

func encodeCurve(n int, at func(int) time.Time, equity, buyHold, drawdown []float64, metrics []Metric) jsonCurve {
	c := jsonCurve{Equity: optional(equity), BuyHold: optional(buyHold), Drawdown: optional(drawdown), Metrics: [][3]any{}}
	if len(equity) > 0 {
		m := monthlyReturns(n, at, equity)
		c.Monthly = &jsonMonthly{Years: m.Years, Values: numbers(m.Values)}
	}
	for _, m := range metrics {
		c.Metrics = append(c.Metrics, [3]any{m.Name, number(m.Value), m.Unit})
	}
	return c
}

func encodeMarkers(place string, ms []Marker) (jsonMarkers, error) {
	ms = slices.Clone(ms)
	slices.SortStableFunc(ms, func(a, b Marker) int { return a.Time.Compare(b.Time) })
	side := make([]byte, len(ms))
	prices := make([]float64, len(ms))
	out := jsonMarkers{Labels: []string{}, Label: make([]int, len(ms))}
	index := map[string]int{}
	for i, m := range ms {
		at := fmt.Sprintf("%s: marker at %s", place, m.Time.UTC().Format(time.RFC3339))
		switch m.Side {
		case market.Buy:
			side[i] = 'B'
		case market.Sell:
			side[i] = 'S'
		default:
			return jsonMarkers{}, invalid(at, "side is %v", m.Side)
		}
		if !finite(m.Price) {
			return jsonMarkers{}, invalid(at, "price is %v", m.Price)
		}
		prices[i] = m.Price
		k, ok := index[m.Label]
		if !ok {
			k = len(out.Labels)
			index[m.Label] = k
			out.Labels = append(out.Labels, m.Label)
		}
		out.Label[i] = k
	}
	out.Time = encodeTimes(len(ms), func(i int) time.Time { return ms[i].Time })
	out.Price = encodeValues(prices)
	out.Side = string(side)
	return out, nil
}

func encodeTrades(place string, ts []Trade) (*jsonTradeSet, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	out := &jsonTradeSet{}
	side := make([]byte, len(ts))
	ms := func(t time.Time) number {
		if t.IsZero() {
			return number(math.NaN())
		}
		return number(t.UnixMilli())
	}
	for i, t := range ts {
		switch t.Side {
		case market.Buy:
			side[i] = 'B'
		case market.Sell:
			side[i] = 'S'
		default:
			return nil, invalid(fmt.Sprintf("%s: trade %d", place, i), "side is %v", t.Side)
		}
		out.Entry = append(out.Entry, ms(t.Entry))
		out.EntryPrice = append(out.EntryPrice, number(t.EntryPrice))
		out.Exit = append(out.Exit, ms(t.Exit))
		out.ExitPrice = append(out.ExitPrice, number(t.ExitPrice))
		out.Quantity = append(out.Quantity, number(t.Quantity))
		out.PnL = append(out.PnL, number(t.PnL))
		out.Return = append(out.Return, number(t.Return))
		out.Reason = append(out.Reason, t.Reason)
	}
	out.Side = string(side)
	return out, nil
}

func encodePortfolio(p *Portfolio) (*jsonCurve, error) {
	const place = "portfolio"
	n := len(p.Times)
	for i := 1; i < n; i++ {
		if !p.Times[i].After(p.Times[i-1]) {
			return nil, invalid(fmt.Sprintf("%s: time %d (%s)", place, i, p.Times[i].UTC().Format(time.RFC3339)), "not after time %d", i-1)
		}
	}
	if len(p.Equity) != n {
		return nil, invalid(place+": equity", "%d values for %d times", len(p.Equity), n)
	}
	for _, f := range []struct {
		name string
		vs   []float64
	}{{"equity", p.Equity}, {"buy and hold", p.BuyHold}, {"drawdown", p.Drawdown}} {
		if err := perBar(place+": "+f.name, f.vs, n, "times"); err != nil {
			return nil, err
		}
	}
	at := func(i int) time.Time { return p.Times[i] }
	c := encodeCurve(n, at, p.Equity, p.BuyHold, p.Drawdown, p.Metrics)
	t := encodeTimes(n, at)
	c.Time = &t
	return &c, nil
}

func encodeSweep(s *Sweep) (*jsonSweep, error) {
	const place = "sweep"
	if len(s.Params) == 0 {
		return nil, invalid(place, "no parameters")
	}
	rank := slices.Index(s.Metrics, s.Rank)
	if rank < 0 {
		return nil, invalid(place, "rank metric %q is not one of %q", s.Rank, s.Metrics)
	}
	xName, yName := s.X, s.Y
	if xName == "" {
		xName = s.Params[0]
	}
	if yName == "" && len(s.Params) > 1 {
		yName = s.Params[1]
	}
	x := slices.Index(s.Params, xName)
	if x < 0 {
		return nil, invalid(place, "heatmap X %q is not one of %q", xName, s.Params)
	}
	y := -1
	if yName != "" {
		if y = slices.Index(s.Params, yName); y < 0 {
			return nil, invalid(place, "heatmap Y %q is not one of %q", yName, s.Params)
		}
	}
	for i, r := range s.Rows {
		at := fmt.Sprintf("%s: row %d", place, i)
		if len(r.Params) != len(s.Params) || len(r.Metrics) != len(s.Metrics) {
			return nil, invalid(at, "%d params and %d metrics, want %d and %d", len(r.Params), len(r.Metrics), len(s.Params), len(s.Metrics))
		}
		for j, v := range r.Params {
			if !finite(v) {
				return nil, invalid(at, "param %q is %v", s.Params[j], v)
			}
		}
	}
	g := grid(s, x, y, rank)
	out := &jsonSweep{Params: s.Params, Metrics: s.Metrics, Rank: s.Rank, LowerIsBetter: s.LowerIsBetter,
		Rows: [][]number{}, X: g.X, Y: g.Y, Xs: numbers(g.Xs), Ys: numbers(g.Ys), Grid: numbers(g.Values)}
	for _, r := range rankedRows(s, rank) {
		out.Rows = append(out.Rows, append(numbers(r.Params), numbers(r.Metrics)...))
	}
	return out, nil
}
