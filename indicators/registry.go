package indicators

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ParamKind says how a parameter is written and checked.
type ParamKind uint8

// The kinds of parameter.
const (
	IntParam    ParamKind = iota // a whole number, as a period
	FloatParam                   // any finite number, as a band width
	MATypeParam                  // a moving-average type, by name (sma, ema, ...) or TA-Lib's number
)

// Param is one parameter of a [Func], in go-talib's argument order.
type Param struct {
	Name     string
	Kind     ParamKind
	Default  float64
	Min, Max float64 // inclusive bounds
}

// Func describes one streaming indicator function: its name in specs, its
// parameters and outputs, and how to build one.
type Func struct {
	// Name is the function's name in specs, TA-Lib's in lower case: "macd".
	Name string
	// Doc is a one-line description.
	Doc string
	// Params are the parameters in go-talib's order.
	Params []Param
	// Outputs name the outputs in go-talib's order. A field is named after
	// the spec's name alone for an empty output name, NAME_OUTPUT otherwise.
	Outputs []string
	// New builds the indicator from len(Params) arguments already checked
	// against the bounds.
	New func(args []float64) (Streamer, error)
}

// The parameters and outputs the registry entries of both families share.

// periodParam is a period from lo to [MaxPeriod].
func periodParam(name string, def, lo float64) Param {
	return Param{Name: name, Kind: IntParam, Default: def, Min: lo, Max: MaxPeriod}
}

// timePeriod is the parameters of a function with one period, TA-Lib's
// timeperiod.
func timePeriod(def, lo float64) []Param { return []Param{periodParam("timeperiod", def, lo)} }

func floatParam(name string, def, lo, hi float64) Param {
	return Param{Name: name, Kind: FloatParam, Default: def, Min: lo, Max: hi}
}

func maParam(name string) Param {
	return Param{Name: name, Kind: MATypeParam, Default: float64(SMAType), Min: float64(SMAType), Max: float64(T3Type)}
}

// outValue is the outputs of a one-output function: written under the spec's
// name alone.
var outValue = []string{""}

// MAType is a moving-average type, numbered as TA-Lib numbers them.
type MAType int

// The moving-average types.
const (
	SMAType MAType = iota
	EMAType
	WMAType
	DEMAType
	TEMAType
	TRIMAType
	KAMAType
	MAMAType
	T3Type
)

var maTypeNames = [...]string{"sma", "ema", "wma", "dema", "tema", "trima", "kama", "mama", "t3"}

// String returns the type's name in specs: "sma", "ema", ...
func (t MAType) String() string {
	if t >= 0 && int(t) < len(maTypeNames) {
		return maTypeNames[t]
	}
	return "matype(" + strconv.Itoa(int(t)) + ")"
}

