package indicators

import (
	"errors"
	"math"
	"strings"
	"testing"

	talib "github.com/markcheno/go-talib"
)

// ctorCase is one constructor call and the error it must return: none for
// a nil target; otherwise one wrapping target whose message starts with the
// constructor ("indicators.New...") and names msg, or starts with msg when
// msg names the constructor itself.
type ctorCase struct {
	name   string
	make   func() error
	target error
	msg    string
}

// checkConstructors is the one runner of the constructor tables of both
// families.
func checkConstructors(t *testing.T, cases []ctorCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.make()
			if c.target == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, c.target) {
				t.Fatalf("error %v does not wrap %v", err, c.target)
			}
			named := strings.Contains(err.Error(), c.msg)
			if strings.HasPrefix(c.msg, "indicators.") {
				named = strings.HasPrefix(err.Error(), c.msg)
			}
			if !named || !strings.HasPrefix(err.Error(), "indicators.New") {
				t.Fatalf("error %q should start with the constructor and name %q", err, c.msg)
			}
		})
	}
}

func TestConstructorsValidate(t *testing.T) {
	checkConstructors(t, []ctorCase{
		{"EMA(1)", func() error { _, err := NewEMA(1); return err }, nil, ""},
		{"EMA(0)", func() error { _, err := NewEMA(0); return err }, ErrPeriod, "n = 0"},
		{"EMA(-3)", func() error { _, err := NewEMA(-3); return err }, ErrPeriod, "n = -3"},
		{"EMA(max)", func() error { _, err := NewEMA(MaxPeriod); return err }, nil, ""},
		{"EMA(max+1)", func() error { _, err := NewEMA(MaxPeriod + 1); return err }, ErrPeriod, "n = 100001"},
		{"RSI(2)", func() error { _, err := NewRSI(2); return err }, nil, ""},
		{"RSI(1)", func() error { _, err := NewRSI(1); return err }, ErrPeriod, "n = 1"},
		{"StochRSI(14,14,3)", func() error { _, err := NewStochRSI(14, 14, 3); return err }, nil, ""},
		{"StochRSI(2,1,1)", func() error { _, err := NewStochRSI(2, 1, 1); return err }, nil, ""},
		{"StochRSI(1,14,3)", func() error { _, err := NewStochRSI(1, 14, 3); return err }, ErrPeriod, "rsi = 1"},
		{"StochRSI(14,0,3)", func() error { _, err := NewStochRSI(14, 0, 3); return err }, ErrPeriod, "stoch = 0"},
		{"StochRSI(14,14,0)", func() error { _, err := NewStochRSI(14, 14, 0); return err }, ErrPeriod, "d = 0"},
		{"StochRSI(14,14,-1)", func() error { _, err := NewStochRSI(14, 14, -1); return err }, ErrPeriod, "d = -1"},
		{"SmoothStochRSI(14,14,0,3)", func() error { _, err := NewSmoothStochRSI(14, 14, 0, 3); return err }, ErrPeriod, "smoothK = 0"},
		{"SmoothStochRSI(14,14,3,3)", func() error { _, err := NewSmoothStochRSI(14, 14, 3, 3); return err }, nil, ""},
		{"Set zero Config", func() error { _, err := NewSet(Config{}); return err }, nil, ""},
		{"Set EMA -1", func() error { _, err := NewSet(Config{EMA: -1}); return err }, ErrPeriod, "EMA: n = -1"},
		{"Set RSI 1", func() error { _, err := NewSet(Config{RSI: 1}); return err }, ErrPeriod, "rsi = 1"},
		{"Set SmoothK -2", func() error { _, err := NewSet(Config{SmoothK: -2}); return err }, ErrPeriod, "smoothK = -2"},
	})
}

func TestConfigDefaults(t *testing.T) {
	want := Config{EMA: 20, RSI: 14, Stoch: 14, D: 3, SmoothK: 1}
	if got := (Config{}).WithDefaults(); got != want {
		t.Errorf("zero Config = %+v, want %+v", got, want)
	}
	s, _ := NewSet(Config{Stoch: 5})
	want.Stoch = 5
	if got := s.Config(); got != want {
		t.Errorf("Set.Config = %+v, want %+v", got, want)
	}
}

