package market

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// MaxValues is the most indicator values one record holds. The record is a
// fixed array, so that an event stays a plain value that is copied, never
// allocated: no map and no slice per bar.
const MaxValues = 16

// ErrSchema reports a bad schema: a name repeated, empty or malformed, or
// more than [MaxValues] values.
var ErrSchema = errors.New("bad indicator schema")

// Schema names the values of the records of one pipeline, in order. It is
// built once, when the pipeline is built, and shared read-only by every
// event: an event carries a pointer to it, so that a sink or the wire can
// name the values without being told the pipeline's configuration.
type Schema struct {
	names []string
	keys  []string // `,"name":`, the JSON key of each value
}

// The default schema: the values of the default StochRSI/EMA pipeline, first
// in every schema the pipeline builds, so that the handles below hold in all
// of them.
const (
	DefaultEMA    Handle = 0 // "ema"
	DefaultStochK Handle = 1 // "stochrsi_k"
	DefaultStochD Handle = 2 // "stochrsi_d"
)

// DefaultNames are the names of the default schema's values, in order.
var DefaultNames = []string{"ema", "stochrsi_k", "stochrsi_d"}

// DefaultSchema is the schema of the default pipeline, and the one a record
// without a schema is written with (every value null).
var DefaultSchema = func() *Schema {
	s, err := newSchema(DefaultNames)
	if err != nil {
		panic(err)
	}
	return s
}()

// NewSchema returns the schema of the named values, in that order. A name is
// a letter followed by letters, digits or underscores and none of the
// fields a value is written beside (symbol, time, open, high, low, close,
// volume, signal, side, price, reason); every name is distinct; at most
// [MaxValues] names. The default names in order give [DefaultSchema] itself.
func NewSchema(names ...string) (*Schema, error) {
	if slices.Equal(names, DefaultNames) {
		// One schema for the default names: records of every default
		// pipeline, journal and decoder compare equal with ==.
		return DefaultSchema, nil
	}
	return newSchema(names)
}

func newSchema(names []string) (*Schema, error) {
	if len(names) > MaxValues {
		return nil, fmt.Errorf("%w: %d values (%s), at most %d", ErrSchema, len(names), strings.Join(names, ","), MaxValues)
	}
	s := &Schema{names: make([]string, len(names)), keys: make([]string, len(names))}
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		if !validName(n) {
			return nil, fmt.Errorf("%w: value %d: name %q: want a letter, then letters, digits or _", ErrSchema, i+1, n)
		}
		if reserved[n] {
			return nil, fmt.Errorf("%w: value %q: the name is a bar's or a signal's own field; give the indicator another name", ErrSchema, n)
		}
		if seen[n] {
			return nil, fmt.Errorf("%w: value %q twice", ErrSchema, n)
		}
		seen[n] = true
		s.names[i], s.keys[i] = n, `,"`+n+`":`
	}
	return s, nil
}

// MustSchema is [NewSchema] for names known good, as a package's own
// defaults; it panics on a bad schema.
func MustSchema(names ...string) *Schema {
	s, err := NewSchema(names...)
	if err != nil {
		panic(err)
	}
	return s
}

// reserved are the keys of an event's and a signal's own fields in JSON and
// CSV, which a value beside them cannot take.
var reserved = map[string]bool{
	"symbol": true, "time": true, "open": true, "high": true, "low": true, "close": true, "volume": true,
	"signal": true, "side": true, "price": true, "reason": true,
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c != '_' && (c < '0' || c > '9')) {
			return false
		}
	}
	return true
}

// Len is the number of values.
func (s *Schema) Len() int {
	if s == nil {
		return 0
	}
	return len(s.names)
}

// Name is the name of value i.
func (s *Schema) Name(i int) string { return s.names[i] }

// Names returns the names of the values, in order (a copy).
func (s *Schema) Names() []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s.names...)
}

// Lookup returns the handle of the named value.
func (s *Schema) Lookup(name string) (Handle, bool) {
	for i, n := range s.names {
		if n == name {
			return Handle(i), true
		}
	}
	return 0, false
}

