package signals

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/tickflow/tickflow/indicators"
	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// Computed is the declared set of indicators a pipeline computes for every
// symbol: the default EMA and StochRSI of an [indicators.Set] (its fast
// path, values "ema", "stochrsi_k", "stochrsi_d") and, after them, the
// outputs of each extra [indicators.Spec], named by Spec.Fields. Its
// [market.Schema] is built once, by [NewComputed], and shared read-only by
// every event the stage fills.
//
//	close ─► indicators.Set ─► ema, stochrsi_k, stochrsi_d   (handles 0, 1, 2)
//	bar   ─► spec 1 Streamer ─► spec 1's fields               (handles 3, ...)
//	bar   ─► spec 2 Streamer ─► ...
type Computed struct {
	cfg    indicators.Config
	dflt   string // the default indicators, as "EMA(20) StochRSI(14,14,3)"
	specs  []indicators.Spec
	schema *market.Schema
	first  []market.Handle // handle of each spec's first field
	width  []int           // number of fields of each spec
}

// NewComputed checks the periods of the default indicators (zero fields
// mean the defaults) and the extra specs, and builds the schema: the default
// values first, then each spec's fields in order. The same field name twice
// is an error that says to add name=; so is more than [market.MaxValues]
// values in all.
func NewComputed(cfg indicators.Config, extra []indicators.Spec) (*Computed, error) {
	const place = "signals.NewComputed"
	cfg = cfg.WithDefaults()
	set, err := indicators.NewSet(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", place, err)
	}
	c := &Computed{cfg: cfg, dflt: set.String(), specs: slices.Clone(extra)}
	names := slices.Clone(market.DefaultNames)
	owner := make(map[string]string, market.MaxValues) // field name -> what computes it
	for _, n := range names {
		owner[n] = "the default indicators (" + c.dflt + ")"
	}
	for i, s := range c.specs {
		if s.Func == nil {
			return nil, fmt.Errorf("%s: indicator %d has no function: parse it with indicators.ParseSpec", place, i+1)
		}
		if _, err := s.New(); err != nil {
			return nil, fmt.Errorf("%s: %w", place, err)
		}
		fields := s.Fields()
		for _, f := range fields {
			if o, dup := owner[f]; dup {
				return nil, fmt.Errorf("%s: %s writes the field %q, which %s writes too: add name= to one (as %s_2=%s): %w",
					place, s, f, o, s.Name, strings.TrimPrefix(s.String(), s.Name+"="), indicators.ErrSpec)
			}
			owner[f] = s.String()
		}
		c.first = append(c.first, market.Handle(len(names)))
		c.width = append(c.width, len(fields))
		names = append(names, fields...)
	}
	if len(names) > market.MaxValues {
		return nil, fmt.Errorf("%s: %d values (%d default, %d from %d indicators): a record holds at most %d",
			place, len(names), len(market.DefaultNames), len(names)-len(market.DefaultNames), len(c.specs), market.MaxValues)
	}
	schema, err := market.NewSchema(names...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", place, err)
	}
	c.schema = schema
	return c, nil
}

// Schema is the schema of the records the stage fills.
func (c *Computed) Schema() *market.Schema { return c.schema }

// Config is the periods of the default indicators, defaults filled in.
func (c *Computed) Config() indicators.Config { return c.cfg }

// Specs returns the extra indicators, in order (a copy).
func (c *Computed) Specs() []indicators.Spec { return slices.Clone(c.specs) }

// Handles returns the handles of the fields of the extra indicator that is
// identical to spec (the same function and arguments, whatever its name),
// in the order of spec.Fields: a strategy that declared the indicators it
// needs resolves them here once, when it is made.
func (c *Computed) Handles(spec indicators.Spec) ([]market.Handle, error) {
	for i, s := range c.specs {
		if sameIndicator(s, spec) {
			hs := make([]market.Handle, c.width[i])
			for j := range hs {
				hs[j] = c.first[i] + market.Handle(j)
			}
			return hs, nil
		}
	}
	return nil, fmt.Errorf("signals: %s is not computed (the set is %s)", spec, c)
}

// String lists the default indicators and the extra specs.
func (c *Computed) String() string {
	parts := []string{c.dflt}
	for _, s := range c.specs {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, ", ")
}

// sameIndicator reports whether a and b compute the same values.
func sameIndicator(a, b indicators.Spec) bool {
	return a.Func == b.Func && slices.Equal(a.Args, b.Args)
}

// WithNeeds returns the extra specs of user followed by those of needs
// that no spec of user (or an earlier need) already computes: a need
// identical to a user's spec reuses it, under the user's name. A need whose
// fields' names are taken by another indicator is renamed NAME_2, NAME_3,
// ...
func WithNeeds(user, needs []indicators.Spec) []indicators.Spec {
	out := slices.Clone(user)
	taken := map[string]bool{}
	for _, n := range market.DefaultNames {
		taken[n] = true
	}
	for _, s := range out {
		for _, f := range s.Fields() {
			taken[f] = true
		}
	}
	clash := func(s indicators.Spec) bool {
		return slices.ContainsFunc(s.Fields(), func(f string) bool { return taken[f] })
	}
	for _, n := range needs {
		if slices.ContainsFunc(out, func(s indicators.Spec) bool { return sameIndicator(s, n) }) {
			continue
		}
		base := n.Name
		for i := 2; clash(n) && i < 100; i++ {
			n.Name = base + "_" + strconv.Itoa(i)
		}
		for _, f := range n.Fields() {
			taken[f] = true
		}
		out = append(out, n)
	}
	return out
}

// computedState is one symbol's indicators.
type computedState struct {
	set   *indicators.Set
	extra []indicators.Streamer
	out   [market.MaxValues]float64 // a Streamer's outputs, before they go in the record
}

// Stage returns the constructor of a keyed stage (see [pipeline.Keyed])
// that fills each event's Indicators with the set's values for its symbol.
// An event whose record has another schema gets a new record of this one;
// one without a schema (the zero record) gets this schema.
func (c *Computed) Stage() func() pipeline.Stage[market.Event] {
	return pipeline.Keyed(market.Event.Key, c.newState, c.process)
}

func (c *Computed) newState(string) *computedState {
	set, _ := indicators.NewSet(c.cfg) // checked by NewComputed
	st := &computedState{set: set}
	for _, s := range c.specs {
		str, _ := s.New() // checked by NewComputed
		st.extra = append(st.extra, str)
	}
	return st
}

func (c *Computed) process(_ context.Context, e *market.Event, st *computedState, out pipeline.Emitter[market.Event]) error {
	c.fill(e, st)
	return out.Emit(*e)
}

// fill computes the symbol's values for e into e.Indicators.
func (c *Computed) fill(e *market.Event, st *computedState) {
	in := &e.Indicators
	switch in.Schema {
	case c.schema:
	case nil: // the zero record: no value to clear
		in.Schema = c.schema
	default:
		*in = market.Indicators{Schema: c.schema}
	}
	in.SetDefault(st.set.Update(e.Close))
	if len(st.extra) == 0 {
		return
	}
	b := indicators.Bar{Time: e.Time.UnixNano(), Open: e.Open, High: e.High, Low: e.Low, Close: e.Close, Volume: e.Volume}
	for i, s := range st.extra {
		n, h := c.width[i], c.first[i]
		ok := s.Update(b, st.out[:n])
		for j := range n {
			in.SetOpt(h+market.Handle(j), st.out[j], ok)
		}
	}
}
