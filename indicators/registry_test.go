package indicators

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseSpecs(t *testing.T) {
	type want struct {
		name   string
		fields []string
		args   []float64
	}
	cases := []struct {
		in    string
		want  []want
		err   string // a part of the error message; "" for none
		isSpc bool   // the error wraps ErrSpec
	}{
		{in: "macd(12,26,9),bbands(20,2,2),slow=sma(200)", want: []want{
			{"macd", []string{"macd", "macd_signal", "macd_hist"}, []float64{12, 26, 9}},
			{"bbands", []string{"bbands_upper", "bbands_middle", "bbands_lower"}, []float64{20, 2, 2, 0}},
			{"slow", []string{"slow"}, []float64{200}},
		}},
		{in: "", want: nil},
		{in: "  ", want: nil},
		{in: "sma", want: []want{{"sma", []string{"sma"}, []float64{30}}}},
		{in: "SMA(10)", want: []want{{"sma", []string{"sma"}, []float64{10}}}},
		{in: " fast = ema ( 5 ) , Slow=EMA(50)", want: []want{
			{"fast", []string{"fast"}, []float64{5}}, {"Slow", []string{"Slow"}, []float64{50}}}},
		{in: "macdext(12,ema,26,EMA,9,3)", want: []want{
			{"macdext", []string{"macdext", "macdext_signal", "macdext_hist"}, []float64{12, 1, 26, 1, 9, 3}}}},
		{in: "stoch(5,3,sma,3)", want: []want{{"stoch", []string{"stoch_k", "stoch_d"}, []float64{5, 3, 0, 3, 0}}}},
		{in: "k=stochrsi(14,14,3,t3)", want: []want{{"k", []string{"k_k", "k_d"}, []float64{14, 14, 3, 8}}}},
		{in: "t3(5,0.25),sma(1e2)", want: []want{
			{"t3", []string{"t3"}, []float64{5, 0.25}}, {"sma", []string{"sma"}, []float64{100}}}},

		{in: "sma,sma(5)", err: `the name "sma" is used twice; add name=`, isSpc: true},
		{in: "nosuch(3)", err: `unknown function "nosuch"`, isSpc: true},
		{in: "sma(0)", err: "timeperiod: 0 is outside 1..100000", isSpc: true},
		{in: "rsi(1)", err: "timeperiod: 1 is outside 2..100000", isSpc: true},
		{in: "sma(2.5)", err: `timeperiod: "2.5" is not a whole number`, isSpc: true},
		{in: "sma(abc)", err: `timeperiod: "abc" is not a number`, isSpc: true},
		{in: "sma(NaN)", err: `"NaN" is not a number`, isSpc: true},
		{in: "bbands(5,inf)", err: `nbdevup: "inf" is not a number`, isSpc: true},
		{in: "sma(1,2)", err: "2 arguments, sma takes at most 1 (timeperiod)", isSpc: true},
		{in: "sma(3", err: "unclosed '('", isSpc: true},
		{in: "sma)", err: "unbalanced ')' at offset 3", isSpc: true},
		{in: "1x=sma", err: `name "1x"`, isSpc: true},
		{in: "macd(12,26,9),", err: "empty spec", isSpc: true},
		{in: "macdext(12,foo)", err: `fastmatype: indicators: moving-average type "foo"`, isSpc: true},
		{in: "t3(5,2)", err: "vfactor: 2 is outside 0..1", isSpc: true},
		{in: "apo(12,26,9)", err: "matype: indicators: moving-average type \"9\"", isSpc: true},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := ParseSpecs(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one containing %q", err, c.err)
				}
				if c.isSpc && !errors.Is(err, ErrSpec) {
					t.Fatalf("error %v does not wrap ErrSpec", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(c.want) {
				t.Fatalf("%d specs, want %d", len(got), len(c.want))
			}
			for i, w := range c.want {
				if got[i].Name != w.name || !slices.Equal(got[i].Fields(), w.fields) || !slices.Equal(got[i].Args, w.args) {
					t.Errorf("spec %d: name %q fields %q args %v; want %q %q %v",
						i, got[i].Name, got[i].Fields(), got[i].Args, w.name, w.fields, w.args)
				}
			}
		})
	}
}

// Arguments that ParseSpec would refuse fail in Spec.New too, with the spec
// and the constructor named.
func TestSpecNewErrors(t *testing.T) {
	spec := func(name string, args ...float64) Spec {
		f, _ := Lookup(name)
		return Spec{Name: name, Func: f, Args: args}
	}
	for _, c := range []struct {
		spec   Spec
		target error
		msg    string
	}{
		{spec("macdext", 12, 1, 26, 1, 9, 12), ErrMAType, "indicators: macdext(12,ema,26,ema,9,matype(12)): indicators.NewMACDExt: signal type 12"},
		{spec("sma", 0), ErrPeriod, "indicators: sma(0): indicators.NewSMA: n = 0"},
		{spec("mama", 0.5, 1), ErrParam, "indicators.NewMAMA: slowlimit = 1"},
		{spec("stochrsi", 14, 5, 3, -1), ErrMAType, "indicators.NewStochRSIMA: smoothK type -1"},
	} {
		_, err := c.spec.New()
		if !errors.Is(err, c.target) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v: error %v, want %v naming %q", c.spec, err, c.target, c.msg)
		}
	}
}

