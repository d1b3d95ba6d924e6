package indicators_test

import (
	"fmt"
	"time"

	"github.com/tickflow/tickflow/indicators"
)

// dailyBars is a short made-up daily series: open, high, low, close, volume.
var dailyBars = [][5]float64{
	{100, 101, 99, 100.5, 1200}, {100.5, 102, 100, 101.5, 1500}, {101.5, 102.5, 100.5, 101, 900},
	{101, 103, 100.75, 102.75, 2100}, {102.75, 103.5, 102, 103, 1800}, {103, 103.25, 101.5, 102, 1300},
	{102, 102.5, 100.5, 101, 1700}, {101, 102, 100.25, 101.75, 1100},
}

func ExampleATR() {
	atr, err := indicators.NewATR(5)
	if err != nil {
		panic(err)
	}
	for i, b := range dailyBars {
		if v, ok := atr.Update(b[1], b[2], b[3]); ok {
			fmt.Printf("bar %d: %v = %.4f\n", i, atr, v)
		}
	}
	// Output:
	// bar 5: ATR(5) = 1.9000
	// bar 6: ATR(5) = 1.9200
	// bar 7: ATR(5) = 1.8860
}

func ExampleVWAP() {
	// Sessions of one exchange day opening at 14:30 UTC.
	vwap, err := indicators.NewVWAP(24*time.Hour, 14*time.Hour+30*time.Minute)
	if err != nil {
		panic(err)
	}
	open := time.Date(2024, 5, 6, 14, 30, 0, 0, time.UTC)
	for i, b := range dailyBars[:6] {
		t := open.Add(time.Duration(i) * 5 * time.Hour) // the last bar opens the next session
		v, _ := vwap.Update(indicators.Bar{Time: t.UnixNano(), High: b[1], Low: b[2], Close: b[3], Volume: b[4]})
		fmt.Printf("%s %.4f\n", t.Format("Jan 2 15:04"), v)
	}
	// Output:
	// May 6 14:30 100.1667
	// May 6 19:30 100.7222
	// May 7 00:30 100.8750
	// May 7 05:30 101.3509
	// May 7 10:30 101.7067
	// May 7 15:30 102.2500
}

func ExampleHeikinAshi() {
	ha := indicators.NewHeikinAshi()
	for _, b := range dailyBars[:4] {
		bar, _ := ha.Update(indicators.Bar{Open: b[0], High: b[1], Low: b[2], Close: b[3]})
		fmt.Printf("open %.4f high %.4f low %.4f close %.4f\n", bar.Open, bar.High, bar.Low, bar.Close)
	}
	// Output:
	// open 100.2500 high 101.0000 low 99.0000 close 100.1250
	// open 100.1875 high 102.0000 low 100.0000 close 101.0000
	// open 100.5938 high 102.5000 low 100.5000 close 101.3750
	// open 100.9844 high 103.0000 low 100.7500 close 101.8750
}

// Streamers built from specs write their outputs in the order the function
// lists them, under the spec's field names.
func ExampleParseSpecs_priceFamily() {
	specs, err := indicators.ParseSpecs("aroon(3),fast=adosc(2,3),sar")
	if err != nil {
		panic(err)
	}
	var fields []string
	var streams []indicators.Streamer
	for _, s := range specs {
		st, err := s.New()
		if err != nil {
			panic(err)
		}
		fields = append(fields, s.Fields()...)
		streams = append(streams, st)
	}
	fmt.Println(fields)
	out := make([]float64, 2)
	for i, b := range dailyBars {
		bar := indicators.Bar{Open: b[0], High: b[1], Low: b[2], Close: b[3], Volume: b[4]}
		for k, st := range streams {
			if st.Update(bar, out) && i == len(dailyBars)-1 {
				fmt.Printf("%v: %.4g\n", specs[k].Fields(), out[:len(specs[k].Fields())])
			}
		}
	}
	// Output:
	// [aroon_down aroon_up fast sar]
	// [aroon_down aroon_up]: [100 0]
	// [fast]: [37.4]
	// [sar]: [103.5]
}
