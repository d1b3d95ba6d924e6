package indicators

import (
	"math"
)

// peakDeque tracks the maximum (or, with low set, the minimum) of the last
// size values of a stream and the position where it occurred, with one
// monotonic deque in a fixed ring: each value is pushed and popped at most
// once, so push is O(1) amortized and never allocates. Of equal extremes the
// latest is kept, as go-talib's Aroon reports it.
type peakDeque struct {
	low  bool // track the minimum instead of the maximum
	size int
	ring []slot
	head int
	n    int
}

func (q *peakDeque) init(size int, low bool) {
	*q = peakDeque{low: low, size: size, ring: make([]slot, size)}
}

func (q *peakDeque) reset() { q.head, q.n = 0, 0 }

// push adds v at stream position i (consecutive from 0) and drops what left
// the window.
func (q *peakDeque) push(v float64, i int) {
	if q.n > 0 && q.ring[q.head].i <= i-q.size {
		q.head = q.at(1)
		q.n--
	}
	for q.n > 0 {
		back := q.ring[q.at(q.n-1)].v
		if (q.low && back < v) || (!q.low && back > v) {
			break
		}
		q.n--
	}
	q.ring[q.at(q.n)] = slot{v, i}
	q.n++
}

// at maps an offset from the head (0..size) into the ring without a division.
func (q *peakDeque) at(k int) int {
	j := q.head + k
	if j >= q.size {
		j -= q.size
	}
	return j
}

// peak returns the window's extreme and its stream position.
func (q *peakDeque) peak() (float64, int) {
	s := q.ring[q.head]
	return s.v, s.i
}

// lagRing holds the last n values of a stream: push returns the value n
// pushes back, once there is one.
type lagRing struct {
	buf  []float64
	pos  int
	full bool
}

func (r *lagRing) init(n int) { *r = lagRing{buf: make([]float64, n)} }

func (r *lagRing) reset() { r.pos, r.full = 0, false }

func (r *lagRing) push(x float64) (old float64, ok bool) {
	old, ok = r.buf[r.pos], r.full
	r.buf[r.pos] = x
	r.pos++
	if r.pos == len(r.buf) {
		r.pos, r.full = 0, true
	}
	return old, ok
}

// nearZero is TA-Lib's TA_IS_ZERO test, in go-talib's form.
func nearZero(x float64) bool { return (-0.00000000000001 < x) && (x < 0.00000000000001) }

// trueRange is TA-Lib's true range of a bar against the previous close.
func trueRange(high, low, prevClose float64) float64 {
	tr := high - low
	if v := math.Abs(high - prevClose); v > tr {
		tr = v
	}
	if v := math.Abs(low - prevClose); v > tr {
		tr = v
	}
	return tr
}
