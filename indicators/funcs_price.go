package indicators

import (
	"math"
	"time"
)

// The package-doc rows of the price, range and volume family, for doc.go.
// ns/update is the median of three runs of BenchmarkPriceStreamers
// (-benchtime 0.2s; Go 1.26, amd64, a 2-vCPU machine shared with seven other
// builds, so its cpu-ns/op column, the benchmark thread's CPU time): default
// parameters, one bar through the Streamer interface. "bit-exact" means every
// bit equal on the default amd64 build (GOAMD64=v1) over allBars(3000), the
// close-only series for close-only functions and the recorded data; against
// go-talib in TestPriceFuncsMatchTalib, against TA-Lib C 0.6.0-dev (npm
// talib 2.0.5) in TestPriceFuncsMatchTALibC with TICKFLOW_TALIB_ORACLE set. Every
// function is O(1) amortized per bar except CCI and the LINEARREG family,
// O(n) by choice (see their types). The types without parameters are ready
// as zero values; one with periods returns ok false until made by its
// constructor (a zero SAR is SAR(0,0)).
//
// | NAME | outputs | params (defaults) | idle period | ns/update | equality |
// | --- | --- | --- | --- | --- | --- |
// | ATR | atr | timeperiod (14) | n | 21 | bit-exact vs go-talib and TA-Lib C |
// | NATR | natr | timeperiod (14) | n | 27 | bit-exact vs go-talib and TA-Lib C; NATR(1) is the raw TRANGE in both |
// | TRANGE | trange | none | 1 | 19 | bit-exact vs go-talib and TA-Lib C |
// | ADX | adx | timeperiod (14, 2..) | 2n-1 | 56 | bit-exact vs go-talib and TA-Lib C |
// | ADXR | adxr | timeperiod (14, 2..) | 3n-2 | 58 | bit-exact vs go-talib and TA-Lib C |
// | PLUS_DI | plus_di | timeperiod (14) | n | 37 | bit-exact vs go-talib and TA-Lib C; n = 1 gives DM1/TR1 without the 100 in both |
// | MINUS_DI | minus_di | timeperiod (14) | n | 42 | bit-exact vs go-talib and TA-Lib C; as PLUS_DI |
// | DX | dx | timeperiod (14, 2..) | n | 54 | bit-exact vs go-talib and TA-Lib C |
// | CCI | cci | timeperiod (14, 2..) | n-1 | 61 | bit-exact vs go-talib and TA-Lib C; O(n) per bar (mean deviation) |
// | MFI | mfi | timeperiod (14, 2..) | n | 39 | bit-exact vs TA-Lib C; go-talib slips one index when the first window's flow is < 1.0 (tests undo the slip) |
// | OBV | obv | none | 0 | 24 | bit-exact vs go-talib and TA-Lib C |
// | AD | ad | none | 0 | 25 | bit-exact vs go-talib and TA-Lib C |
// | ADOSC | adosc | fastperiod (3, 2..), slowperiod (10, 2..) | max(fast,slow)-1 | 31 | bit-exact vs go-talib and TA-Lib C (EMAs seeded with the first A/D value, as both do) |
// | ROC | roc | timeperiod (10) | n | 23 | bit-exact vs go-talib and TA-Lib C |
// | ROCP | rocp | timeperiod (10) | n | 20 | bit-exact vs go-talib and TA-Lib C |
// | MOM | mom | timeperiod (10) | n | 18 | bit-exact vs go-talib and TA-Lib C |
// | WILLR | willr | timeperiod (14, 2..) | n-1 | 62 | bit-exact vs go-talib and TA-Lib C |
// | AROON | aroon_down, aroon_up | timeperiod (14, 2..) | n | 55 | bit-exact vs go-talib and TA-Lib C |
// | AROONOSC | aroonosc | timeperiod (14, 2..) | n | 60 | bit-exact vs go-talib and TA-Lib C |
// | ULTOSC | ultosc | timeperiod1 (7), timeperiod2 (14), timeperiod3 (28) | max(p1,p2,p3) | 37 | bit-exact vs go-talib and TA-Lib C; TA-Lib C's ULTOSC(1,1,1) also writes index 0 from close[-1] |
// | BOP | bop | none | 0 | 23 | bit-exact vs go-talib and TA-Lib C |
// | MEDPRICE | medprice | none | 0 | 18 | bit-exact vs go-talib and TA-Lib C |
// | TYPPRICE | typprice | none | 0 | 20 | bit-exact vs go-talib and TA-Lib C |
// | LINEARREG | linearreg | timeperiod (14, 2..) | n-1 | 42 | bit-exact vs TA-Lib C, O(n) per bar; go-talib's running sums drift |
// | LINEARREG_SLOPE | linearreg_slope | timeperiod (14, 2..) | n-1 | 27 | bit-exact vs TA-Lib C, O(n); go-talib drifts (0.3 on flat 1e11 prices) |
// | LINEARREG_ANGLE | linearreg_angle | timeperiod (14, 2..) | n-1 | 52 | within 3e-16 of TA-Lib C (Go's atan vs libm's), O(n); go-talib drifts (17 degrees on flat 1e11 prices) |
// | LINEARREG_INTERCEPT | linearreg_intercept | timeperiod (14, 2..) | n-1 | 47 | bit-exact vs TA-Lib C, O(n); go-talib drifts |
// | SAR | sar | acceleration (0.02), maximum (0.2) | 1 | 27 | bit-exact vs go-talib and TA-Lib C |
// | MIDPOINT | midpoint | timeperiod (14, 2..) | n-1 | 51 | bit-exact vs go-talib and TA-Lib C |
// | MIDPRICE | midprice | timeperiod (14, 2..) | n-1 | 59 | bit-exact vs go-talib and TA-Lib C |
// | MAX | max | timeperiod (30, 2..) | n-1 | 38 | bit-exact vs go-talib and TA-Lib C |
// | MIN | min | timeperiod (30, 2..) | n-1 | 40 | bit-exact vs go-talib and TA-Lib C |
// | VWAP | vwap | session minutes (1440), offset minutes (0) | 0 | 35 | no TA-Lib: bit-exact vs a batch definition and hand-made series |
// | HEIKINASHI | heikinashi_open, _high, _low, _close | none | 0 | 47 | no TA-Lib: bit-exact vs a batch definition and hand-made series |

