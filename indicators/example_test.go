package indicators_test

import (
	"fmt"

	"github.com/tickflow/tickflow/indicators"
)

// closes is a short made-up daily series.
var closes = []float64{
	100, 101.5, 101, 102.25, 103, 102.5, 101.75, 102, 103.5, 104,
	103.25, 102.75, 101.5, 100.75, 101.25, 102, 103, 102.5, 101, 100.5,
	99.75, 100.25, 101.5, 102.75, 103.5, 104.25, 103.75, 102.5, 101.75, 102.25,
	103, 104.5, 105.25, 104.75,
}

func ExampleEMA() {
	ema, err := indicators.NewEMA(5)
	if err != nil {
		panic(err)
	}
	for i, c := range closes[:8] {
		if v, ok := ema.Update(c); ok {
			fmt.Printf("bar %d: %v = %.4f\n", i, ema, v)
		}
	}
	// Output:
	// bar 4: EMA(5) = 101.5500
	// bar 5: EMA(5) = 101.8667
	// bar 6: EMA(5) = 101.8278
	// bar 7: EMA(5) = 101.8852
}

func ExampleStochRSI() {
	st, err := indicators.NewStochRSI(14, 14, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println(st, "first defined at bar", st.IdlePeriod())
	for i, c := range closes {
		// K may be exactly 0 or 100 on a valid bar: trust ok, not the value.
		if k, d, ok := st.Update(c); ok {
			fmt.Printf("bar %d: K %.2f D %.2f\n", i, k, d)
		}
	}
	// Output:
	// StochRSI(14,14,3) first defined at bar 29
	// bar 29: K 40.26 D 38.82
	// bar 30: K 57.53 D 42.02
	// bar 31: K 87.95 D 61.91
	// bar 32: K 100.00 D 81.83
	// bar 33: K 84.61 D 90.85
}

func ExampleSet() {
	// The pipeline's indicator stage holds one Set per symbol and updates it
	// once per bar.
	sets := map[string]*indicators.Set{}
	update := func(symbol string, close float64) {
		set, ok := sets[symbol]
		if !ok {
			var err error
			set, err = indicators.NewSet(indicators.Config{EMA: 10, RSI: 6, Stoch: 6}) // D 3 by default
			if err != nil {
				panic(err)
			}
			sets[symbol] = set
			fmt.Println(symbol, set)
		}
		ema, emaOK, k, d, kdOK := set.Update(close)
		// D is go-talib's running-sum average: after d bars of K = 0 it can
		// sit a rounding error below 0 (printed -0.00), as go-talib's does.
		if emaOK && kdOK && close < 102 {
			fmt.Printf("close %.2f EMA %.2f K %6.2f D %6.2f\n", close, ema, k, d)
		}
	}
	for _, c := range closes {
		update("ABC", c)
	}
	// Output:
	// ABC EMA(10) StochRSI(6,6,3)
	// close 100.75 EMA 101.98 K   0.00 D  -0.00
	// close 101.25 EMA 101.85 K  16.12 D   5.37
	// close 101.00 EMA 101.95 K   8.24 D  60.13
	// close 100.50 EMA 101.68 K   0.00 D  26.80
	// close 99.75 EMA 101.33 K   0.00 D   2.75
	// close 100.25 EMA 101.14 K  23.35 D   7.78
	// close 101.50 EMA 101.20 K  89.20 D  37.52
	// close 101.75 EMA 102.40 K   0.00 D  26.10
}

func ExampleBatchStochRSI() {
	k, d, err := indicators.BatchStochRSI(closes, 14, 14, 3)
	if err != nil {
		panic(err)
	}
	first := indicators.StochRSIIdlePeriod(14, 14, 3)
	fmt.Printf("first at %d: K %.2f D %.2f\n", first, k[first], d[first])
	// Output:
	// first at 29: K 40.26 D 38.82
}
