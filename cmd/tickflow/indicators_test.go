package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/indicators"
)

func TestIndicatorsListsEveryFunction(t *testing.T) {
	out, stderr, code := cmdline(t, "indicators")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(out, "\n")
	for _, f := range indicators.Funcs() {
		// A block of three lines: name and doc, parameters, fields.
		i := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, f.Name+" ") })
		if i < 0 || i+2 >= len(lines) {
			t.Errorf("no block for %s:\n%s", f.Name, out)
			continue
		}
		block := strings.Join(lines[i:i+3], "\n")
		for _, p := range f.Params {
			if !strings.Contains(lines[i+1], " "+p.Name+"=") {
				t.Errorf("%s's block lacks parameter %s:\n%s", f.Name, p.Name, block)
			}
		}
		if len(f.Params) == 0 && !strings.HasSuffix(lines[i+1], "parameters  none") {
			t.Errorf("%s's block does not say it has no parameters:\n%s", f.Name, block)
		}
	}
	for _, want := range []string{
		"macd, macd_signal, macd_hist",
		"fastperiod=12 [2..100000]",
		"matype=sma [type]",
		"sma, ema, wma, dema, tema, trima, kama, mama, t3, or TA-Lib's number 0..8",
		"acceleration=0.02 [0..any]",
		"aroon_down, aroon_up",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestIndicatorsJSON(t *testing.T) {
	out, stderr, code := cmdline(t, "indicators", "--format", "json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var list []indicatorInfo
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	funcs := indicators.Funcs()
	if len(list) != len(funcs) {
		t.Fatalf("%d functions listed, %d registered", len(list), len(funcs))
	}
	for i, got := range list {
		f := funcs[i]
		if got.Name != f.Name || len(got.Params) != len(f.Params) || !slices.Equal(got.Outputs, f.Outputs) {
			t.Errorf("listed %+v for %s", got, f.Name)
			continue
		}
		// The spec listed is every default written out: it must parse back
		// to the function's defaults and fields.
		spec, err := indicators.ParseSpec(got.Spec)
		if err != nil {
			t.Errorf("%s: spec %q does not parse: %v", f.Name, got.Spec, err)
			continue
		}
		if !slices.Equal(spec.Fields(), got.Fields) {
			t.Errorf("%s: fields %v, the spec writes %v", f.Name, got.Fields, spec.Fields())
		}
		for j, p := range f.Params {
			gp := got.Params[j]
			if gp.Name != p.Name {
				t.Errorf("%s parameter %d: %q, want %q", f.Name, j, gp.Name, p.Name)
			}
			if p.Kind == indicators.MATypeParam {
				if gp.Kind != "matype" || gp.Default != indicators.MAType(p.Default).String() {
					t.Errorf("%s.%s: %+v", f.Name, p.Name, gp)
				}
				continue
			}
			if gp.Default != p.Default || gp.Min == nil || *gp.Min != p.Min || gp.Max == nil || *gp.Max != p.Max {
				t.Errorf("%s.%s: %+v, want default %v in %v..%v", f.Name, p.Name, gp, p.Default, p.Min, p.Max)
			}
		}
	}
}

func TestIndicatorsUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"indicators", "--format", "xml"},
		{"indicators", "macd"},
	} {
		_, stderr, code := cmdline(t, args...)
		if code != exitUsage || !strings.Contains(stderr, args[len(args)-1]) {
			t.Errorf("%v: exit %d, stderr %q; want a usage error naming %q", args, code, stderr, args[len(args)-1])
		}
	}
}