// ParseMAType reads a moving-average type by name (case-insensitive) or by
// TA-Lib's number.
func ParseMAType(s string) (MAType, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := slices.Index(maTypeNames[:], s); i >= 0 {
		return MAType(i), nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 0 && n < len(maTypeNames) {
		return MAType(n), nil
	}
	return 0, fmt.Errorf("indicators: moving-average type %q: want one of %s", s, strings.Join(maTypeNames[:], ", "))
}

// ErrSpec reports an indicator spec that cannot be read; test with errors.Is.
var ErrSpec = errors.New("bad indicator spec")

// funcs is every registered function, by name.
var funcs = func() map[string]*Func {
	m := make(map[string]*Func)
	for _, group := range [][]Func{maFuncs, priceFuncs} {
		for i := range group {
			f := &group[i]
			if _, dup := m[f.Name]; dup {
				panic("indicators: function " + f.Name + " registered twice")
			}
			m[f.Name] = f
		}
	}
	return m
}()

// Lookup returns the function of that name (case-insensitive).
func Lookup(name string) (*Func, bool) {
	f, ok := funcs[strings.ToLower(name)]
	return f, ok
}

// Funcs returns every function, sorted by name.
func Funcs() []*Func {
	out := make([]*Func, 0, len(funcs))
	for _, f := range funcs {
		out = append(out, f)
	}
	slices.SortFunc(out, func(a, b *Func) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Spec is one indicator asked for by name: a function, its arguments and the
// name its fields are written under.
type Spec struct {
	Name string    // the name= given, or the function's name
	Func *Func     // never nil in a parsed Spec
	Args []float64 // one per Func.Params, defaults filled in
}

// New builds the indicator the spec describes.
func (s Spec) New() (Streamer, error) {
	st, err := s.Func.New(s.Args)
	if err != nil {
		return nil, fmt.Errorf("indicators: %s: %w", s, err)
	}
	return st, nil
}

// Fields names the spec's outputs as they are written: NAME for an output
// with an empty name, NAME_OUTPUT for the others.
func (s Spec) Fields() []string {
	out := make([]string, len(s.Func.Outputs))
	for i, o := range s.Func.Outputs {
		if o == "" {
			out[i] = s.Name
		} else {
			out[i] = s.Name + "_" + o
		}
	}
	return out
}

// String writes the spec back in the form [ParseSpec] reads, with every
// argument: "slow=sma(200)", "macd(12,26,9)".
func (s Spec) String() string {
	var b strings.Builder
	if s.Name != s.Func.Name {
		b.WriteString(s.Name)
		b.WriteByte('=')
	}
	b.WriteString(s.Func.Name)
	b.WriteByte('(')
	for i, p := range s.Func.Params {
		if i > 0 {
			b.WriteByte(',')
		}
		if p.Kind == MATypeParam {
			b.WriteString(MAType(s.Args[i]).String())
		} else {
			b.WriteString(strconv.FormatFloat(s.Args[i], 'g', -1, 64))
		}
	}
	b.WriteByte(')')
	return b.String()
}

// ParseSpecs reads a comma-separated list of specs, as
// "macd(12,26,9),bbands(20,2,2),slow=sma(200)". Commas inside parentheses
// separate arguments. Two specs with the same name are an error that says to
// add name=.
func ParseSpecs(list string) ([]Spec, error) {
	var out []Spec
	seen := make(map[string]bool)
	depth, start := 0, 0
	flush := func(end int) error {
		item := strings.TrimSpace(list[start:end])
		if item == "" {
			return fmt.Errorf("indicators: empty spec in %q: %w", list, ErrSpec)
		}
		s, err := ParseSpec(item)
		if err != nil {
			return err
		}
		if seen[s.Name] {
			return fmt.Errorf("indicators: %q: the name %q is used twice; add name= to one (as slow=%s): %w",
				item, s.Name, item, ErrSpec)
		}
		seen[s.Name] = true
		out = append(out, s)
		return nil
	}
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	for i := 0; i < len(list); i++ {
		switch list[i] {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, fmt.Errorf("indicators: %q: unbalanced ')' at offset %d: %w", list, i, ErrSpec)
			}
		case ',':
			if depth == 0 {
				if err := flush(i); err != nil {
					return nil, err
				}
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("indicators: %q: unclosed '(': %w", list, ErrSpec)
	}
	if err := flush(len(list)); err != nil {
		return nil, err
	}
	return out, nil
}

// ParseSpec reads one spec: [NAME=]FUNC[(ARG,...)]. Arguments left out take
// their defaults; a name is letters, digits and underscores, starting with a
// letter.
func ParseSpec(spec string) (Spec, error) {
	fail := func(format string, a ...any) (Spec, error) {
		return Spec{}, fmt.Errorf("indicators: %q: %s: %w", spec, fmt.Sprintf(format, a...), ErrSpec)
	}
	s := strings.TrimSpace(spec)
	name := ""
	if i := strings.IndexByte(s, '='); i >= 0 && !strings.Contains(s[:i], "(") {
		name, s = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
		if !validName(name) {
			return fail("name %q: want letters, digits and _, starting with a letter", name)
		}
	}
	fn, rest := s, ""
	if i := strings.IndexByte(s, '('); i >= 0 {
		if !strings.HasSuffix(s, ")") {
			return fail("missing ')' at the end")
		}
		fn, rest = strings.TrimSpace(s[:i]), s[i+1:len(s)-1]
	}
	f, ok := Lookup(fn)
	if !ok {
		return fail("unknown function %q (see tickflow indicators for the list)", fn)
	}
	if name == "" {
		name = f.Name
	}
	var raw []string
	if strings.TrimSpace(rest) != "" {
		raw = strings.Split(rest, ",")
	}
	if len(raw) > len(f.Params) {
		return fail("%d arguments, %s takes at most %d (%s)", len(raw), f.Name, len(f.Params), paramNames(f))
	}
	args := make([]float64, len(f.Params))
	for i, p := range f.Params {
		if i >= len(raw) {
			args[i] = p.Default
			continue
		}
		v, err := parseArg(p, strings.TrimSpace(raw[i]))
		if err != nil {
			return fail("%s: %v", p.Name, err)
		}
		args[i] = v
	}
	return Spec{Name: name, Func: f, Args: args}, nil
}

func parseArg(p Param, s string) (float64, error) {
	var v float64
	switch p.Kind {
	case MATypeParam:
		t, err := ParseMAType(s)
		if err != nil {
			return 0, err
		}
		v = float64(t)
	default:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("%q is not a number", s)
		}
		if p.Kind == IntParam && f != math.Trunc(f) {
			return 0, fmt.Errorf("%q is not a whole number", s)
		}
		v = f
	}
	if v < p.Min || v > p.Max {
		return 0, fmt.Errorf("%s is outside %g..%g", s, p.Min, p.Max)
	}
	return v, nil
}

func paramNames(f *Func) string {
	names := make([]string, len(f.Params))
	for i, p := range f.Params {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return false
		}
	}
	return true
}
