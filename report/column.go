package report

import (
	"math"
	"strings"
	"time"
)

// column is a series of numbers in the page's compact form: each value is
// an integer q with value = q / 10^D (q × 10^-D when D < 0); the integers
// are delta-coded (of order O: 1 the difference from the previous value, 2
// the difference of differences, for regular time steps) and written as
// zigzag varints, 5 bits per character of [digits] with the sixth bit
// marking that more follow. The code 0 is NaN (order 1 only), so the
// stored code is zigzag(delta)+1. chart.js's decodeColumn is the inverse.
//
// A typical 1-minute price step costs 2 characters, a regular time step 1,
// and the alphabet needs no escaping in JSON or HTML.
type column struct {
	N int    `json:"n"`
	D int    `json:"d"`
	O int    `json:"o,omitempty"`
	V string `json:"v"`
}

const digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// maxScaled keeps every integer exact in a JavaScript number (2^53) with
// room for the deltas and zigzag doubling.
const maxScaled = 1 << 50

// significant is how many significant digits of a column's largest
// magnitude a value keeps when no exact decimal form exists: finer than a
// chart's pixels (a 1/10,000 of its height) and its 7-digit labels; each
// further digit costs about 3 bits per value.
const significant = 7

// scaleFor picks D: the fewest decimals (0 to 10) that hold every value
// exactly, or else enough for [significant] digits of the largest magnitude.
func scaleFor(vs []float64) int {
	maxAbs := 0.0
	for _, v := range vs {
		if a := math.Abs(v); !math.IsNaN(v) && a > maxAbs {
			maxAbs = a
		}
	}
	if maxAbs == 0 {
		return 0
	}
	for d := 0; d <= 10; d++ {
		p := math.Pow10(d)
		if maxAbs*p >= maxScaled {
			break
		}
		exact := true
		for _, v := range vs {
			if !math.IsNaN(v) && math.Round(v*p)/p != v {
				exact = false
				break
			}
		}
		if exact {
			return d
		}
	}
	// Beyond ±300 decimals 10^d overflows; values under 1e-292 keep fewer
	// digits, a magnitude no price or account reaches.
	d := min(significant-1-int(math.Floor(math.Log10(maxAbs))), 300)
	for d > -300 && maxAbs*math.Pow10(d) >= maxScaled {
		d--
	}
	return d
}

// scaled is v in units of 10^-d, as chart.js reads it back.
func scaled(v float64, d int) int64 {
	if d >= 0 {
		return int64(math.Round(v * math.Pow10(d)))
	}
	return int64(math.Round(v / math.Pow10(-d)))
}

// encodeValues encodes finite values and NaN (a gap); callers have already
// rejected infinities.
func encodeValues(vs []float64) column {
	d := scaleFor(vs)
	var b strings.Builder
	b.Grow(len(vs) * 2)
	var prev int64
	for _, v := range vs {
		if math.IsNaN(v) {
			b.WriteByte(digits[0])
			continue
		}
		q := scaled(v, d)
		putVarint(&b, zigzag(q-prev)+1)
		prev = q
	}
	return column{N: len(vs), D: d, V: b.String()}
}

// encodeTimes encodes times as Unix milliseconds, delta of delta.
func encodeTimes(n int, at func(int) time.Time) column {
	var b strings.Builder
	b.Grow(n + 16)
	var prev, step int64
	for i := range n {
		ms := at(i).UnixMilli()
		s := ms - prev
		putVarint(&b, zigzag(s-step)+1)
		prev, step = ms, s
	}
	return column{N: n, O: 2, V: b.String()}
}

func zigzag(n int64) uint64 { return uint64(n<<1) ^ uint64(n>>63) }

func putVarint(b *strings.Builder, u uint64) {
	for u >= 32 {
		b.WriteByte(digits[32|u&31])
		u >>= 5
	}
	b.WriteByte(digits[u])
}
