package indicators

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestPriceFuncsMatchTALibC compares every function of the price family with
// TA-Lib C itself, through the small program in testdata/talib_oracle.c. It
// runs only where TICKFLOW_TALIB_ORACLE names that program built against
// TA-Lib C (see the comment at the top of the file for how).
func TestPriceFuncsMatchTALibC(t *testing.T) {
	oracle := os.Getenv("TICKFLOW_TALIB_ORACLE")
	if oracle == "" {
		t.Skip("TICKFLOW_TALIB_ORACLE is not set: no TA-Lib C to compare with (see testdata/talib_oracle.c)")
	}
	dir := t.TempDir()
	for _, s := range allBars(t, 3000) {
		path := filepath.Join(dir, s.name+".bars")
		var b bytes.Buffer
		for i := range s.len() {
			for j, v := range []float64{s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i]} {
				if j > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
			}
			b.WriteByte('\n')
		}
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, c := range priceCases {
			for _, a := range c.args {
				spec := specOf(c.fn, a)
				want := runPriceOracle(t, oracle, path, c.fn, a)
				sp, err := ParseSpec(spec)
				if err != nil {
					t.Fatal(err)
				}
				st, err := sp.New()
				if err != nil {
					t.Fatal(err)
				}
				got, ok := runStreamer(st, &s, len(sp.Func.Outputs))
				worst, exact := 0.0, true
				for i := range s.len() {
					if i == 0 && spec == "ultosc(1,1,1)" {
						// TA-Lib C writes a value here, read from before
						// the first bar (close[-1]); go-talib and we start
						// at index 1.
						continue
					}
					if ok[i] != (want[i] != nil) {
						t.Errorf("%s %s bar %d: ok = %v, TA-Lib C defined = %v", s.name, spec, i, ok[i], want[i] != nil)
						break
					}
					for j, w := range want[i] {
						g := got[j][i]
						if math.Float64bits(g) != math.Float64bits(w) {
							exact = false
						}
						worst = max(worst, math.Abs(g-w)/math.Max(1, math.Abs(w)))
					}
				}
				t.Logf("%s %s: TA-Lib C bit-exact %v, worst relative difference %.3g", s.name, spec, exact, worst)
				if worst > 1e-9 {
					t.Errorf("%s %s: differs from TA-Lib C by %.3g relative", s.name, spec, worst)
				}
			}
		}
	}
}

// runPriceOracle returns TA-Lib C's outputs of fn on the bars in path: nil where
// it defines none.
func runPriceOracle(t *testing.T, oracle, path, fn string, args []float64) [][]float64 {
	t.Helper()
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmdArgs := []string{strings.ToUpper(fn)}
	for _, a := range args {
		cmdArgs = append(cmdArgs, strconv.FormatFloat(a, 'g', -1, 64))
	}
	cmd := exec.Command(oracle, cmdArgs...)
	cmd.Stdin = in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %v: %v: %s", oracle, cmdArgs, err, stderr.String())
	}
	var out [][]float64
	for n, line := range strings.Split(strings.TrimSpace(string(outb)), "\n") {
		if line == "-" {
			out = append(out, nil)
			continue
		}
		var row []float64
		for _, f := range strings.Split(line, ",") {
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("%s %v: line %d: %v", oracle, cmdArgs, n+1, fmt.Errorf("%q: %w", f, err))
			}
			row = append(row, v)
		}
		out = append(out, row)
	}
	return out
}
