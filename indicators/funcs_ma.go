package indicators

// maFuncs are the moving averages and the indicators built on a
// moving-average type. Names, parameter names and defaults are TA-Lib's, in
// go-talib's argument order.
var maFuncs = []Func{
	closeFunc("sma", "simple moving average", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewSMA(a[0]) }),
	closeFunc("ema", "exponential moving average", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewEMA(a[0]) }),
	closeFunc("wma", "linearly weighted moving average", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewWMA(a[0]) }),
	closeFunc("dema", "double exponential moving average", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewDEMA(a[0]) }),
	closeFunc("tema", "triple exponential moving average", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewTEMA(a[0]) }),
	closeFunc("trima", "triangular moving average", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewTRIMA(a[0]) }),
	closeFunc("kama", "Kaufman adaptive moving average", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewKAMA(a[0]) }),
	closeFunc("t3", "Tillson T3 moving average", []Param{periodParam("timeperiod", 5, 1), floatParam("vfactor", 0.7, 0, 1)},
		func(a []int, f []float64) (seriesIndicator, error) { return NewT3(a[0], f[1]) }),
	closeFunc("rsi", "relative strength index (Wilder)", timePeriod(14, 2),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewRSI(a[0]) }),
	closeFunc("cmo", "Chande momentum oscillator", timePeriod(14, 2),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewCMO(a[0]) }),
	closeFunc("apo", "absolute price oscillator", []Param{periodParam("fastperiod", 12, 2), periodParam("slowperiod", 26, 2), maParam("matype")},
		func(a []int, _ []float64) (seriesIndicator, error) { return NewAPO(a[0], a[1], MAType(a[2])) }),
	closeFunc("ppo", "percentage price oscillator", []Param{periodParam("fastperiod", 12, 2), periodParam("slowperiod", 26, 2), maParam("matype")},
		func(a []int, _ []float64) (seriesIndicator, error) { return NewPPO(a[0], a[1], MAType(a[2])) }),
	closeFunc("trix", "one-bar rate of change of a triple EMA, in percent", timePeriod(30, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewTRIX(a[0]) }),
	closeFunc("stddev", "population standard deviation", []Param{periodParam("timeperiod", 5, 2), floatParam("nbdev", 1, -3e37, 3e37)},
		func(a []int, f []float64) (seriesIndicator, error) { return NewStdDev(a[0], f[1]) }),
	closeFunc("var", "population variance", timePeriod(5, 1),
		func(a []int, _ []float64) (seriesIndicator, error) { return NewVar(a[0]) }),
	{
		Name: "mama", Doc: "MESA adaptive moving average and its following average",
		Params:  []Param{floatParam("fastlimit", 0.5, 0.01, 0.99), floatParam("slowlimit", 0.05, 0.01, 0.99)},
		Outputs: []string{"", "fama"},
		New:     func(a []float64) (Streamer, error) { return stream2(NewMAMA(a[0], a[1])) },
	},
	{
		Name: "macd", Doc: "moving-average convergence/divergence (EMAs, as TA-Lib C)",
		Params:  []Param{periodParam("fastperiod", 12, 2), periodParam("slowperiod", 26, 2), periodParam("signalperiod", 9, 1)},
		Outputs: []string{"", "signal", "hist"},
		New: func(a []float64) (Streamer, error) {
			return stream3(NewMACD(int(a[0]), int(a[1]), int(a[2])))
		},
	},
	{
		Name: "macdext", Doc: "MACD with a moving-average type for each line",
		Params: []Param{periodParam("fastperiod", 12, 2), maParam("fastmatype"), periodParam("slowperiod", 26, 2),
			maParam("slowmatype"), periodParam("signalperiod", 9, 1), maParam("signalmatype")},
		Outputs: []string{"", "signal", "hist"},
		New: func(a []float64) (Streamer, error) {
			return stream3(NewMACDExt(int(a[0]), MAType(a[1]), int(a[2]), MAType(a[3]), int(a[4]), MAType(a[5])))
		},
	},
	{
		Name: "bbands", Doc: "Bollinger bands",
		Params: []Param{periodParam("timeperiod", 5, 2), floatParam("nbdevup", 2, -3e37, 3e37),
			floatParam("nbdevdn", 2, -3e37, 3e37), maParam("matype")},
		Outputs: []string{"upper", "middle", "lower"},
		New: func(a []float64) (Streamer, error) {
			return stream3(NewBBands(int(a[0]), a[1], a[2], MAType(a[3])))
		},
	},
	{
		Name: "stoch", Doc: "slow stochastic",
		Params: []Param{periodParam("fastk_period", 5, 1), periodParam("slowk_period", 3, 1), maParam("slowk_matype"),
			periodParam("slowd_period", 3, 1), maParam("slowd_matype")},
		Outputs: []string{"k", "d"},
		New: func(a []float64) (Streamer, error) {
			return streamHLC(NewStoch(int(a[0]), int(a[1]), MAType(a[2]), int(a[3]), MAType(a[4])))
		},
	},
	{
		Name: "stochf", Doc: "fast stochastic",
		Params:  []Param{periodParam("fastk_period", 5, 1), periodParam("fastd_period", 3, 1), maParam("fastd_matype")},
		Outputs: []string{"k", "d"},
		New: func(a []float64) (Streamer, error) {
			return streamHLC(NewStochF(int(a[0]), int(a[1]), MAType(a[2])))
		},
	},
	{
		Name: "stochrsi", Doc: "stochastic of the RSI",
		Params: []Param{periodParam("timeperiod", 14, 2), periodParam("fastk_period", 5, 1),
			periodParam("fastd_period", 3, 1), maParam("fastd_matype")},
		Outputs: []string{"k", "d"},
		New: func(a []float64) (Streamer, error) {
			return stream2(NewStochRSIMA(int(a[0]), int(a[1]), 1, int(a[2]), MAType(a[3])))
		},
	},
}

// closeFunc registers a one-output indicator of the close; build gets the
// arguments both as ints (periods, types) and as given (factors).
func closeFunc(name, doc string, params []Param, build func(ints []int, args []float64) (seriesIndicator, error)) Func {
	return Func{Name: name, Doc: doc, Params: params, Outputs: outValue,
		New: func(args []float64) (Streamer, error) {
			ints := make([]int, len(args))
			for i, a := range args {
				ints[i] = int(a)
			}
			s, err := build(ints, args)
			if err != nil {
				return nil, err
			}
			return closeStreamer{s}, nil
		}}
}