// The output names are a contract other programs read.
func TestMAFuncOutputs(t *testing.T) {
	want := map[string][]string{
		"sma": {""}, "ema": {""}, "wma": {""}, "dema": {""}, "tema": {""}, "trima": {""}, "kama": {""},
		"t3": {""}, "rsi": {""}, "cmo": {""}, "apo": {""}, "ppo": {""}, "trix": {""}, "stddev": {""}, "var": {""},
		"macd": {"", "signal", "hist"}, "macdext": {"", "signal", "hist"},
		"bbands": {"upper", "middle", "lower"},
		"stoch":  {"k", "d"}, "stochf": {"k", "d"}, "stochrsi": {"k", "d"}, "mama": {"", "fama"},
	}
	if len(maFuncs) != len(want) {
		t.Errorf("%d functions in maFuncs, want %d", len(maFuncs), len(want))
	}
	for _, f := range maFuncs {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("%s: not in the list", f.Name)
			continue
		}
		if !slices.Equal(f.Outputs, w) {
			t.Errorf("%s: outputs %q, want %q", f.Name, f.Outputs, w)
		}
		if f.Doc == "" {
			t.Errorf("%s: no Doc", f.Name)
		}
		if fl, ok := Lookup(strings.ToUpper(f.Name)); !ok || fl.Name != f.Name {
			t.Errorf("Lookup(%q) = %v, %v", strings.ToUpper(f.Name), fl, ok)
		}
	}
}

// Every function builds with its defaults, and its spec's String reads back
// as the same spec.
func TestDefaultSpecsRoundTrip(t *testing.T) {
	for _, f := range Funcs() {
		spec, err := ParseSpec(f.Name)
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		for i, p := range f.Params {
			if p.Default < p.Min || p.Default > p.Max {
				t.Errorf("%s: %s default %v outside %v..%v", f.Name, p.Name, p.Default, p.Min, p.Max)
			}
			if spec.Args[i] != p.Default {
				t.Errorf("%s: %s = %v, default %v", f.Name, p.Name, spec.Args[i], p.Default)
			}
		}
		st, err := spec.New()
		if err != nil {
			t.Fatalf("%s: %v", spec, err)
		}
		if st.String() == "" || st.IdlePeriod() < 0 {
			t.Errorf("%s: String %q, IdlePeriod %d", spec, st, st.IdlePeriod())
		}
		again, err := ParseSpec(spec.String())
		if err != nil || again.String() != spec.String() || !slices.Equal(again.Args, spec.Args) {
			t.Errorf("%s reads back as %v, %v", spec, again, err)
		}
	}
}

// FuzzParseSpecs: any input either parses into specs that keep every rule
// (known function, one argument per parameter within its bounds, unique
// names, a String that reads back the same) or fails with ErrSpec; nothing
// panics.
func FuzzParseSpecs(f *testing.F) {
	for _, s := range []string{
		"macd(12,26,9),bbands(20,2,2),slow=sma(200)", "sma", "x=ema(5),y=EMA(6)", "macdext(12,ema,26,3,9,t3)",
		"stoch(5,3,sma,3,sma)", "t3(5,0.7)", "sma(", "sma)", "=sma", "a==sma", "sma(1,,2)", "sma(1e5)",
		"bbands(5,-2,2e0)", "((", ",", "rsi(0x10)", "stddev(5,-0)", "sma(1_0)", "stochrsi(14,14,3,MAMA)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		specs, err := ParseSpecs(in)
		if err != nil {
			if !errors.Is(err, ErrSpec) {
				t.Fatalf("ParseSpecs(%q): error %v does not wrap ErrSpec", in, err)
			}
			return
		}
		names := make(map[string]bool)
		var back []string
		for _, s := range specs {
			if s.Func == nil || len(s.Args) != len(s.Func.Params) {
				t.Fatalf("ParseSpecs(%q): %+v", in, s)
			}
			if names[s.Name] {
				t.Fatalf("ParseSpecs(%q): name %q twice", in, s.Name)
			}
			names[s.Name] = true
			for i, p := range s.Func.Params {
				if a := s.Args[i]; a < p.Min || a > p.Max {
					t.Fatalf("ParseSpecs(%q): %s %s = %v outside %v..%v", in, s.Func.Name, p.Name, a, p.Min, p.Max)
				}
			}
			if len(s.Fields()) != len(s.Func.Outputs) {
				t.Fatalf("ParseSpecs(%q): fields %q", in, s.Fields())
			}
			back = append(back, s.String())
		}
		again, err := ParseSpecs(strings.Join(back, ","))
		if err != nil || len(again) != len(specs) {
			t.Fatalf("ParseSpecs(%q) wrote back as %q: %v", in, back, err)
		}
		for i := range again {
			if again[i].String() != back[i] || !slices.Equal(again[i].Args, specs[i].Args) {
				t.Fatalf("ParseSpecs(%q): %q reads back as %q", in, back[i], again[i])
			}
		}
	})
}
