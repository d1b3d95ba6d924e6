package indicators

// The adapters that make the typed indicators [Streamer]s for the registry.
// The two families type their updates differently: the moving-average
// family's types take the close (or high, low and close) through an
// unexported update, and these adapters skip a bar whose inputs are not
// finite; the price family's types each read what they need of a [Bar] in
// UpdateBar, which checks its own inputs, so one adapter serves them all.
// Each streamX passes a constructor's error on.

// closeStreamer is a one-output indicator of the close as a [Streamer].
type closeStreamer struct{ seriesIndicator }

func (s closeStreamer) Update(b Bar, out []float64) bool {
	if !finite(b.Close) {
		return false
	}
	v, ok := s.update(b.Close)
	out[0] = v
	return ok
}

// close2 and close3 are indicators of the close with two and three outputs,
// hlc2 one of high, low and close with two.
type (
	close2 interface {
		update(x float64) (a, b float64, ok bool)
		IdlePeriod() int
		Reset()
		String() string
	}
	close3 interface {
		update(x float64) (a, b, c float64, ok bool)
		IdlePeriod() int
		Reset()
		String() string
	}
	hlc2 interface {
		update(high, low, close float64) (a, b float64, ok bool)
		IdlePeriod() int
		Reset()
		String() string
	}
)

type closeStreamer2 struct{ close2 }

func (s closeStreamer2) Update(b Bar, out []float64) (ok bool) {
	if !finite(b.Close) {
		return false
	}
	out[0], out[1], ok = s.update(b.Close)
	return ok
}

type closeStreamer3 struct{ close3 }

func (s closeStreamer3) Update(b Bar, out []float64) (ok bool) {
	if !finite(b.Close) {
		return false
	}
	out[0], out[1], out[2], ok = s.update(b.Close)
	return ok
}

type hlcStreamer struct{ hlc2 }

func (s hlcStreamer) Update(b Bar, out []float64) (ok bool) {
	if !finiteHLC(b) {
		return false
	}
	out[0], out[1], ok = s.update(b.High, b.Low, b.Close)
	return ok
}

func stream3[T close3](s T, err error) (Streamer, error) {
	if err != nil {
		return nil, err
	}
	return closeStreamer3{s}, nil
}

func streamHLC[T hlc2](s T, err error) (Streamer, error) {
	if err != nil {
		return nil, err
	}
	return hlcStreamer{s}, nil
}

func stream2[T close2](s T, err error) (Streamer, error) {
	if err != nil {
		return nil, err
	}
	return closeStreamer2{s}, nil
}

// barIndicator is a typed indicator whose Streamer update is called UpdateBar,
// because its Update takes typed inputs.
type barIndicator interface {
	UpdateBar(b Bar, out []float64) bool
	IdlePeriod() int
	Reset()
	String() string
}

// ohlcvStreamer makes a barIndicator a [Streamer].
type ohlcvStreamer struct{ barIndicator }

func (s ohlcvStreamer) Update(b Bar, out []float64) bool { return s.UpdateBar(b, out) }

func streamBar[T barIndicator](x T, err error) (Streamer, error) {
	if err != nil {
		return nil, err
	}
	return ohlcvStreamer{x}, nil
}
