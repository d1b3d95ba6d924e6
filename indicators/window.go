package indicators

// slot is one value of a sliding window with its position in the stream.
type slot struct {
	v float64
	i int
}

// extremes tracks the minimum and maximum of the last size values with two
// monotonic deques kept in fixed rings: each value is pushed and popped at
// most once per deque, so push is O(1) amortized and never allocates.
type extremes struct {
	size     int
	lo, hi   []slot // rings of capacity size
	loH, loN int    // head and length of lo
	hiH, hiN int
}

func (w *extremes) init(size int, buf []slot) {
	*w = extremes{size: size, lo: buf[:size:size], hi: buf[size : 2*size : 2*size]}
}

func (w *extremes) reset() { w.loH, w.loN, w.hiH, w.hiN = 0, 0, 0, 0 }

// push adds v at stream position i (consecutive from 0) and drops the value
// that left the window. It keeps both extremes in one body, so that
// StochRSI's hot path makes no calls; a window of one extreme is a
// [peakDeque].
func (w *extremes) push(v float64, i int) {
	// Evict before pushing so a ring of size slots never overflows: at most
	// one value leaves per push, the oldest, which sits at the front.
	old := i - w.size
	if w.loN > 0 && w.lo[w.loH].i <= old {
		w.loH = w.wrap(w.loH + 1)
		w.loN--
	}
	if w.hiN > 0 && w.hi[w.hiH].i <= old {
		w.hiH = w.wrap(w.hiH + 1)
		w.hiN--
	}
	// Equal values are interchangeable: only the extreme's value is used.
	for w.loN > 0 && w.lo[w.wrap(w.loH+w.loN-1)].v > v {
		w.loN--
	}
	w.lo[w.wrap(w.loH+w.loN)] = slot{v, i}
	w.loN++
	for w.hiN > 0 && w.hi[w.wrap(w.hiH+w.hiN-1)].v < v {
		w.hiN--
	}
	w.hi[w.wrap(w.hiH+w.hiN)] = slot{v, i}
	w.hiN++
}

// wrap maps j in 0..2*size-1 into the ring without a division.
func (w *extremes) wrap(j int) int {
	if j >= w.size {
		j -= w.size
	}
	return j
}

func (w *extremes) min() float64 { return w.lo[w.loH].v }
func (w *extremes) max() float64 { return w.hi[w.hiH].v }

// sma is go-talib's simple moving average, streamed: the first n-1 values are
// summed from 0.0; then each value is added, the sum divided by n, and the
// oldest value subtracted, in that order, so the running sum rounds as
// go-talib's does.
type sma struct {
	n     int
	fn    float64
	buf   []float64 // ring of the last n values
	pos   int
	seen  int // values counted, saturating at n-1
	total float64
}

func (s *sma) init(n int, buf []float64) { *s = sma{n: n, fn: float64(n), buf: buf[:n:n]} }

func (s *sma) reset() { s.pos, s.seen, s.total = 0, 0, 0 }

func (s *sma) update(x float64) (float64, bool) {
	s.total += x
	s.buf[s.pos] = x
	s.pos++
	if s.pos == s.n {
		s.pos = 0
	}
	if s.seen < s.n-1 {
		s.seen++
		return 0, false
	}
	out := s.total / s.fn
	s.total -= s.buf[s.pos] // the oldest value of this window
	return out, true
}
