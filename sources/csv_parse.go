package sources

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"time"
	"unsafe"
)

// The CSV reader parses lines by hand: encoding/csv allocates a record per
// row and strconv and time.Parse handle far more than bars need. Each fast
// path below accepts a subset of what its standard counterpart accepts, gives
// the identical result (the fuzz tests check it), and hands anything else to
// the standard function.

// quoteError is a field whose double quotes do not follow RFC 4180.
type quoteError struct{ col int }

func (e *quoteError) Error() string { return "bad quoting" }

// lineSplitter cuts lines into fields at one delimiter byte. Each parsing
// goroutine has its own.
type lineSplitter struct {
	sep     byte
	sepWord uint64 // sep in every byte
	fields  [][]byte
	unq     []byte // unquoted fields of the current line
}

func newLineSplitter(sep byte) lineSplitter {
	return lineSplitter{sep: sep, sepWord: uint64(sep) * 0x0101010101010101}
}

// split cuts a line into fields, reusing p.fields. The fields alias b (or
// p.unq for quoted fields, then quoted is true) and are valid until the next
// call. want is the expected field count, used only to size the slice. On
// bad quoting it returns the fields before the bad one.
func (p *lineSplitter) split(b []byte, want int) (fields [][]byte, quoted bool, qerr *quoteError) {
	fields = p.fields[:0]
	if want > cap(fields) {
		fields = make([][]byte, 0, want)
		p.fields = fields
	}
	sep := p.sep
	// Find delimiters (and quotes) eight bytes at a time: this loop runs
	// over every byte of the file.
	start, i := 0, 0
	for ; i+8 <= len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		m := zeroBytes(w^p.sepWord) | zeroBytes(w^quotes)
		for ; m != 0; m &= m - 1 {
			j := i + bits.TrailingZeros64(m)/8
			if b[j] == '"' {
				fields = fields[:0]
				goto quoted
			}
			fields = append(fields, trimSpace(b[start:j]))
			start = j + 1
		}
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case sep:
			fields = append(fields, trimSpace(b[start:i]))
			start = i + 1
		case '"':
			fields = fields[:0]
			goto quoted
		}
	}
	fields = append(fields, trimSpace(b[start:]))
	p.keep(fields)
	return fields, false, nil

quoted:
	// Quoted fields are unescaped into p.unq, grown up front so that the
	// fields already cut from it stay valid.
	if cap(p.unq) < len(b) {
		p.unq = make([]byte, 0, len(b))
	}
	unq := p.unq[:0]
	for col := 0; ; col++ {
		f := p.trimLeft(b)
		if len(f) == 0 || f[0] != '"' {
			i := bytes.IndexByte(f, sep)
			end := len(f)
			if i >= 0 {
				end = i
			}
			if bytes.IndexByte(f[:end], '"') >= 0 {
				p.keep(fields)
				return fields, true, &quoteError{col}
			}
			fields = append(fields, p.trimSpace(f[:end]))
			if i < 0 {
				p.keep(fields)
				return fields, true, nil
			}
			b = f[i+1:]
			continue
		}
		start := len(unq)
		i := 1
		for {
			j := bytes.IndexByte(f[i:], '"')
			if j < 0 {
				p.keep(fields)
				return fields, true, &quoteError{col} // unterminated
			}
			unq = append(unq, f[i:i+j]...)
			i += j + 1
			if i < len(f) && f[i] == '"' { // "" is an escaped quote
				unq = append(unq, '"')
				i++
				continue
			}
			break
		}
		fields = append(fields, unq[start:len(unq):len(unq)])
		rest := p.trimLeft(f[i:])
		if len(rest) == 0 {
			p.keep(fields)
			return fields, true, nil
		}
		if rest[0] != sep {
			p.keep(fields)
			return fields, true, &quoteError{col}
		}
		b = rest[1:]
	}
}

// trimLeft and trimSpace trim spaces and tabs, except a tab that is the
// delimiter.
func (p *lineSplitter) trimLeft(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) && b[0] != p.sep {
		b = b[1:]
	}
	return b
}

func (p *lineSplitter) trimSpace(b []byte) []byte {
	b = p.trimLeft(b)
	for len(b) > 0 && isSpace(b[len(b)-1]) && b[len(b)-1] != p.sep {
		b = b[:len(b)-1]
	}
	return b
}

// keep keeps fields' array for the next line, if append grew it.
func (p *lineSplitter) keep(fields [][]byte) {
	if cap(fields) > cap(p.fields) {
		p.fields = fields[:0]
	}
}

