package backtest

import (
	"math"
	"strconv"
	"strings"
)

// MaxValues bounds the values of one parameter and the combinations of a
// grid, so that a typo like 1:1e9 fails at once instead of exhausting
// memory.
const MaxValues = 10_000_000

// Param is a swept parameter and its values.
type Param struct {
	Name   string
	Values []float64
}

// ParseParam reads a parameter's values: a number ("14"), a list
// ("20,50,100"), a range with both ends inclusive ("5:50" steps by 1,
// "10:30:5" by 5), or a list of any of these ("5,10:20:5"). Values keep
// their order; an empty range (a > b, a step that is not positive) is an
// ErrUsage error naming the parameter.
func ParseParam(name, spec string) (Param, error) {
	p := Param{Name: name}
	if strings.TrimSpace(spec) == "" {
		return p, usagef("backtest: --%s: no values", name)
	}
	for item := range strings.SplitSeq(spec, ",") {
		item = strings.TrimSpace(item)
		parts := strings.Split(item, ":")
		if len(parts) > 3 {
			return p, usagef("backtest: --%s %q: a range is a:b or a:b:step", name, item)
		}
		nums := make([]float64, len(parts))
		for i, s := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return p, usagef("backtest: --%s %q: %q is not a number", name, item, s)
			}
			nums[i] = v
		}
		if len(nums) == 1 {
			p.Values = append(p.Values, nums[0])
			continue
		}
		a, b, step := nums[0], nums[1], 1.0
		if len(nums) == 3 {
			step = nums[2]
		}
		if !(step > 0) || a > b {
			return p, usagef("backtest: --%s %q: empty range", name, item)
		}
		count := math.Floor((b-a)/step+1e-9) + 1
		if count+float64(len(p.Values)) > MaxValues {
			return p, usagef("backtest: --%s %q: more than %d values", name, item, MaxValues)
		}
		for i := range int(count) {
			// a + i*step, not repeated addition: 0.1 steps stay on the grid.
			p.Values = append(p.Values, a+float64(i)*step)
		}
	}
	return p, nil
}

// combinations returns every combination of the params' values that where
// accepts (nil accepts all), the first parameter varying slowest.
func combinations(params []Param, where *Expr) ([][]float64, int, error) {
	total := 1.0
	for _, p := range params {
		if len(p.Values) == 0 {
			return nil, 0, usagef("backtest: --%s: no values", p.Name)
		}
		total *= float64(len(p.Values))
	}
	if total > MaxValues {
		return nil, 0, usagef("backtest: %.0f combinations, more than %d", total, MaxValues)
	}
	var out [][]float64
	cur := make([]float64, len(params))
	pruned := 0
	var rec func(i int)
	rec = func(i int) {
		if i == len(params) {
			if where != nil && !where.Eval(cur) {
				pruned++
				return
			}
			out = append(out, append([]float64(nil), cur...))
			return
		}
		for _, v := range params[i].Values {
			cur[i] = v
			rec(i + 1)
		}
	}
	rec(0)
	return out, pruned, nil
}
