package indicators

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestPriceConstructorsValidate(t *testing.T) {
	checkConstructors(t, []ctorCase{
		{"ATR(1)", func() error { _, err := NewATR(1); return err }, nil, ""},
		{"ATR(0)", func() error { _, err := NewATR(0); return err }, ErrPeriod, "indicators.NewATR: n = 0"},
		{"NATR(-1)", func() error { _, err := NewNATR(-1); return err }, ErrPeriod, "indicators.NewNATR: n = -1"},
		{"ADX(2)", func() error { _, err := NewADX(2); return err }, nil, ""},
		{"ADX(1)", func() error { _, err := NewADX(1); return err }, ErrPeriod, "indicators.NewADX: n = 1"},
		{"ADXR(1)", func() error { _, err := NewADXR(1); return err }, ErrPeriod, "indicators.NewADXR: n = 1"},
		{"DX(1)", func() error { _, err := NewDX(1); return err }, ErrPeriod, "indicators.NewDX: n = 1"},
		{"PLUS_DI(1)", func() error { _, err := NewPlusDI(1); return err }, nil, ""},
		{"PLUS_DI(0)", func() error { _, err := NewPlusDI(0); return err }, ErrPeriod, "indicators.NewPlusDI: n = 0"},
		{"MINUS_DI(max+1)", func() error { _, err := NewMinusDI(MaxPeriod + 1); return err }, ErrPeriod, "indicators.NewMinusDI: n = 100001"},
		{"CCI(1)", func() error { _, err := NewCCI(1); return err }, ErrPeriod, "indicators.NewCCI: n = 1"},
		{"MFI(1)", func() error { _, err := NewMFI(1); return err }, ErrPeriod, "indicators.NewMFI: n = 1"},
		{"ADOSC(1,10)", func() error { _, err := NewADOSC(1, 10); return err }, ErrPeriod, "indicators.NewADOSC: fast = 1"},
		{"ADOSC(3,1)", func() error { _, err := NewADOSC(3, 1); return err }, ErrPeriod, "indicators.NewADOSC: slow = 1"},
		{"ROC(0)", func() error { _, err := NewROC(0); return err }, ErrPeriod, "indicators.NewROC: n = 0"},
		{"ROCP(0)", func() error { _, err := NewROCP(0); return err }, ErrPeriod, "indicators.NewROCP: n = 0"},
		{"MOM(1)", func() error { _, err := NewMOM(1); return err }, nil, ""},
		{"WILLR(1)", func() error { _, err := NewWillR(1); return err }, ErrPeriod, "indicators.NewWillR: n = 1"},
		{"AROON(1)", func() error { _, err := NewAroon(1); return err }, ErrPeriod, "indicators.NewAroon: n = 1"},
		{"AROONOSC(1)", func() error { _, err := NewAroonOsc(1); return err }, ErrPeriod, "indicators.NewAroonOsc: n = 1"},
		{"ULTOSC(1,1,1)", func() error { _, err := NewUltOsc(1, 1, 1); return err }, nil, ""},
		{"ULTOSC(7,0,28)", func() error { _, err := NewUltOsc(7, 0, 28); return err }, ErrPeriod, "indicators.NewUltOsc: p2 = 0"},
		{"LINEARREG(1)", func() error { _, err := NewLinearReg(1); return err }, ErrPeriod, "indicators.NewLinearReg: n = 1"},
		{"LINEARREG_SLOPE(1)", func() error { _, err := NewLinearRegSlope(1); return err }, ErrPeriod, "indicators.NewLinearRegSlope: n = 1"},
		{"LINEARREG_ANGLE(1)", func() error { _, err := NewLinearRegAngle(1); return err }, ErrPeriod, "indicators.NewLinearRegAngle: n = 1"},
		{"LINEARREG_INTERCEPT(1)", func() error { _, err := NewLinearRegIntercept(1); return err }, ErrPeriod, "indicators.NewLinearRegIntercept: n = 1"},
		{"MIDPOINT(1)", func() error { _, err := NewMidPoint(1); return err }, ErrPeriod, "indicators.NewMidPoint: n = 1"},
		{"MIDPRICE(1)", func() error { _, err := NewMidPrice(1); return err }, ErrPeriod, "indicators.NewMidPrice: n = 1"},
		{"MAX(1)", func() error { _, err := NewMax(1); return err }, ErrPeriod, "indicators.NewMax: n = 1"},
		{"MIN(1)", func() error { _, err := NewMin(1); return err }, ErrPeriod, "indicators.NewMin: n = 1"},
		{"SAR(0,0)", func() error { _, err := NewSAR(0, 0); return err }, nil, ""},
		{"SAR(-0.1,0.2)", func() error { _, err := NewSAR(-0.1, 0.2); return err }, ErrParam, "indicators.NewSAR: acceleration = -0.1"},
		{"SAR(0.02,NaN)", func() error { _, err := NewSAR(0.02, math.NaN()); return err }, ErrParam, "indicators.NewSAR: maximum = NaN"},
		{"SAR(0.02,Inf)", func() error { _, err := NewSAR(0.02, math.Inf(1)); return err }, ErrParam, "indicators.NewSAR: maximum = +Inf"},
	})
}

