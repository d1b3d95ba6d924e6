package indicators

import (
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// sharedData is the recorded market data beside the repository; a fresh clone
// has no ../shared, and then the tests that need it skip.
const sharedData = "../../shared/data"

type series struct {
	name   string
	close  []float64
	ticked bool // prices on a grid: flat RSI windows, where only exact rounding keeps %K right
}

// recordedSeries returns every CSV of the shared data, or skips.
func recordedSeries(t *testing.T) []series {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(sharedData, "*.csv"))
	if len(paths) == 0 {
		t.Skipf("no recorded data in %s (it lives beside the repository, not in it)", sharedData)
	}
	var out []series
	for _, p := range paths {
		out = append(out, series{name: filepath.Base(p), close: loadBars(t, p).close, ticked: true})
	}
	return out
}

// randomWalk makes n prices from seed: steps drawn from a normal law, optional
// rounding to tick (0 = none), and with probability flat per bar a run of
// unchanged prices, so that RSI windows go flat.
func randomWalk(seed uint64, n int, tick, flat float64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]float64, 0, n)
	x := 100.0
	for len(out) < n {
		if rng.Float64() < flat {
			for run := 10 + rng.IntN(60); run > 0 && len(out) < n; run-- {
				out = append(out, x)
			}
			continue
		}
		x += rng.NormFloat64() * 0.7
		if x < 1 {
			x = 1 + rng.Float64()
		}
		if tick > 0 {
			x = math.Round(x/tick) * tick
			if x <= 0 {
				x = tick
			}
		}
		out = append(out, x)
	}
	return out
}

// walks is the fixed set of random series every equality test runs on.
func walks(n int) []series {
	return []series{
		{name: "float", close: randomWalk(1, n, 0, 0)},
		{name: "float-flats", close: randomWalk(2, n, 0, 0.02), ticked: true},
		{name: "tick-0.01", close: randomWalk(3, n, 0.01, 0.01), ticked: true},
		{name: "tick-1", close: randomWalk(4, n, 1, 0.01), ticked: true},
		{name: "tick-1-coarse", close: randomWalk(5, n, 1, 0.05), ticked: true},
	}
}

// allSeries is the random walks plus the recorded data when present.
func allSeries(t *testing.T, n int) []series {
	out := walks(n)
	paths, _ := filepath.Glob(filepath.Join(sharedData, "*.csv"))
	if len(paths) == 0 {
		t.Logf("no recorded data in %s: random walks only", sharedData)
		return out
	}
	return append(out, recordedSeries(t)...)
}

// same reports whether got equals want: every bit on exact builds, within
// 1e-9 (relative above 1) elsewhere.
func same(got, want float64) bool {
	if bitExact {
		return math.Float64bits(got) == math.Float64bits(want)
	}
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// loadRef reads testdata/ta_sref_close.txt, TA-Lib's reference closes.
func loadRef(t *testing.T) []float64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ta_sref_close.txt"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("testdata/ta_sref_close.txt is missing: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(line, 64)
		if err != nil {
			t.Fatalf("ta_sref_close.txt: %v", err)
		}
		out = append(out, v)
	}
	return out
}
