package indicators_test

import (
	"fmt"
	"strings"

	"github.com/tickflow/tickflow/indicators"
)

func ExampleMACD() {
	m, err := indicators.NewMACD(3, 6, 4)
	if err != nil {
		panic(err)
	}
	fmt.Println(m, "first defined at bar", m.IdlePeriod())
	for i, c := range closes[:12] {
		if line, signal, hist, ok := m.Update(c); ok {
			fmt.Printf("bar %d: MACD %+.4f signal %+.4f hist %+.4f\n", i, line, signal, hist)
		}
	}
	// Output:
	// MACD(3,6,4) first defined at bar 8
	// bar 8: MACD +0.5058 signal +0.5276 hist -0.0218
	// bar 9: MACD +0.6202 signal +0.5647 hist +0.0556
	// bar 10: MACD +0.4118 signal +0.5035 hist -0.0917
	// bar 11: MACD +0.1714 signal +0.3706 hist -0.1993
}

// ExampleParseSpecs builds indicators by name, as the CLI's --indicators
// flag does, and writes each output under its field name.
func ExampleParseSpecs() {
	specs, err := indicators.ParseSpecs("fast=ema(5),slow=sma(10),bbands(10,2,2),stochf(5,3)")
	if err != nil {
		panic(err)
	}
	var streamers []indicators.Streamer
	var fields []string
	for _, s := range specs {
		st, err := s.New()
		if err != nil {
			panic(err)
		}
		streamers = append(streamers, st)
		fields = append(fields, s.Fields()...)
	}
	fmt.Println(strings.Join(fields, " "))
	out := make([]float64, 3)
	for i, c := range closes {
		bar := indicators.Bar{Open: c, High: c + 0.5, Low: c - 0.5, Close: c}
		var row []string
		for k, st := range streamers {
			ok := st.Update(bar, out)
			for j := range specs[k].Func.Outputs {
				if ok {
					row = append(row, fmt.Sprintf("%.2f", out[j]))
				} else {
					row = append(row, "-") // still warming up
				}
			}
		}
		if i == 4 || i >= len(closes)-2 {
			fmt.Println(strings.Join(row, " "))
		}
	}
	// Output:
	// fast slow bbands_upper bbands_middle bbands_lower stochf_k stochf_d
	// 101.55 - - - - - -
	// 103.92 103.35 105.44 103.35 101.26 88.89 77.96
	// 104.20 103.55 105.75 103.55 101.35 75.00 83.52
}
