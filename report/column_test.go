package report

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// decode is chart.js's decodeColumn in Go, so the encoding is checked here
// and the JavaScript against it in the Chromium test.
func decode(t testing.TB, c column) []float64 {
	t.Helper()
	out := make([]float64, 0, c.N)
	var prev, step float64
	pos := 0
	for range c.N {
		var u, mul float64 = 0, 1
		for {
			if pos >= len(c.V) {
				t.Fatalf("column ends after %d of %d values", len(out), c.N)
			}
			g := strings.IndexByte(digits, c.V[pos])
			pos++
			if g < 0 {
				t.Fatalf("bad character %q", c.V[pos-1])
			}
			u += float64(g&31) * mul
			mul *= 32
			if g&32 == 0 {
				break
			}
		}
		if u == 0 {
			out = append(out, math.NaN())
			continue
		}
		u--
		delta := u / 2
		if math.Mod(u, 2) != 0 {
			delta = -(u + 1) / 2
		}
		if c.O == 2 {
			step += delta
			prev += step
		} else {
			prev += delta
		}
		if c.D >= 0 {
			out = append(out, prev/math.Pow10(c.D))
		} else {
			out = append(out, prev/math.Pow(10, float64(c.D)))
		}
	}
	if pos != len(c.V) {
		t.Fatalf("%d characters left over", len(c.V)-pos)
	}
	return out
}

func TestColumnRoundTrip(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		in    []float64
		exact bool
		d     int
	}{
		{"empty", nil, true, 0},
		{"integers", []float64{1, 2, 3, -7, 1 << 40}, true, 0},
		{"cents", []float64{46319.05, 46385.1, 46319.99, 0.01}, true, 2},
		{"recorded 6 decimals", []float64{16713.080001, 16830.000002}, true, 6},
		{"gaps", []float64{nan, nan, 3.5, nan, 4.25}, true, 2},
		{"all NaN", []float64{nan, nan}, true, 0},
		{"irrational", []float64{math.Pi, math.E, -math.Sqrt2}, false, 6},
		{"equity", []float64{10000.123456789123, 10001.987654321987}, false, 2},
		{"tiny", []float64{1e-12, 3e-12}, false, 18},
		{"huge", []float64{1e300, -2.5e300}, false, -294},
		{"drawdown", []float64{0, -0.0123456789012, -0.5}, false, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := encodeValues(tc.in)
			if c.D != tc.d {
				t.Errorf("decimals %d, want %d", c.D, tc.d)
			}
			got := decode(t, c)
			if len(got) != len(tc.in) {
				t.Fatalf("%d values, want %d", len(got), len(tc.in))
			}
			maxAbs := 0.0
			for _, v := range tc.in {
				if !math.IsNaN(v) {
					maxAbs = math.Max(maxAbs, math.Abs(v))
				}
			}
			for i, want := range tc.in {
				switch {
				case math.IsNaN(want) != math.IsNaN(got[i]):
					t.Errorf("value %d: %v, want %v", i, got[i], want)
				case tc.exact && !math.IsNaN(want) && got[i] != want:
					t.Errorf("value %d: %v, want exactly %v", i, got[i], want)
				case math.Abs(got[i]-want) > maxAbs*1e-6:
					t.Errorf("value %d: %v, want %v within 7 significant digits", i, got[i], want)
				}
			}
		})
	}
}

func TestTimesRoundTrip(t *testing.T) {
	t0 := time.Date(1999, 11, 1, 0, 0, 0, 0, time.UTC)
	times := []time.Time{t0, t0.Add(time.Minute), t0.Add(2 * time.Minute), t0.Add(90 * time.Minute),
		t0.Add(91 * time.Minute), t0.Add(91*time.Minute + 1500*time.Millisecond), time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)}
	c := encodeTimes(len(times), func(i int) time.Time { return times[i] })
	got := decode(t, c)
	for i, tm := range times {
		if int64(got[i]) != tm.UnixMilli() {
			t.Errorf("time %d: %v, want %v", i, got[i], tm.UnixMilli())
		}
	}
	// A regular series costs a character a bar after the first two.
	regular := encodeTimes(1000, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) })
	if len(regular.V) > 1000+20 {
		t.Errorf("1000 regular times take %d characters", len(regular.V))
	}
}

// FuzzColumn checks that any finite values and NaN survive the encoding
// to 7 significant digits of the column's largest magnitude.
func FuzzColumn(f *testing.F) {
	f.Add(1.5, -2.25, 1e9)
	f.Add(math.NaN(), 0.1, 0.2)
	f.Add(1e-300, 5e-324, 0.0)
	f.Add(math.MaxFloat64, -math.MaxFloat64, 1.0)
	f.Fuzz(func(t *testing.T, a, b, c float64) {
		in := []float64{a, b, c, a}
		for _, v := range in {
			if math.IsInf(v, 0) {
				t.Skip("infinities are rejected before encoding")
			}
		}
		col := encodeValues(in)
		got := decode(t, col)
		maxAbs := 0.0
		for _, v := range in {
			if !math.IsNaN(v) {
				maxAbs = math.Max(maxAbs, math.Abs(v))
			}
		}
		if maxAbs > 0 && maxAbs < 1e-290 {
			t.Skip("under 1e-292 a column keeps fewer digits (see scaleFor)")
		}
		for i, want := range in {
			if math.IsNaN(want) != math.IsNaN(got[i]) || math.Abs(got[i]-want) > maxAbs*1e-6 {
				t.Fatalf("value %d: %v, want %v (decimals %d)", i, got[i], want, col.D)
			}
		}
	})
}

// TestRecordedPricesExact encodes the recorded bars in ../shared/data and
// reads every price back bit for bit.
func TestRecordedPricesExact(t *testing.T) {
	for _, name := range []string{"btcperp-1m.csv", "btcusdt-1h.csv", "spy-1d.csv"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("..", "..", "shared", "data", name))
			if err != nil {
				t.Skipf("recorded data not found (../shared/data is beside the repository on the team's machines): %v", err)
			}
			lines := strings.Split(strings.TrimSpace(string(raw)), "\n")[1:]
			cols := make([][]float64, 4) // open, high, low, close
			for i, line := range lines {
				f := strings.Split(line, ",")
				for c := range cols {
					v, err := strconv.ParseFloat(f[2+c], 64)
					if err != nil {
						t.Fatalf("%s:%d: %v", name, i+2, err)
					}
					cols[c] = append(cols[c], v)
				}
			}
			chars := 0
			for c, vs := range cols {
				col := encodeValues(vs)
				chars += len(col.V)
				for i, v := range decode(t, col) {
					if v != vs[i] {
						t.Fatalf("column %d, row %d: %v read back as %v", c, i+2, vs[i], v)
					}
				}
			}
			t.Logf("%d bars: %.2f characters per price", len(lines), float64(chars)/float64(4*len(lines)))
		})
	}
}
