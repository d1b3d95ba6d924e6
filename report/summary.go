package report

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// monthly is a year × month grid of returns: Values[y*12+m] is the return
// of month m (0 is January) of Years[y], NaN where the curve has no data.
type monthly struct {
	Years  []int
	Values []float64
}

// monthlyReturns is each calendar month's (UTC) return of an equity curve:
// its last value over the previous month's last value, minus one. The
// first month is measured from the curve's first value.
func monthlyReturns(n int, at func(int) time.Time, equity []float64) monthly {
	if n == 0 || len(equity) == 0 {
		return monthly{}
	}
	first, last := at(0).UTC().Year(), at(n-1).UTC().Year()
	m := monthly{Years: make([]int, 0, last-first+1), Values: make([]float64, 12*(last-first+1))}
	for y := first; y <= last; y++ {
		m.Years = append(m.Years, y)
	}
	for i := range m.Values {
		m.Values[i] = math.NaN()
	}
	base := math.NaN()
	for i := 0; i < n; {
		t := at(i).UTC()
		cell := (t.Year()-first)*12 + int(t.Month()) - 1
		// j ends the month: equity[j-1] is its last value.
		j := i + 1
		for j < n {
			u := at(j).UTC()
			if u.Year() != t.Year() || u.Month() != t.Month() {
				break
			}
			j++
		}
		if math.IsNaN(base) {
			base = equity[i]
		}
		end := equity[j-1]
		if base != 0 && !math.IsNaN(base) && !math.IsNaN(end) {
			m.Values[cell] = end/base - 1
		}
		if !math.IsNaN(end) {
			base = end
		}
		i = j
	}
	return m
}

// sweepGrid is the heatmap of a sweep: Values[y*len(Xs)+x] is the best Rank
// among the rows with parameter X = Xs[x] and Y = Ys[y], NaN if none.
type sweepGrid struct {
	X, Y   string
	Xs, Ys []float64
	Values []float64
}

// better reports whether a ranks before b; NaN ranks last.
func better(a, b float64, lowerIsBetter bool) bool {
	switch {
	case math.IsNaN(a):
		return false
	case math.IsNaN(b):
		return true
	case lowerIsBetter:
		return a < b
	default:
		return a > b
	}
}

// rankedRows is the sweep's rows best first (stable among equals).
func rankedRows(s *Sweep, rank int) []SweepRow {
	rows := slices.Clone(s.Rows)
	slices.SortStableFunc(rows, func(a, b SweepRow) int {
		x, y := a.Metrics[rank], b.Metrics[rank]
		switch {
		case better(x, y, s.LowerIsBetter):
			return -1
		case better(y, x, s.LowerIsBetter):
			return 1
		}
		return 0
	})
	return rows
}

func grid(s *Sweep, x, y, rank int) sweepGrid {
	g := sweepGrid{X: s.Params[x]}
	for _, r := range s.Rows {
		g.Xs = append(g.Xs, r.Params[x])
		if y >= 0 {
			g.Ys = append(g.Ys, r.Params[y])
		}
	}
	if y >= 0 {
		g.Y = s.Params[y]
	} else {
		g.Ys = []float64{0} // one row: a sweep over one parameter
	}
	slices.Sort(g.Xs)
	slices.Sort(g.Ys)
	g.Xs, g.Ys = slices.Compact(g.Xs), slices.Compact(g.Ys)
	g.Values = make([]float64, len(g.Xs)*len(g.Ys))
	for i := range g.Values {
		g.Values[i] = math.NaN()
	}
	for _, r := range s.Rows {
		xi, _ := slices.BinarySearchFunc(g.Xs, r.Params[x], cmp.Compare[float64])
		yi := 0
		if y >= 0 {
			yi, _ = slices.BinarySearchFunc(g.Ys, r.Params[y], cmp.Compare[float64])
		}
		c := &g.Values[yi*len(g.Xs)+xi]
		if v := r.Metrics[rank]; math.IsNaN(*c) || better(v, *c, s.LowerIsBetter) {
			*c = v
		}
	}
	return g
}
