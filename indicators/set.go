package indicators

import "fmt"

// Config chooses the periods of a [Set]. A zero field means its default, so
// the zero Config is EMA 20, RSI 14, stoch 14, %D 3, no %K smoothing.
type Config struct {
	EMA     int // EMA period of the close; default 20
	RSI     int // RSI period; default 14
	Stoch   int // %K window over RSI; default 14
	D       int // %D period (SMA of %K); default 3
	SmoothK int // %K smoothing (SMA), 1 = off; default 1
}

// WithDefaults returns c with every zero field set to its default.
func (c Config) WithDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.EMA, DefaultEMA)
	def(&c.RSI, DefaultRSI)
	def(&c.Stoch, DefaultStoch)
	def(&c.D, DefaultD)
	def(&c.SmoothK, DefaultSmoothK)
	return c
}

// Set is the per-symbol calculator of the StochRSI/EMA strategy: one EMA of
// the close and one StochRSI, updated together. It is a single value with
// two small buffers, meant to be held one per symbol by the goroutine that
// owns the symbol.
type Set struct {
	cfg   Config
	ema   EMA
	stoch StochRSI
}

// NewSet validates c (after [Config.WithDefaults]) and returns a Set.
func NewSet(c Config) (*Set, error) {
	const place = "indicators.NewSet"
	c = c.WithDefaults()
	s := &Set{cfg: c}
	if err := s.ema.init(place+": EMA", c.EMA); err != nil {
		return nil, err
	}
	if err := s.stoch.init(place+": StochRSI", c.RSI, c.Stoch, c.SmoothK, c.D); err != nil {
		return nil, err
	}
	return s, nil
}

// Update adds the next close. emaOK tells whether ema is defined, kdOK
// whether k and d are (they are defined together). A NaN or infinite close
// is ignored and returns both flags false, as does every call on a zero Set
// (make one with [NewSet]).
func (s *Set) Update(close float64) (ema float64, emaOK bool, k, d float64, kdOK bool) {
	if !finite(close) || s.stoch.stoch == 0 {
		return 0, false, 0, 0, false
	}
	ema, emaOK = s.ema.update(close)
	k, d, kdOK = s.stoch.update(close)
	return ema, emaOK, k, d, kdOK
}

// Config returns the periods in use, defaults filled in.
func (s *Set) Config() Config { return s.cfg }

// IdlePeriods returns the index of the first defined EMA and of the first
// defined %K and %D.
func (s *Set) IdlePeriods() (ema, stoch int) { return s.ema.IdlePeriod(), s.stoch.IdlePeriod() }

// Reset forgets all prices, keeping the configuration and buffers.
func (s *Set) Reset() {
	s.ema.Reset()
	s.stoch.Reset()
}

// String returns e.g. "EMA(20) StochRSI(14,14,3)".
func (s *Set) String() string { return fmt.Sprintf("%v %v", &s.ema, &s.stoch) }
