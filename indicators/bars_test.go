package indicators

import (
	"bufio"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ohlcv is one series of bars as columns, the layout go-talib's functions take.
type ohlcv struct {
	name                           string
	time                           []int64 // Unix nanoseconds
	open, high, low, close, volume []float64
}

func (s *ohlcv) len() int { return len(s.close) }

// bar returns bar i in the form a Streamer reads.
func (s *ohlcv) bar(i int) Bar {
	return Bar{Time: s.time[i], Open: s.open[i], High: s.high[i], Low: s.low[i], Close: s.close[i], Volume: s.volume[i]}
}

// loadBars reads a CSV in the shared layout (symbol,time,open,high,low,close,volume).
func loadBars(t testing.TB, path string) ohlcv {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	s := ohlcv{name: filepath.Base(path)}
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue // header, checked by the shared data's README
		}
		fields := strings.Split(sc.Text(), ",")
		if len(fields) != 7 {
			t.Fatalf("%s:%d: %d fields, want 7", path, line, len(fields))
		}
		tm, err := time.Parse(time.RFC3339, fields[1])
		if err != nil {
			t.Fatalf("%s:%d: time: %v", path, line, err)
		}
		var v [5]float64
		for j := range v {
			if v[j], err = strconv.ParseFloat(fields[2+j], 64); err != nil {
				t.Fatalf("%s:%d: column %d: %v", path, line, 3+j, err)
			}
		}
		s.time = append(s.time, tm.UnixNano())
		s.open = append(s.open, v[0])
		s.high = append(s.high, v[1])
		s.low = append(s.low, v[2])
		s.close = append(s.close, v[3])
		s.volume = append(s.volume, v[4])
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return s
}

// randomBars makes n bars from seed around a random walk of closes: each bar
// opens at the previous close, high and low lie beyond open and close by a
// random margin, volume is positive (zero with probability flat, as in quiet
// markets). tick rounds every price (0 = none); flat is also the probability
// per bar of a run of identical bars (open = high = low = close), so that
// ranges, windows and divisions by zero go flat. Times advance by one minute,
// with an occasional gap of a day.
func randomBars(name string, seed uint64, n int, tick, flat float64) ohlcv {
	rng := rand.New(rand.NewPCG(seed, 0xba25))
	round := func(x float64) float64 {
		if tick > 0 {
			x = math.Round(x/tick) * tick
			if x <= 0 {
				x = tick
			}
		}
		return x
	}
	s := ohlcv{name: name}
	t := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC).UnixNano()
	prev := round(100.0)
	for s.len() < n {
		if rng.Float64() < flat {
			for run := 5 + rng.IntN(40); run > 0 && s.len() < n; run-- {
				s.time = append(s.time, t)
				t += int64(time.Minute)
				s.open = append(s.open, prev)
				s.high = append(s.high, prev)
				s.low = append(s.low, prev)
				s.close = append(s.close, prev)
				s.volume = append(s.volume, 0)
			}
			continue
		}
		c := prev + rng.NormFloat64()*0.7
		if c < 1 {
			c = 1 + rng.Float64()
		}
		c = round(c)
		o := prev
		hi := round(math.Max(o, c) + math.Abs(rng.NormFloat64())*0.4)
		lo := round(math.Min(o, c) - math.Abs(rng.NormFloat64())*0.4)
		if lo <= 0 {
			lo = math.Min(o, c)
		}
		vol := math.Round(1000 * math.Exp(rng.NormFloat64()))
		if rng.Float64() < flat {
			vol = 0
		}
		s.time = append(s.time, t)
		if rng.IntN(500) == 0 {
			t += int64(24 * time.Hour)
		}
		t += int64(time.Minute)
		s.open = append(s.open, o)
		s.high = append(s.high, hi)
		s.low = append(s.low, lo)
		s.close = append(s.close, c)
		s.volume = append(s.volume, vol)
		prev = c
	}
	return s
}

// barWalks is the fixed set of random bar series every OHLCV equality test
// runs on: unrounded, cent ticks, whole-unit ticks with flat runs, and
// extreme magnitudes.
func barWalks(n int) []ohlcv {
	out := []ohlcv{
		randomBars("float", 11, n, 0, 0),
		randomBars("float-flats", 12, n, 0, 0.02),
		randomBars("tick-0.01", 13, n, 0.01, 0.01),
		randomBars("tick-1", 14, n, 1, 0.01),
		randomBars("tick-1-coarse", 15, n, 1, 0.05),
	}
	big := randomBars("extreme-1e9", 16, n, 0, 0.01)
	tiny := randomBars("extreme-1e-6", 17, n, 0, 0.01)
	for i := range big.close {
		for _, col := range [][]float64{big.open, big.high, big.low, big.close} {
			col[i] *= 1e9
		}
		for _, col := range [][]float64{tiny.open, tiny.high, tiny.low, tiny.close} {
			col[i] *= 1e-6
		}
	}
	return append(out, big, tiny)
}

// allBars is the random bar walks plus the recorded data when present.
func allBars(t *testing.T, n int) []ohlcv {
	out := barWalks(n)
	paths, _ := filepath.Glob(filepath.Join(sharedData, "*.csv"))
	if len(paths) == 0 {
		t.Logf("no recorded data in %s: random walks only", sharedData)
		return out
	}
	for _, p := range paths {
		out = append(out, loadBars(t, p))
	}
	return out
}

func TestBarHelpers(t *testing.T) {
	for _, s := range barWalks(3000) {
		if s.len() != 3000 {
			t.Fatalf("%s: %d bars, want 3000", s.name, s.len())
		}
		for i := range s.close {
			if !(s.low[i] <= s.open[i] && s.low[i] <= s.close[i] && s.high[i] >= s.open[i] && s.high[i] >= s.close[i]) {
				t.Fatalf("%s: bar %d is not a bar: o %v h %v l %v c %v", s.name, i, s.open[i], s.high[i], s.low[i], s.close[i])
			}
			if i > 0 && s.time[i] <= s.time[i-1] {
				t.Fatalf("%s: bar %d does not advance in time", s.name, i)
			}
		}
	}
}
