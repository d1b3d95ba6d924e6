package backtest_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/backtest"
)

func TestParseParam(t *testing.T) {
	tests := []struct {
		spec string
		want []float64
		err  string
	}{
		{"14", []float64{14}, ""},
		{"20,50,100,200", []float64{20, 50, 100, 200}, ""},
		{"5:50:5", []float64{5, 10, 15, 20, 25, 30, 35, 40, 45, 50}, ""},
		{"2:5", []float64{2, 3, 4, 5}, ""},
		{"0.1:0.3:0.1", []float64{0.1, 0.2, 0.30000000000000004}, ""},
		{"5,10:20:5", []float64{5, 10, 15, 20}, ""},
		{"3:3", []float64{3}, ""},
		{"50:5", nil, "empty range"},
		{"1:5:0", nil, "empty range"},
		{"1:5:-1", nil, "empty range"},
		{"", nil, "no values"},
		{"a", nil, "not a number"},
		{"1:2:3:4", nil, "a:b or a:b:step"},
		{"1:1e12", nil, "more than"},
		{"NaN", nil, "not a number"},
	}
	for _, tt := range tests {
		p, err := backtest.ParseParam("fast", tt.spec)
		if tt.err != "" {
			if !errors.Is(err, backtest.ErrUsage) || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), "--fast") {
				t.Errorf("%q: err %v, want ErrUsage naming --fast with %q", tt.spec, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(p.Values, tt.want) {
			t.Errorf("%q: %v %v, want %v", tt.spec, p.Values, err, tt.want)
		}
	}
}

func TestParseWhere(t *testing.T) {
	names := []string{"fast", "slow", "oversold"}
	tests := []struct {
		src  string
		vals []float64
		want bool
		err  string
	}{
		{"fast<slow", []float64{5, 20, 0}, true, ""},
		{"fast < slow", []float64{20, 20, 0}, false, ""},
		{"fast<=slow && oversold>=10", []float64{20, 20, 10}, true, ""},
		{"fast<=slow && oversold>=10", []float64{20, 20, 5}, false, ""},
		{"fast*4 >= slow || oversold == 15", []float64{5, 50, 15}, true, ""},
		{"!(fast < slow)", []float64{5, 50, 0}, false, ""},
		{"slow - fast > 10", []float64{5, 50, 0}, true, ""},
		{"slow-fast>10", []float64{45, 50, 0}, false, ""},
		{"fast / 2 != 3", []float64{6, 0, 0}, false, ""},
		{"-fast < 0", []float64{6, 0, 0}, true, ""},
		{"1e1 == 10", nil, true, ""},
		{"fast < slwo", nil, false, `unknown parameter "slwo"`},
		{"fast <", nil, false, "unexpected end"},
		{"(fast < slow", nil, false, "missing )"},
		{"fast < slow)", nil, false, `unexpected ")"`},
		{"fast ? slow", nil, false, `unexpected "?"`},
		{strings.Repeat("(", 100) + "1" + strings.Repeat(")", 100), nil, false, "nested"},
	}
	for _, tt := range tests {
		e, err := backtest.ParseWhere(tt.src, names)
		if tt.err != "" {
			if !errors.Is(err, backtest.ErrUsage) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.src, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.src, err)
			continue
		}
		if got := e.Eval(append(tt.vals, 0, 0, 0)); got != tt.want {
			t.Errorf("%q on %v = %v, want %v", tt.src, tt.vals, got, tt.want)
		}
	}
}

func FuzzParseWhere(f *testing.F) {
	for _, s := range []string{"fast<slow", "fast < slow && slow <= 4*fast", "!(a||b)", "((1))", "1e-3<fast", "fast<<slow", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := backtest.ParseWhere(src, []string{"fast", "slow"})
		if err != nil {
			if !errors.Is(err, backtest.ErrUsage) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%q: error %v is not one ErrUsage line", src, err)
			}
			return
		}
		if e.String() != src {
			t.Fatalf("String %q, want %q", e.String(), src)
		}
		for _, v := range [][]float64{{1, 2}, {2, 1}, {0, 0}, {math.NaN(), 1}, {math.Inf(1), -1}} {
			e.Eval(v) // must not panic
		}
	})
}

func FuzzParseParam(f *testing.F) {
	for _, s := range []string{"14", "5:50:5", "20,50,100", "0.1:0.3:0.1", "5:1", "1:2:0", "1e300:1e301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		p, err := backtest.ParseParam("x", spec)
		if err != nil {
			if !errors.Is(err, backtest.ErrUsage) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("%q: error %v is not one ErrUsage line", spec, err)
			}
			return
		}
		if len(p.Values) == 0 || len(p.Values) > backtest.MaxValues {
			t.Fatalf("%q: %d values", spec, len(p.Values))
		}
		for _, v := range p.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%q: value %v", spec, v)
			}
		}
	})
}