const (
	quotes = 0x2222222222222222 // '"' in every byte
	low7   = 0x7f7f7f7f7f7f7f7f
)

// zeroBytes returns w with the high bit set in exactly the bytes that are
// zero (adding 0x7f to the low seven bits carries into the high bit unless
// they are all zero).
func zeroBytes(w uint64) uint64 {
	return ^((w&low7 + low7) | w | low7)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func trimLeft(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

func trimSpace(b []byte) []byte {
	b = trimLeft(b)
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// str views b as a string without copying, for calls that do not keep it
// (strconv and time copy what they put in errors).
func str(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// fmtNum formats a value for a message, shortest form that reads back
// exactly.
func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseNumber reads a finite decimal number.
func parseNumber(b []byte) (float64, error) {
	if v, ok := fastFloat(b); ok {
		return v, nil
	}
	v, err := strconv.ParseFloat(str(b), 64)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%q is out of range", b)
	case err != nil:
		return 0, fmt.Errorf("%q is not a number", b)
	case math.IsNaN(v) || math.IsInf(v, 0):
		return 0, fmt.Errorf("%q is not finite", b)
	}
	return v, nil
}

// fastFloat reads [-]digits[.digits] of at most 19 digits, giving the
// float64 nearest to the decimal, as strconv.ParseFloat does:
//   - when the digits, read as an integer m, fit in 53 bits and there are at
//     most 22 decimals d, m and 10^d are exact float64 values and m / 10^d
//     is correctly rounded (Clinger's fast path); bar prices nearly always
//     qualify;
//   - otherwise, with 1 to 19 decimals, [quotient] divides in integers.
func fastFloat(b []byte) (float64, bool) {
	i := 0
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		i = 1
	}
	var m uint64
	start := i
	for ; i < len(b) && b[i]-'0' < 10; i++ {
		m = m*10 + uint64(b[i]-'0')
	}
	digits := i - start
	decimals := 0
	if i < len(b) && b[i] == '.' {
		i++
		fstart := i
		for ; i < len(b) && b[i]-'0' < 10; i++ {
			m = m*10 + uint64(b[i]-'0')
		}
		decimals = i - fstart
		digits += decimals
	}
	// More than 19 digits could overflow m.
	if i != len(b) || digits == 0 || digits > 19 {
		return 0, false
	}
	var v float64
	switch {
	case m <= 1<<53 && decimals < len(pow10):
		v = float64(m)
		if decimals > 0 {
			v /= pow10[decimals]
		}
	case decimals > 0:
		var ok bool
		if v, ok = quotient(m, decimals); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// pow10u holds 10^0 .. 10^19, the powers of ten that fit in a uint64.
var pow10u = func() (p [20]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// quotient returns m / 10^d (m > 0, 1 <= d <= 19) rounded to the nearest
// float64, ties to even: the long decimals that a float64 printed in full
// has (99.25010361306825). It shifts m left so that the integer quotient
// has 55 or 56 bits, divides once (128 by 64 bits), and rounds the quotient
// to 53 bits with the remainder as sticky bit: exact integer arithmetic, so
// no case needs a slower path. It fails only when m would have to shift
// right (m of 60 bits or more with few decimals).
func quotient(m uint64, d int) (float64, bool) {
	p := pow10u[d]
	s := 55 - bits.Len64(m) + bits.Len64(p)
	if s < 0 {
		return 0, false
	}
	// m << s as 128 bits; m·2^s / p < 2^56, so hi < p as Div64 requires.
	var hi, lo uint64
	if s >= 64 {
		hi, lo = m<<(s-64), 0
	} else {
		hi, lo = m>>(64-s), m<<s
		if s == 0 {
			hi = 0
		}
	}
	q, r := bits.Div64(hi, lo, p)
	extra := bits.Len64(q) - 53 // 2 or 3 bits below the mantissa
	mant := q >> extra
	rest := q & (1<<extra - 1)
	half := uint64(1) << (extra - 1)
	if rest > half || rest == half && (r != 0 || mant&1 == 1) {
		mant++
		if mant == 1<<53 {
			mant >>= 1
			extra++
		}
	}
	// The value is mant · 2^(extra-s), mant in [2^52, 2^53).
	exp := extra - s + 52 + 1023
	return math.Float64frombits(uint64(exp)<<52 | mant&(1<<52-1)), true
}

// Integer times are Unix seconds below unixMilliFrom in magnitude (10^11 s
// is the year 5138), milliseconds below unixMicroFrom (10^14 ms is also the
// year 5138, 10^11 ms March 1973), else microseconds (Binance's spot klines
// since 2025; 10^14 µs is March 1973).
const (
	unixMilliFrom = 1e11
	unixMicroFrom = 1e14
)

// timeLayouts are the layouts time.Parse is tried with, in this order, when
// the fast path declines; fastTime accepts a subset of them.
var timeLayouts = []string{
	time.RFC3339,
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05", // no offset: UTC
	"2006-01-02 15:04:05",
	time.DateOnly,
}

// errTimeWant is what a time may be, for messages.
const errTimeWant = "want RFC 3339, YYYY-MM-DD[ HH:MM:SS], or Unix seconds, milliseconds or microseconds"

// parseTime reads a time in one of timeLayouts or Unix seconds, milliseconds
// or microseconds, and returns it in UTC.
func parseTime(b []byte, dc *dateCache) (time.Time, error) {
	if t, ok := fastTime(b, dc); ok {
		return t, nil
	}
	if v, ok := parseInt(b); ok {
		switch {
		case v > -unixMilliFrom && v < unixMilliFrom:
			return time.Unix(v, 0).UTC(), nil
		case v > -unixMicroFrom && v < unixMicroFrom:
			return time.UnixMilli(v).UTC(), nil
		}
		return time.UnixMicro(v).UTC(), nil
	}
	if t, ok := parseTimeLayouts(str(b)); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time (%s)", b, errTimeWant)
}

// parseTimeLayouts is the slow path of parseTime, and the reference its
// fast path is fuzzed against.
func parseTimeLayouts(s string) (time.Time, bool) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseInt reads [-]digits of up to 18 digits, so that it cannot overflow.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// dateCache remembers the last date fastTime read: rows of a file mostly
// share their date with the row before.
type dateCache struct {
	date [10]byte // YYYY-MM-DD
	days int64    // since 1970-01-01; valid when date[0] != 0
}

// fastTime reads YYYY-MM-DD, or YYYY-MM-DD(T| )HH:MM:SS[.fraction][Z|±HH:MM]
// with 1 to 9 fraction digits (no offset: UTC); anything else is left to
// time.Parse.
func fastTime(b []byte, dc *dateCache) (time.Time, bool) {
	n := len(b)
	if n != 10 && (n < 19 || b[10] != 'T' && b[10] != ' ' || b[13] != ':' || b[16] != ':') {
		return time.Time{}, false
	}
	days := dc.days
	if dc.date[0] == 0 || string(b[:10]) != string(dc.date[:]) {
		if b[4] != '-' || b[7] != '-' {
			return time.Time{}, false
		}
		year, ok1 := digits(b[0:4])
		month, ok2 := digits(b[5:7])
		day, ok3 := digits(b[8:10])
		if !(ok1 && ok2 && ok3) || month < 1 || month > 12 || day < 1 || day > daysIn(month, year) {
			return time.Time{}, false
		}
		days = daysSinceEpoch(year, month, day)
		copy(dc.date[:], b[:10])
		dc.days = days
	}
	if n == 10 {
		return time.Unix(days*86400, 0).UTC(), true
	}
	hour, ok4 := digits(b[11:13])
	minute, ok5 := digits(b[14:16])
	sec, ok6 := digits(b[17:19])
	if !(ok4 && ok5 && ok6) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if i < n && b[i] == '.' {
		i++
		start := i
		for i < n && b[i] >= '0' && b[i] <= '9' {
			if i-start == 9 {
				return time.Time{}, false
			}
			nsec = nsec*10 + int(b[i]-'0')
			i++
		}
		if i == start {
			return time.Time{}, false
		}
		for k := i - start; k < 9; k++ {
			nsec *= 10
		}
	}
	offset := 0
	switch {
	case i == n:
	case i == n-1 && b[i] == 'Z':
	case i == n-6 && (b[i] == '+' || b[i] == '-') && b[i+3] == ':':
		oh, ok1 := digits(b[i+1 : i+3])
		om, ok2 := digits(b[i+4 : i+6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if b[i] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	unix := days*86400 + int64(hour*3600+minute*60+sec-offset)
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// digits reads a short run of decimal digits.
func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysSinceEpoch counts days from 1970-01-01 to a proleptic Gregorian date,
// counting years from March so that the leap day comes last.
func daysSinceEpoch(year, month, day int) int64 {
	y := int64(year)
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400                   // [0, 399]
	mp := int64((month + 9) % 12)        // March = 0
	doy := (153*mp+2)/5 + int64(day) - 1 // [0, 365]
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
