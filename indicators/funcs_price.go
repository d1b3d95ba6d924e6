package indicators

import (
	"math"
	"time"
)

// priceFuncs are the indicators of price, range and volume that need no
// moving-average type.
var priceFuncs = []Func{
	{Name: "atr", Doc: "average true range (Wilder)", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewATR(int(a[0]))) }},
	{Name: "natr", Doc: "average true range as a percentage of the close", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewNATR(int(a[0]))) }},
	{Name: "trange", Doc: "true range", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return streamBar(NewTRange(), nil) }},
	{Name: "adx", Doc: "average directional movement index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewADX(int(a[0]))) }},
	{Name: "adxr", Doc: "average directional movement index rating", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewADXR(int(a[0]))) }},
	{Name: "plus_di", Doc: "plus directional indicator", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewPlusDI(int(a[0]))) }},
	{Name: "minus_di", Doc: "minus directional indicator", Params: timePeriod(14, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewMinusDI(int(a[0]))) }},
	{Name: "dx", Doc: "directional movement index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewDX(int(a[0]))) }},
	{Name: "cci", Doc: "commodity channel index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewCCI(int(a[0]))) }},
	{Name: "mfi", Doc: "money flow index", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewMFI(int(a[0]))) }},
	{Name: "obv", Doc: "on-balance volume", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return streamBar(NewOBV(), nil) }},
	{Name: "ad", Doc: "Chaikin accumulation/distribution line", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return streamBar(NewAD(), nil) }},
	{Name: "adosc", Doc: "Chaikin A/D oscillator", Outputs: outValue,
		Params: []Param{periodParam("fastperiod", 3, 2), periodParam("slowperiod", 10, 2)},
		New:    func(a []float64) (Streamer, error) { return streamBar(NewADOSC(int(a[0]), int(a[1]))) }},
	{Name: "roc", Doc: "rate of change, percent: (x/old - 1) * 100", Params: timePeriod(10, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewROC(int(a[0]))) }},
	{Name: "rocp", Doc: "rate of change, fraction: (x - old) / old", Params: timePeriod(10, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewROCP(int(a[0]))) }},
	{Name: "mom", Doc: "momentum: x - old", Params: timePeriod(10, 1), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewMOM(int(a[0]))) }},
	{Name: "willr", Doc: "Williams' %R", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewWillR(int(a[0]))) }},
	{Name: "aroon", Doc: "Aroon down and up", Params: timePeriod(14, 2), Outputs: []string{"down", "up"},
		New: func(a []float64) (Streamer, error) { return streamBar(NewAroon(int(a[0]))) }},
	{Name: "aroonosc", Doc: "Aroon oscillator: up - down", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewAroonOsc(int(a[0]))) }},
	{Name: "ultosc", Doc: "ultimate oscillator", Outputs: outValue,
		Params: []Param{periodParam("timeperiod1", 7, 1), periodParam("timeperiod2", 14, 1), periodParam("timeperiod3", 28, 1)},
		New: func(a []float64) (Streamer, error) {
			return streamBar(NewUltOsc(int(a[0]), int(a[1]), int(a[2])))
		}},
	{Name: "bop", Doc: "balance of power", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return streamBar(NewBOP(), nil) }},
	{Name: "medprice", Doc: "median price (high+low)/2", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return streamBar(NewMedPrice(), nil) }},
	{Name: "typprice", Doc: "typical price (high+low+close)/3", Outputs: outValue,
		New: func([]float64) (Streamer, error) { return streamBar(NewTypPrice(), nil) }},
	{Name: "linearreg", Doc: "linear regression line's value at the last bar", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewLinearReg(int(a[0]))) }},
	{Name: "linearreg_slope", Doc: "linear regression slope", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewLinearRegSlope(int(a[0]))) }},
	{Name: "linearreg_angle", Doc: "linear regression angle, degrees", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewLinearRegAngle(int(a[0]))) }},
	{Name: "linearreg_intercept", Doc: "linear regression intercept", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewLinearRegIntercept(int(a[0]))) }},
	{Name: "sar", Doc: "parabolic stop and reverse", Outputs: outValue,
		Params: []Param{
			floatParam("acceleration", 0.02, 0, math.MaxFloat64),
			floatParam("maximum", 0.2, 0, math.MaxFloat64),
		},
		New: func(a []float64) (Streamer, error) { return streamBar(NewSAR(a[0], a[1])) }},
	{Name: "midpoint", Doc: "middle of the highest and lowest close", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewMidPoint(int(a[0]))) }},
	{Name: "midprice", Doc: "middle of the highest high and lowest low", Params: timePeriod(14, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewMidPrice(int(a[0]))) }},
	{Name: "max", Doc: "highest close", Params: timePeriod(30, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewMax(int(a[0]))) }},
	{Name: "min", Doc: "lowest close", Params: timePeriod(30, 2), Outputs: outValue,
		New: func(a []float64) (Streamer, error) { return streamBar(NewMin(int(a[0]))) }},
	{Name: "vwap", Doc: "session-anchored volume-weighted average price", Outputs: outValue,
		Params: []Param{
			{Name: "session", Kind: IntParam, Default: 1440, Min: 1, Max: 60 * 24 * 366}, // minutes, not a period: no MaxPeriod
			{Name: "offset", Kind: IntParam, Default: 0, Min: 0, Max: 60*24*366 - 1},     // minutes
		},
		New: func(a []float64) (Streamer, error) {
			return streamBar(NewVWAP(time.Duration(a[0])*time.Minute, time.Duration(a[1])*time.Minute))
		}},
	{Name: "heikinashi", Doc: "Heikin-Ashi bars", Outputs: []string{"open", "high", "low", "close"},
		New: func([]float64) (Streamer, error) { return streamBar(NewHeikinAshi(), nil) }},
}
