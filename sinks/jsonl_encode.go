package sinks

import (
	"bufio"
	"io"
	"math"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
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

// appendNumber appends v as encoding/json writes a float64 (shortest
// round-trip digits; exponent form only for magnitudes below 1e-6 or from
// 1e21, with the exponent's leading zero dropped), or null when v is NaN or
// infinite.
func appendNumber(b []byte, v float64, null string) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, null...)
	}
	if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) {
		b = strconv.AppendFloat(b, v, 'e', -1, 64)
		// e-07 → e-7, as JavaScript and encoding/json write it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does with HTML escaping off: quote, backslash and control characters
// escaped, invalid UTF-8 replaced by U+FFFD, U+2028 and U+2029 escaped for
// JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
