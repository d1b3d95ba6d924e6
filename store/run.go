package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
)

// Run is one run of a program that journals signals: what made them. A
// journal entry carries the ID of the run that first journaled it.
type Run struct {
	// ID names the run in its journal; [Store.StartRun] assigns it.
	ID int64
	// Started is when the run was recorded; [Store.StartRun] sets it.
	Started time.Time
	// Command is what ran, as "run" or "run --bus".
	Command string
	// Strategy names the strategy that makes the signals.
	Strategy string
	// Params are the strategy's parameters, in its order.
	Params []Param
	// Indicators are the specs of the indicators the run computes, as
	// indicators.Spec.String writes them: "ema(20)", "slow=sma(200)".
	Indicators []string
	// Signals is how many journal entries carry this run's ID (the signals
	// it journaled first); [Store.Runs] sets it.
	Signals int64
}

// Param is a strategy parameter.
type Param struct {
	Name  string
	Value float64
}

// BeforeRuns is the Command of the runs a migration from schema version 2
// records: one per strategy, holding the signals journaled before runs were.
const BeforeRuns = "before schema version 3"

// Config is the run's settings in one line, its parameters then its
// indicators: "oversold=20 overbought=80; ema(20) stochrsi(14,14,3,sma)".
// Signals are keyed by (symbol, time, side, strategy, config): a run with
// the settings of an earlier one journals no duplicates (a replay, a restart
// after a crash), a run with other settings journals its own signals. The
// runs of a migration have the empty config.
func (r *Run) Config() string {
	if len(r.Params) == 0 && len(r.Indicators) == 0 {
		return ""
	}
	var b strings.Builder
	for i, p := range r.Params {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(strconv.FormatFloat(p.Value, 'g', -1, 64))
	}
	b.WriteByte(';')
	for _, s := range r.Indicators {
		b.WriteByte(' ')
		b.WriteString(s)
	}
	return b.String()
}

// checkRun applies the constraints of a run to record: names a config
// cannot confuse.
func checkRun(r *Run) error {
	var why string
	for _, p := range r.Params {
		if !identifier(p.Name) {
			why = fmt.Sprintf("parameter name %q: want a letter, then letters, digits or _", p.Name)
		} else if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			why = fmt.Sprintf("parameter %s = %v", p.Name, p.Value)
		}
	}
	for _, s := range r.Indicators {
		if s == "" || strings.ContainsAny(s, " \t\r\n;") {
			why = fmt.Sprintf("indicator spec %q: empty, or with a space or ';'", s)
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("store: run (strategy %q): %s: %w", r.Strategy, why, ErrConstraint)
}

func identifier(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c != '_' && (c < '0' || c > '9')) {
			return false
		}
	}
	return s != ""
}

// paramsJSON is the run's parameters as a JSON object, in their order.
func paramsJSON(ps []Param) string {
	b := []byte{'{'}
	for i, p := range ps {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, p.Name) // an identifier: nothing to escape
		b = append(b, ':')
		b = strconv.AppendFloat(b, p.Value, 'g', -1, 64)
	}
	return string(append(b, '}'))
}

// specsJSON is the run's indicator specs as a JSON array.
func specsJSON(specs []string) string {
	if specs == nil {
		specs = []string{}
	}
	b, _ := json.Marshal(specs) // strings always encode
	return string(b)
}

// parseRunJSON fills r's Params and Indicators from their columns.
func parseRunJSON(r *Run, params, specs []byte) error {
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("run %d: params %s: not a JSON object", r.ID, params)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("run %d: params: %w", r.ID, err)
		}
		name, _ := t.(string)
		var v json.Number
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("run %d: params: %s: %w", r.ID, name, err)
		}
		f, err := v.Float64()
		if err != nil {
			return fmt.Errorf("run %d: params: %s: %w", r.ID, name, err)
		}
		r.Params = append(r.Params, Param{Name: name, Value: f})
	}
	if err := json.Unmarshal(specs, &r.Indicators); err != nil {
		return fmt.Errorf("run %d: indicators %s: %w", r.ID, specs, err)
	}
	if len(r.Indicators) == 0 {
		r.Indicators = nil
	}
	return nil
}