// priceFuncs are the indicators of price, range and volume that need no
// moving-average type.
var priceFuncs = []Func{
	{Name: "atr", Doc: "average true range (Wilder)", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewATR(int(a[0]))) }},
	{Name: "natr", Doc: "average true range as a percentage of the close", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewNATR(int(a[0]))) }},
	{Name: "trange", Doc: "true range", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return barStreamerOf(NewTRange(), nil) }},
	{Name: "adx", Doc: "average directional movement index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewADX(int(a[0]))) }},
	{Name: "adxr", Doc: "average directional movement index rating", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewADXR(int(a[0]))) }},
	{Name: "plus_di", Doc: "plus directional indicator", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewPlusDI(int(a[0]))) }},
	{Name: "minus_di", Doc: "minus directional indicator", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewMinusDI(int(a[0]))) }},
	{Name: "dx", Doc: "directional movement index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewDX(int(a[0]))) }},
	{Name: "cci", Doc: "commodity channel index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewCCI(int(a[0]))) }},
	{Name: "mfi", Doc: "money flow index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewMFI(int(a[0]))) }},
	{Name: "obv", Doc: "on-balance volume", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return barStreamerOf(NewOBV(), nil) }},
	{Name: "ad", Doc: "Chaikin accumulation/distribution line", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return barStreamerOf(NewAD(), nil) }},
	{Name: "adosc", Doc: "Chaikin A/D oscillator", Outputs: outValue,
		Params: []Param{periodParam("fastperiod", 3, 2), periodParam("slowperiod", 10, 2)},
		New:    func(a []float64) (Streamer, error) { return barStreamerOf(NewADOSC(int(a[0]), int(a[1]))) }},
	{Name: "roc", Doc: "rate of change, percent: (x/old - 1) * 100", Params: timePeriod(10, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewROC(int(a[0]))) }},
	{Name: "rocp", Doc: "rate of change, fraction: (x - old) / old", Params: timePeriod(10, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewROCP(int(a[0]))) }},
	{Name: "mom", Doc: "momentum: x - old", Params: timePeriod(10, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewMOM(int(a[0]))) }},
	{Name: "willr", Doc: "Williams' %R", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewWillR(int(a[0]))) }},
	{Name: "aroon", Doc: "Aroon down and up", Params: timePeriod(14, 2), Outputs: []string{"down", "up"},
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewAroon(int(a[0]))) }},
	{Name: "aroonosc", Doc: "Aroon oscillator: up - down", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewAroonOsc(int(a[0]))) }},
	{Name: "ultosc", Doc: "ultimate oscillator", Outputs: outValue,
		Params: []Param{periodParam("timeperiod1", 7, 1), periodParam("timeperiod2", 14, 1), periodParam("timeperiod3", 28, 1)},
		New: func(a []float64) (Streamer, error) {
			return barStreamerOf(NewUltOsc(int(a[0]), int(a[1]), int(a[2])))
		}},
	{Name: "bop", Doc: "balance of power", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return barStreamerOf(NewBOP(), nil) }},
	{Name: "medprice", Doc: "median price (high+low)/2", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return barStreamerOf(NewMedPrice(), nil) }},
	{Name: "typprice", Doc: "typical price (high+low+close)/3", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return barStreamerOf(NewTypPrice(), nil) }},
	{Name: "linearreg", Doc: "linear regression line's value at the last bar", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewLinearReg(int(a[0]))) }},
	{Name: "linearreg_slope", Doc: "linear regression slope", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewLinearRegSlope(int(a[0]))) }},
	{Name: "linearreg_angle", Doc: "linear regression angle, degrees", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewLinearRegAngle(int(a[0]))) }},
	{Name: "linearreg_intercept", Doc: "linear regression intercept", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewLinearRegIntercept(int(a[0]))) }},
	{Name: "sar", Doc: "parabolic stop and reverse", Outputs: outValue,
		Params: []Param{
			floatParam("acceleration", 0.02, 0, math.MaxFloat64),
			floatParam("maximum", 0.2, 0, math.MaxFloat64),
		},
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewSAR(a[0], a[1])) }},
	{Name: "midpoint", Doc: "middle of the highest and lowest close", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewMidPoint(int(a[0]))) }},
	{Name: "midprice", Doc: "middle of the highest high and lowest low", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewMidPrice(int(a[0]))) }},
	{Name: "max", Doc: "highest close", Params: timePeriod(30, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewMax(int(a[0]))) }},
	{Name: "min", Doc: "lowest close", Params: timePeriod(30, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return barStreamerOf(NewMin(int(a[0]))) }},
	{Name: "vwap", Doc: "session-anchored volume-weighted average price", Outputs: outValue,
		Params: []Param{
			{Name: "session", Kind: IntParam, Default: 1440, Min: 1, Max: 60 * 24 * 366}, // minutes, not a period: no MaxPeriod
			{Name: "offset", Kind: IntParam, Default: 0, Min: 0, Max: 60*24*366 - 1},     // minutes
		},
		New: func(a []float64) (Streamer, error) {
			return barStreamerOf(NewVWAP(time.Duration(a[0])*time.Minute, time.Duration(a[1])*time.Minute))
		}},
	{Name: "heikinashi", Doc: "Heikin-Ashi bars", Outputs: []string{"open", "high", "low", "close"},
		New: func([]float64) (Streamer, error) { return barStreamerOf(NewHeikinAshi(), nil) }},
}

func barStreamerOf[T barIndicator](x T, err error) (Streamer, error) {
	if err != nil {
		return nil, err
	}
	return ohlcvStreamer{x}, nil
}
