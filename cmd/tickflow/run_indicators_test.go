package main

import (
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/markcheno/go-talib"
	"github.com/stretchr/testify/require"
)

// ohlc reads the columns of a CSV with header symbol,time,open,high,low,close,volume, by symbol.
func ohlc(t *testing.T, path string) map[string][4][]float64 {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	out := map[string][4][]float64{} // high, low, close, volume
	for _, r := range rows[1:] {
		cols := out[r[0]]
		for i, c := range []int{3, 4, 5, 6} {
			v, err := strconv.ParseFloat(r[c], 64)
			require.NoError(t, err)
			cols[i] = append(cols[i], v)
		}
		out[r[0]] = cols
	}
	return out
}

// taLibCMACD is TA-Lib C's MACD from go-talib's Ema (go-talib's Macd seeds
// its EMAs otherwise on the first hundred bars, see package indicators).
func taLibCMACD(c []float64, fast, slow, signal int) (line, sig, hist []float64) {
	n := len(c)
	line, sig, hist = make([]float64, n), make([]float64, n), make([]float64, n)
	f, s := talib.Ema(c[slow-fast:], fast), talib.Ema(c, slow)
	for i := slow - 1; i < n; i++ {
		line[i] = f[i-(slow-fast)] - s[i]
	}
	g := talib.Ema(line[slow-1:], signal)
	for i := slow + signal - 2; i < n; i++ {
		sig[i] = g[i-(slow-1)]
		hist[i] = line[i] - sig[i]
	}
	return line, sig, hist
}

// The acceptance line: run --indicators ... --emit indicators
// --format jsonl writes go-talib's values on the same bars, null exactly
// where go-talib has none.
func TestRunIndicatorsEqualTalib(t *testing.T) {
	paths := []string{writeSynthetic(t, t.TempDir(), 2, 700)}
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "data", "spy-1d.csv")); err == nil {
		paths = append(paths, filepath.Join("..", "..", "..", "shared", "data", "spy-1d.csv"))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			out, errOut, code := cmdline(t, "run", "--csv", path, "--indicators", "macd(12,26,9),bbands(20,2,2),atr(14),slow=sma(200)",
				"--emit", "indicators", "--format", "jsonl")
			require.Equal(t, 0, code, errOut)
			cols := ohlc(t, path)
			type ref struct {
				v     []float64
				first int
			}
			want := map[string]map[string]ref{}
			for sym, c := range cols {
				h, l, cl := c[0], c[1], c[2]
				m, s, hi := taLibCMACD(cl, 12, 26, 9)
				up, mid, lo := talib.BBands(cl, 20, 2, 2, talib.SMA)
				want[sym] = map[string]ref{"macd": {m, 33}, "macd_signal": {s, 33}, "macd_hist": {hi, 33},
					"bbands_upper": {up, 19}, "bbands_middle": {mid, 19}, "bbands_lower": {lo, 19},
					"atr": {talib.Atr(h, l, cl, 14), 14}, "slow": {talib.Sma(cl, 200), 199}}
			}
			bar := map[string]int{}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			require.Len(t, lines, func() int {
				n := 0
				for _, c := range cols {
					n += len(c[2])
				}
				return n
			}())
			for _, line := range lines {
				var rec map[string]any
				require.NoError(t, json.Unmarshal([]byte(line), &rec))
				sym := rec["symbol"].(string)
				i := bar[sym]
				bar[sym]++
				require.Equal(t, cols[sym][2][i], rec["close"], "%s bar %d: the bars line up", sym, i)
				for name, r := range want[sym] {
					v, present := rec[name]
					require.True(t, present, "%s bar %d: field %s", sym, i, name)
					if i < r.first {
						require.Nil(t, v, "%s bar %d: %s is null before go-talib's first value", sym, i, name)
						continue
					}
					require.NotNil(t, v, "%s bar %d: %s", sym, i, name)
					require.InDelta(t, r.v[i], v.(float64), 1e-9*math.Max(1, math.Abs(r.v[i])), "%s bar %d: %s", sym, i, name)
				}
			}
		})
	}
}

func TestRunStrategyFlag(t *testing.T) {
	path := writeSynthetic(t, t.TempDir(), 2, 700)
	out, errOut, code := cmdline(t, "run", "--csv", path, "--strategy", "ema-cross(5,20)", "--format", "jsonl")
	require.Equal(t, 0, code, errOut)
	require.Contains(t, out, `"reason":"ema(5) crossed above ema(20)"`)
	require.NotContains(t, out, "stochrsi")
	_, errOut, code = cmdline(t, "run", "--strategy", "ema-cross(20,5)")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "strategy.name (from --strategy)")
	_, errOut, code = cmdline(t, "run", "--indicators", "ema(5)")
	require.Equal(t, exitUsage, code)
	require.Contains(t, errOut, "add name=")
}
