package sinks

import (
	"bufio"
	"io"
	"math"
	"os"
	"time"

	"github.com/tickflow/tickflow/market"
)

// DefaultFlushInterval is the FlushInterval of a sink that leaves it zero:
// short enough for a person watching a live feed, long enough that a
// backtest writes out only when the buffer is full.
const DefaultFlushInterval = 100 * time.Millisecond

// outBufSize is the output buffer: large enough that a write system call
// carries hundreds of records.
const outBufSize = 64 << 10

// output is the buffered writer the text sinks share. Records are appended
// to bufio's free space (AvailableBuffer), so encoding copies nothing.
type output struct {
	bw       *bufio.Writer
	interval time.Duration
	last     time.Time // last write-out
	err      error     // first write error; output stops there
}

func (o *output) init(w io.Writer, interval time.Duration) {
	if o.bw != nil {
		return
	}
	if w == nil {
		w = os.Stdout
	}
	if interval == 0 {
		interval = DefaultFlushInterval
	}
	o.bw = bufio.NewWriterSize(w, outBufSize)
	o.interval = interval
	o.last = time.Now()
}

// buf returns an empty slice whose capacity is the buffer's free space.
func (o *output) buf() []byte { return o.bw.AvailableBuffer() }

// write appends one record, b, which was built on buf().
func (o *output) write(b []byte) {
	if o.err != nil {
		return
	}
	_, o.err = o.bw.Write(b)
}

// endWrite ends a Write: it writes the buffer out if the last write-out is
// older than the interval.
func (o *output) endWrite() error {
	if o.err != nil {
		return o.err
	}
	if o.interval > 0 && o.bw.Buffered() > 0 {
		if now := time.Now(); now.Sub(o.last) >= o.interval {
			o.err = o.bw.Flush()
			o.last = now
		}
	}
	return o.err
}

func (o *output) flush() error {
	if o.bw == nil || o.err != nil {
		return o.err
	}
	o.err = o.bw.Flush()
	o.last = time.Now()
	return o.err
}

// appendNumber appends v as encoding/json writes a float64 (see
// [market.AppendJSONFloat]), or null when v is NaN or infinite.
func appendNumber(b []byte, v float64, null string) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, null...)
	}
	return market.AppendJSONFloat(b, v)
}