// The registry entries carry TA-Lib's names, defaults, bounds and output
// names, and build what they describe.
func TestPriceRegistry(t *testing.T) {
	cases := []struct {
		spec   string
		str    string   // the indicator's String
		fields []string // the spec's field names
	}{
		{"atr", "ATR(14)", []string{"atr"}},
		{"natr", "NATR(14)", []string{"natr"}},
		{"trange", "TRANGE()", []string{"trange"}},
		{"adx", "ADX(14)", []string{"adx"}},
		{"adxr", "ADXR(14)", []string{"adxr"}},
		{"plus_di", "PLUS_DI(14)", []string{"plus_di"}},
		{"minus_di", "MINUS_DI(14)", []string{"minus_di"}},
		{"dx", "DX(14)", []string{"dx"}},
		{"cci", "CCI(14)", []string{"cci"}},
		{"mfi", "MFI(14)", []string{"mfi"}},
		{"obv", "OBV()", []string{"obv"}},
		{"ad", "AD()", []string{"ad"}},
		{"adosc", "ADOSC(3,10)", []string{"adosc"}},
		{"roc", "ROC(10)", []string{"roc"}},
		{"rocp", "ROCP(10)", []string{"rocp"}},
		{"mom", "MOM(10)", []string{"mom"}},
		{"willr", "WILLR(14)", []string{"willr"}},
		{"aroon", "AROON(14)", []string{"aroon_down", "aroon_up"}},
		{"fast=AROON(5)", "AROON(5)", []string{"fast_down", "fast_up"}},
		{"aroonosc", "AROONOSC(14)", []string{"aroonosc"}},
		{"ultosc", "ULTOSC(7,14,28)", []string{"ultosc"}},
		{"ultosc(28,7,14)", "ULTOSC(28,7,14)", []string{"ultosc"}},
		{"bop", "BOP()", []string{"bop"}},
		{"medprice", "MEDPRICE()", []string{"medprice"}},
		{"typprice", "TYPPRICE()", []string{"typprice"}},
		{"linearreg", "LINEARREG(14)", []string{"linearreg"}},
		{"linearreg_slope", "LINEARREG_SLOPE(14)", []string{"linearreg_slope"}},
		{"linearreg_angle", "LINEARREG_ANGLE(14)", []string{"linearreg_angle"}},
		{"linearreg_intercept", "LINEARREG_INTERCEPT(14)", []string{"linearreg_intercept"}},
		{"sar", "SAR(0.02,0.2)", []string{"sar"}},
		{"midpoint", "MIDPOINT(14)", []string{"midpoint"}},
		{"midprice", "MIDPRICE(14)", []string{"midprice"}},
		{"max", "MAX(30)", []string{"max"}},
		{"min", "MIN(30)", []string{"min"}},
		{"vwap", "VWAP(1440,0)", []string{"vwap"}},
		{"vwap(10080,5760)", "VWAP(10080,5760)", []string{"vwap"}},
		{"heikinashi", "HEIKINASHI()", []string{"heikinashi_open", "heikinashi_high", "heikinashi_low", "heikinashi_close"}},
	}
	seen := make(map[string]bool)
	for _, c := range cases {
		sp, err := ParseSpec(c.spec)
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		seen[sp.Func.Name] = true
		st, err := sp.New()
		if err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		if st.String() != c.str {
			t.Errorf("%s: String() = %q, want %q", c.spec, st.String(), c.str)
		}
		if got := strings.Join(sp.Fields(), ","); got != strings.Join(c.fields, ",") {
			t.Errorf("%s: fields %s, want %s", c.spec, got, strings.Join(c.fields, ","))
		}
	}
	for i := range priceFuncs {
		if !seen[priceFuncs[i].Name] {
			t.Errorf("%s has no registry case", priceFuncs[i].Name)
		}
	}
	for _, bad := range []string{"atr(0)", "adx(1)", "ultosc(7,14,0)", "sar(-1)", "vwap(0)", "atr(1.5)", "trange(3)"} {
		if _, err := ParseSpec(bad); !errors.Is(err, ErrSpec) {
			t.Errorf("ParseSpec(%q) = %v, want an ErrSpec", bad, err)
		}
	}
	// Bounds that depend on another parameter are the constructor's.
	sp, err := ParseSpec("vwap(60,60)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sp.New(); !errors.Is(err, ErrPeriod) || !strings.Contains(err.Error(), "vwap(60,60)") {
		t.Errorf("vwap(60,60).New() = %v, want an ErrPeriod naming the spec", err)
	}
}

// Updates must not allocate: the pipeline calls them once per bar per symbol.
func TestPriceUpdatesAllocateNothing(t *testing.T) {
	s := randomBars("alloc", 41, 1000, 0.01, 0.05)
	for i := range priceFuncs {
		st, out := defaultStreamer(t, &priceFuncs[i])
		k := 0
		// 900 runs cover the warm-up and the steady state.
		if n := testing.AllocsPerRun(900, func() { st.Update(s.bar(k%s.len()), out); k++ }); n != 0 {
			t.Errorf("%v: %v allocations per update, want 0", st, n)
		}
	}
}