// Handle returns the handle of the named value, or an error that lists the
// names there are: a strategy resolves its inputs once, when it is made.
func (s *Schema) Handle(name string) (Handle, error) {
	if h, ok := s.Lookup(name); ok {
		return h, nil
	}
	return 0, fmt.Errorf("%w: no value %q among %s", ErrSchema, name, strings.Join(s.names, ","))
}

// HasPrefix reports whether s begins with the values of p, in p's order: a
// record of s can then be read with p's handles.
func (s *Schema) HasPrefix(p *Schema) bool {
	if p.Len() == 0 {
		return true
	}
	if p.Len() > s.Len() {
		return false
	}
	for i, n := range p.names {
		if s.names[i] != n {
			return false
		}
	}
	return true
}

// String lists the names, comma-separated.
func (s *Schema) String() string { return strings.Join(s.names, ",") }

// Handle is a value's place in the records of one schema, resolved from its
// name once ([Schema.Handle]) and then read per bar without a lookup.
type Handle uint8

// Indicators is an event's record of indicator values: up to [MaxValues]
// numbers, each defined or not, named by Schema. A value is meaningful only
// when defined: go-talib reports 0 during warm-up and real zeros occur
// later, so zero cannot mark "undefined". The zero Indicators has no schema
// and no value.
type Indicators struct {
	// Schema names the values; nil for a record without values.
	Schema  *Schema
	values  [MaxValues]float64
	defined uint16 // bit i: values[i] is defined
}

// Get returns value h and whether it is defined.
func (r *Indicators) Get(h Handle) (float64, bool) {
	if h >= MaxValues || r.defined&(1<<h) == 0 {
		return 0, false
	}
	return r.values[h], true
}

// Value returns value h, 0 when it is not defined.
func (r *Indicators) Value(h Handle) float64 {
	v, _ := r.Get(h)
	return v
}

// Defined reports whether value h is defined.
func (r *Indicators) Defined(h Handle) bool { return h < MaxValues && r.defined&(1<<h) != 0 }

// Set defines value h as v. h must be below the schema's length.
func (r *Indicators) Set(h Handle, v float64) {
	r.values[h] = v
	r.defined |= 1 << h
}

// Unset makes value h undefined.
func (r *Indicators) Unset(h Handle) {
	if h < MaxValues {
		r.values[h] = 0
		r.defined &^= 1 << h
	}
}

// SetOpt defines value h as v when ok, and makes it undefined otherwise.
func (r *Indicators) SetOpt(h Handle, v float64, ok bool) {
	if ok {
		r.Set(h, v)
	} else {
		r.Unset(h)
	}
}

// Len is the number of values the schema names.
func (r *Indicators) Len() int { return r.Schema.Len() }

// Lookup returns the named value and whether it is defined; it searches the
// schema, so a strategy that reads a value per bar resolves a [Handle] once
// instead.
func (r *Indicators) Lookup(name string) (float64, bool) {
	if r.Schema == nil {
		return 0, false
	}
	h, ok := r.Schema.Lookup(name)
	if !ok {
		return 0, false
	}
	return r.Get(h)
}

// Each calls f with the name, value and definedness of every value, in the
// schema's order.
func (r *Indicators) Each(f func(name string, v float64, ok bool)) {
	for i := range r.Schema.Len() {
		v, ok := r.Get(Handle(i))
		f(r.Schema.names[i], v, ok)
	}
}

// DefaultRecord returns a record of [DefaultSchema]: the EMA when emaOK, and
// StochRSI's %K and %D when kdOK (they are defined together).
func DefaultRecord(ema float64, emaOK bool, k, d float64, kdOK bool) Indicators {
	r := Indicators{Schema: DefaultSchema}
	r.SetDefault(ema, emaOK, k, d, kdOK)
	return r
}

// SetDefault sets the default schema's values, the first three of every
// schema the pipeline builds, as [DefaultRecord] does.
func (r *Indicators) SetDefault(ema float64, emaOK bool, k, d float64, kdOK bool) {
	r.values[DefaultEMA], r.values[DefaultStochK], r.values[DefaultStochD] = ema, k, d
	m := r.defined &^ 7
	if emaOK {
		m |= 1 << DefaultEMA
	}
	if kdOK {
		m |= 1<<DefaultStochK | 1<<DefaultStochD
	}
	r.defined = m
}