func TestBatchValidates(t *testing.T) {
	close := randomWalk(7, 100, 0, 0)
	nan := append(append([]float64(nil), close...), math.NaN())
	inf := append([]float64{math.Inf(-1)}, close...)
	type call func() error
	ema := func(x []float64, n int) call { return func() error { _, err := BatchEMA(x, n); return err } }
	rsi := func(x []float64, n int) call { return func() error { _, err := BatchRSI(x, n); return err } }
	st := func(x []float64, r, s, d int) call {
		return func() error { _, _, err := BatchStochRSI(x, r, s, d); return err }
	}
	cases := []struct {
		name    string
		call    call
		target  error // nil means no error
		message string
	}{
		{"EMA ok", ema(close, 20), nil, ""},
		{"EMA n=len", ema(close, 100), nil, ""},
		{"EMA nil", ema(nil, 20), ErrTooShort, "close has 0 values, need at least 20"},
		{"EMA short", ema(close[:19], 20), ErrTooShort, "close has 19 values"},
		{"EMA n=0", ema(close, 0), ErrPeriod, "n = 0"},
		{"EMA NaN", ema(nan, 20), ErrNotFinite, "close[100] = NaN"},
		{"RSI ok", rsi(close[:15], 14), nil, ""},
		{"RSI short", rsi(close[:14], 14), ErrTooShort, "need at least 15"},
		{"RSI n=1", rsi(close, 1), ErrPeriod, "n = 1"},
		{"RSI Inf", rsi(inf, 14), ErrNotFinite, "close[0] = -Inf"},
		{"StochRSI ok", st(close[:30], 14, 14, 3), nil, ""},
		{"StochRSI short", st(close[:29], 14, 14, 3), ErrTooShort, "need at least 30"},
		{"StochRSI nil", st(nil, 14, 14, 3), ErrTooShort, ""},
		{"StochRSI rsi=0", st(close, 0, 14, 3), ErrPeriod, "rsi = 0"},
		{"StochRSI stoch=0", st(close, 14, 0, 3), ErrPeriod, "stoch = 0"},
		{"StochRSI d=0", st(close, 14, 14, 0), ErrPeriod, "d = 0"},
		{"StochRSI NaN", st(nan, 14, 14, 3), ErrNotFinite, "close[100]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.call()
			if c.target == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if !errors.Is(err, c.target) {
				t.Fatalf("error %v, want one wrapping %v", err, c.target)
			}
			if !strings.HasPrefix(err.Error(), "indicators.Batch") || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("error %q should name the function and %q", err, c.message)
			}
		})
	}
}

// Every accepted length and period must run go-talib without a panic, and
// the batch outputs must be go-talib's. The shortest accepted input is one
// output long.
func TestBatchNeverPanics(t *testing.T) {
	close := randomWalk(8, 64, 0.01, 0.1)
	for n := 1; n <= 8; n++ {
		need := EMAIdlePeriod(n) + 1
		for l := 0; l <= need+2; l++ {
			got, err := BatchEMA(close[:l], n)
			if (err != nil) != (l < need) {
				t.Fatalf("BatchEMA(len %d, %d): err %v", l, n, err)
			}
			if err == nil && !equalBits(got, talib.Ema(close[:l], n)) {
				t.Fatalf("BatchEMA(len %d, %d) differs from go-talib", l, n)
			}
		}
	}
	for rsi := 2; rsi <= 6; rsi++ {
		for stoch := 1; stoch <= 6; stoch++ {
			for d := 1; d <= 6; d++ {
				need := StochRSIIdlePeriod(rsi, stoch, d) + 1
				for l := 0; l <= need+2; l++ {
					k, dd, err := BatchStochRSI(close[:l], rsi, stoch, d)
					if (err != nil) != (l < need) {
						t.Fatalf("BatchStochRSI(len %d, %d, %d, %d): err %v", l, rsi, stoch, d, err)
					}
					if err != nil {
						continue
					}
					wk, wd := talib.StochRsi(close[:l], rsi, stoch, d, talib.SMA)
					if !equalBits(k, wk) || !equalBits(dd, wd) || k[need-1] != wk[need-1] {
						t.Fatalf("BatchStochRSI(len %d, %d, %d, %d) differs from go-talib", l, rsi, stoch, d)
					}
				}
			}
		}
	}
}

func equalBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
