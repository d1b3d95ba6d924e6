package nats

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/market"
)

// A bars message is
//
//	"TFB" version(1) | uvarint len(symbol) | symbol | uvarint n |
//	n × ( varint Δseconds | uvarint nanoseconds | open high low close volume )
//
// with each price and the volume a little-endian IEEE float64, so every value
// comes back exactly, and each bar's time as seconds since the previous bar's
// (the first: since the Unix epoch) plus its nanoseconds: two or three bytes
// for regular bars, about 43 bytes a bar in all. A decoder rejects any other
// version, so a later layout takes the next one.
const (
	barsMagic   = "TFB"
	barsVersion = 1
	// MaxBarsPerMessage bounds n, so a foreign message cannot make a decoder
	// allocate without limit.
	MaxBarsPerMessage = 4096
)

// ErrForeignMessage reports a message that tickflow did not write (or wrote
// in a layout this version does not read).
var ErrForeignMessage = errors.New("not a tickflow bars message")

// AppendBars appends the encoding of bars, which must all be symbol's, to
// dst.
func AppendBars(dst []byte, symbol string, bars []market.Bar) []byte {
	dst = append(dst, barsMagic...)
	dst = append(dst, barsVersion)
	dst = binary.AppendUvarint(dst, uint64(len(symbol)))
	dst = append(dst, symbol...)
	dst = binary.AppendUvarint(dst, uint64(len(bars)))
	var prev int64
	for i := range bars {
		b := &bars[i]
		sec := b.Time.Unix()
		dst = binary.AppendVarint(dst, sec-prev) // wraps like the decoder's sum
		dst = binary.AppendUvarint(dst, uint64(b.Time.Nanosecond()))
		prev = sec
		for _, v := range [5]float64{b.Open, b.High, b.Low, b.Close, b.Volume} {
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
		}
	}
	return dst
}

// DecodeBars reads what AppendBars wrote, appending the bars to dst. Bar
// times are in UTC. An error names what is wrong and wraps
// ErrForeignMessage.
func DecodeBars(data []byte, dst []market.Bar) (symbol string, bars []market.Bar, err error) {
	fail := func(format string, a ...any) (string, []market.Bar, error) {
		return "", dst, fmt.Errorf("%w: %s", ErrForeignMessage, fmt.Sprintf(format, a...))
	}
	if len(data) < len(barsMagic)+1 || string(data[:len(barsMagic)]) != barsMagic {
		return fail("no %q header", barsMagic)
	}
	if v := data[len(barsMagic)]; v != barsVersion {
		return fail("version %d (this tickflow reads %d)", v, barsVersion)
	}
	r := data[len(barsMagic)+1:]
	n, k := uvarint(r)
	if k <= 0 || n > uint64(len(r)-k) {
		return fail("bad symbol length")
	}
	r = r[k:]
	symbol, r = string(r[:n]), r[n:]
	count, k := uvarint(r)
	if k <= 0 || count > MaxBarsPerMessage {
		return fail("symbol %q: bad bar count", symbol)
	}
	r = r[k:]
	// Each bar is at least 42 bytes: refuse a count the data cannot hold
	// before allocating for it.
	if count*42 > uint64(len(r)) {
		return fail("symbol %q: %d bars announced, %d bytes left", symbol, count, len(r))
	}
	bars = dst
	if bars == nil || cap(bars)-len(bars) < int(count) {
		bars = append(make([]market.Bar, 0, len(dst)+int(count)), dst...)
	}
	var sec int64
	for i := range int(count) {
		d, k := varint(r)
		if k <= 0 {
			return fail("symbol %q: bar %d: bad time", symbol, i)
		}
		r = r[k:]
		ns, k := uvarint(r)
		if k <= 0 || ns >= 1e9 {
			return fail("symbol %q: bar %d: bad nanoseconds", symbol, i)
		}
		r = r[k:]
		if len(r) < 40 {
			return fail("symbol %q: bar %d: truncated", symbol, i)
		}
		sec += d
		var v [5]float64
		for j := range v {
			v[j] = math.Float64frombits(binary.LittleEndian.Uint64(r[8*j:]))
		}
		r = r[40:]
		bars = append(bars, market.Bar{Symbol: symbol, Time: time.Unix(sec, int64(ns)).UTC(),
			Open: v[0], High: v[1], Low: v[2], Close: v[3], Volume: v[4]})
	}
	if len(r) != 0 {
		return fail("symbol %q: %d bytes after the last bar", symbol, len(r))
	}
	return symbol, bars, nil
}

// uvarint and varint read only the shortest encoding (what Append* write),
// so that a message has one meaning and one form.
func uvarint(b []byte) (uint64, int) {
	v, k := binary.Uvarint(b)
	if k > 1 && b[k-1] == 0 {
		return 0, 0
	}
	return v, k
}

func varint(b []byte) (int64, int) {
	v, k := binary.Varint(b)
	if k > 1 && b[k-1] == 0 {
		return 0, 0
	}
	return v, k
}

// BarsMsgID is the Nats-Msg-Id of a message of symbol's bars from first to
// last (n of them): the same bars give the same id, so the server drops a
// re-ingested message as a duplicate.
func BarsMsgID(symbol string, first, last time.Time, n int) string {
	return "b:" + EscapeSymbol(symbol) + ":" + stamp(first) + ":" + stamp(last) + ":" + strconv.Itoa(n)
}

// SignalMsgID is the Nats-Msg-Id of a signal: its symbol, bar time and side.
func SignalMsgID(s market.Signal) string {
	return "s:" + EscapeSymbol(s.Symbol) + ":" + stamp(s.Time) + ":" + s.Side.String()
}

func stamp(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + "." + fmt.Sprintf("%09d", t.Nanosecond())
}