// The journal keeps a signal's indicator values as one JSON object by name,
// in the record's order: {"ema":185.2,"stochrsi_k":null,"stochrsi_d":null,
// "macd":0.31}. An undefined value is null; a value JSON cannot hold is the
// string "NaN", "Infinity" or "-Infinity", as PostgreSQL writes them.

// appendValues appends r's values as the journal keeps them. A record
// without a schema is written with the default schema's names, all null.
func appendValues(b []byte, r *market.Indicators) []byte {
	s := r.Schema
	if s == nil {
		s = market.DefaultSchema
	}
	b = append(b, '{')
	for i := range s.Len() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, s.Name(i)...) // a schema name: nothing to escape
		b = append(b, `":`...)
		v, ok := r.Get(market.Handle(i))
		switch {
		case !ok:
			b = append(b, "null"...)
		case math.IsNaN(v):
			b = append(b, `"NaN"`...)
		case math.IsInf(v, 1):
			b = append(b, `"Infinity"`...)
		case math.IsInf(v, -1):
			b = append(b, `"-Infinity"`...)
		default:
			b = strconv.AppendFloat(b, v, 'g', -1, 64)
		}
	}
	return append(b, '}')
}

// recordLen is how many values a record of s reads back with: the default
// names first, then the others.
func recordLen(s *market.Schema) int {
	n := len(market.DefaultNames)
	for i := range s.Len() {
		if !isDefault(s.Name(i)) {
			n++
		}
	}
	return n
}

func isDefault(name string) bool { return slices.Contains(market.DefaultNames, name) }

// valueReader reads the journal's value objects back into records whose
// schema has the default names first, then the others in their stored
// order, so that the default handles hold in every entry. Schemas are made
// once per set of names.
type valueReader struct {
	schemas map[string]*market.Schema
	names   []string
	values  []float64
	defined []bool
	buf     strings.Builder
}

func (vr *valueReader) read(text []byte) (market.Indicators, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return market.Indicators{}, fmt.Errorf("indicator values %.80s: not a JSON object", text)
	}
	nd := len(market.DefaultNames)
	vr.names = append(vr.names[:0], market.DefaultNames...)
	vr.values = append(vr.values[:0], make([]float64, nd)...)
	vr.defined = append(vr.defined[:0], make([]bool, nd)...)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return market.Indicators{}, fmt.Errorf("indicator values %.80s: %w", text, err)
		}
		name, _ := t.(string)
		if t, err = dec.Token(); err != nil {
			return market.Indicators{}, fmt.Errorf("indicator values %.80s: %w", text, err)
		}
		var v float64
		ok := true
		switch t := t.(type) {
		case nil:
			ok = false
		case json.Number:
			if v, err = t.Float64(); err != nil {
				return market.Indicators{}, fmt.Errorf("indicator value %q: %w", name, err)
			}
		case string:
			switch t {
			case "NaN":
				v = math.NaN()
			case "Infinity":
				v = math.Inf(1)
			case "-Infinity":
				v = math.Inf(-1)
			default:
				return market.Indicators{}, fmt.Errorf("indicator value %q: %q is not a number", name, t)
			}
		default:
			return market.Indicators{}, fmt.Errorf("indicator value %q: %v is not a number", name, t)
		}
		i := slices.Index(vr.names[:nd], name)
		if i < 0 {
			i = len(vr.names)
			vr.names, vr.values, vr.defined = append(vr.names, name), append(vr.values, 0), append(vr.defined, false)
		}
		vr.values[i], vr.defined[i] = v, ok
	}
	vr.buf.Reset()
	for _, n := range vr.names[nd:] {
		vr.buf.WriteString(n)
		vr.buf.WriteByte(',')
	}
	key := vr.buf.String()
	s, ok := vr.schemas[key]
	if !ok && key == "" {
		s, ok = market.DefaultSchema, true
	}
	if !ok {
		var err error
		if s, err = market.NewSchema(vr.names...); err != nil {
			return market.Indicators{}, fmt.Errorf("indicator values: %w", err)
		}
		if vr.schemas == nil {
			vr.schemas = map[string]*market.Schema{}
		}
		vr.schemas[key] = s
	}
	r := market.Indicators{Schema: s}
	for i := range vr.names {
		if vr.defined[i] {
			r.Set(market.Handle(i), vr.values[i])
		}
	}
	return r, nil
}
