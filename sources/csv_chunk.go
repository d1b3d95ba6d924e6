package sources

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/tickflow/tickflow/market"
)

// A file is cut into chunks of whole lines. The chunks are parsed, on as
// many goroutines as CSV.Workers allows, into parsedRows that depend on
// nothing but the chunk's bytes; the rows are then applied in file order by
// one goroutine, which alone keeps the symbols' state. So a parallel read
// gives what a sequential one gives, bar for bar and error for error:
//
//	file ──▶ cut at '\n' ──▶ chunk ──▶ parse (worker 0) ──┐
//	                    └──▶ chunk ──▶ parse (worker 1) ──┴──▶ apply in order ──▶ Emit
//
// Line numbers are counted per chunk and offset when applied.

// chunkSize is the size a chunk of lines grows to before it is cut: small
// enough for a chunk and its parsed rows to stay in cache, large enough that
// handing it between goroutines costs nothing.
const chunkSize = 256 << 10

// maxLine is the longest line accepted, in bytes without its end.
const maxLine = 1 << 20

// rowKind tells what a parsedRow holds.
type rowKind uint8

const (
	rowBar     rowKind = iota // a bar, or err for a bad row
	rowTooLong                // the line is longer than maxLine: the file stops here
)

// parsedRow is one data line, parsed without knowledge of other lines.
type parsedRow struct {
	bar market.Bar // without Symbol
	sym []byte     // the symbol field; nil when the file gives the symbol
	// symHash is sym's hash, for csvReader.table: computed here, on the
	// parsing goroutines.
	symHash uint64
	line    int // 1-based, counted from the start of the chunk
	kind    rowKind
	// err, if not nil, is what is wrong with the row, at column errCol (-1:
	// the row as a whole). symUnknown says the symbol could not be read.
	err        error
	errCol     int
	symUnknown bool
}

// chunk is a run of whole lines of one file and, once parsed, its rows.
type chunk struct {
	data  []byte
	arena []byte // quoted symbols, unescaped; cap(arena) >= len(data) so it never moves
	rows  []parsedRow
	lines int   // lines in data
	err   error // reading failed after the previous chunk
	// claimed is set by the goroutine that parses the chunk, which closes
	// done when it has.
	claimed atomic.Bool
	done    chan struct{}
}

// rowParser parses the lines of one file's chunks; each parsing goroutine
// has its own.
type rowParser struct {
	l     *layout
	sp    lineSplitter
	dates dateCache
	seed  maphash.Seed
	num   []byte // a number with its decimal comma made a point
}

func newRowParser(l *layout, seed maphash.Seed) *rowParser {
	return &rowParser{l: l, sp: newLineSplitter(l.sep), seed: seed}
}

// parseChunk parses every line of c.data into c.rows.
func (p *rowParser) parseChunk(c *chunk) {
	if cap(c.arena) < len(c.data) {
		c.arena = make([]byte, 0, len(c.data))
	}
	c.arena = c.arena[:0]
	rows := c.rows[:0]
	data := c.data
	if want := len(data)/48 + 16; cap(rows) < want {
		// Sized for typical rows up front: growing would copy them.
		rows = make([]parsedRow, 0, want)
	}
	line := 0
	for len(data) > 0 {
		var b []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			b, data = data[:i], data[i+1:]
		} else {
			b, data = data, nil
		}
		line++
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
		if len(b) > maxLine {
			rows = append(rows, parsedRow{line: line, kind: rowTooLong})
			break
		}
		if len(b) == 0 {
			continue
		}
		rows = append(rows, parsedRow{})
		p.parse(&rows[len(rows)-1], b, line, c)
	}
	c.rows, c.lines = rows, line
}

var errEmpty = errors.New("empty")

// parse reads one data line into row.
func (p *rowParser) parse(row *parsedRow, b []byte, line int, c *chunk) {
	l := p.l
	row.line = line
	fields, quoted, qerr := p.sp.split(b, l.n)
	bad := func(col int, err error) {
		row.errCol, row.err = col, err
	}
	if sc := l.symbol(); sc >= 0 {
		if sc >= len(fields) {
			row.symUnknown = true
		} else if sb := fields[sc]; len(sb) == 0 {
			row.symUnknown = true
			if qerr != nil {
				bad(qerr.col, qerr)
			} else {
				bad(sc, errEmpty)
			}
			return
		} else if quoted {
			// The field is in the splitter's buffer, reused by the next
			// line: keep a copy with the chunk.
			start := len(c.arena)
			c.arena = append(c.arena, sb...)
			row.sym = c.arena[start:len(c.arena):len(c.arena)]
		} else {
			row.sym = sb
		}
		row.symHash = maphash.Bytes(p.seed, row.sym)
	}
	if qerr != nil {
		bad(qerr.col, qerr)
		return
	}
	if len(fields) != l.n {
		if l.header {
			bad(-1, fmt.Errorf("%d fields, header has %d", len(fields), l.n))
		} else {
			bad(-1, fmt.Errorf("%d fields, want %d (%s layout)", len(fields), l.n, l.name))
		}
		return
	}
	bar := &row.bar
	var err error
	col := &l.col
	if bar.Time, err = parseTime(fields[col[1]], &p.dates); err != nil {
		bad(col[1], err)
		return
	}
	for i, v := range [...]*float64{&bar.Open, &bar.High, &bar.Low, &bar.Close, &bar.Volume} {
		f := fields[col[i+2]]
		if *v, err = parseNumber(f); err != nil {
			if l.sep == ',' || !decimalComma(f, p) {
				bad(col[i+2], err)
				return
			}
			if *v, err = parseNumber(p.num); err != nil {
				bad(col[i+2], err)
				return
			}
		}
	}
	if l.raw >= 0 {
		if err := adjust(bar, fields[l.raw]); err != nil {
			bad(l.raw, err)
			return
		}
	}
	switch {
	case bar.Volume < 0:
		bad(col[6], fmt.Errorf("%s is negative", fmtNum(bar.Volume)))
	case bar.High < bar.Low:
		bad(col[3], fmt.Errorf("%s is below low %s", fmtNum(bar.High), fmtNum(bar.Low)))
	case bar.Open < bar.Low || bar.Open > bar.High:
		bad(col[2], outside(bar.Open, *bar))
	case bar.Close < bar.Low || bar.Close > bar.High:
		bad(col[5], outside(bar.Close, *bar))
	}
}

// decimalComma reads a number written with a decimal comma, as files
// delimited by ';' or tabs have them (185,64): with one comma and no point,
// it puts the number with a point in p.num and returns true.
func decimalComma(f []byte, p *rowParser) bool {
	i := bytes.IndexByte(f, ',')
	if i < 0 || bytes.IndexByte(f[i+1:], ',') >= 0 || bytes.IndexByte(f, '.') >= 0 {
		return false
	}
	p.num = append(append(append(p.num[:0], f[:i]...), '.'), f[i+1:]...)
	return true
}

// adjust scales open, high and low by the ratio of the adjusted close (in
// bar.Close) to the unadjusted one, raw, as (x / raw) · adjusted: rounding
// is monotonic, so a price equal to raw becomes exactly the adjusted close
// and the order of the four prices stays.
func adjust(bar *market.Bar, raw []byte) error {
	r, err := parseNumber(raw)
	if err != nil {
		return err
	}
	if r <= 0 || bar.Close <= 0 {
		return fmt.Errorf("%s: cannot adjust by the adjusted close %s (both must be positive)", fmtNum(r), fmtNum(bar.Close))
	}
	bar.Open = bar.Open / r * bar.Close
	bar.High = bar.High / r * bar.Close
	bar.Low = bar.Low / r * bar.Close
	return nil
}

func outside(v float64, bar market.Bar) error {
	return fmt.Errorf("%s is outside [low %s, high %s]", fmtNum(v), fmtNum(bar.Low), fmtNum(bar.High))
}

// lineCutter cuts a stream into chunks of whole lines.
type lineCutter struct {
	r     io.Reader
	size  int    // a chunk grows to at least this size, unless the input ends
	carry []byte // the start of a line cut off at the end of the last chunk
	eof   bool
}

// next fills c.data with the next run of whole lines (the last line of the
// input may lack its '\n'). It returns false at the end of the input. A
// line longer than maxLine, found before its end, ends the chunk there: the
// parser reports it.
func (lc *lineCutter) next(c *chunk) (bool, error) {
	const minRead = 64 << 10
	buf := append(c.data[:0], lc.carry...)
	lc.carry = lc.carry[:0]
	size := lc.size
	for {
		if cap(buf) < size+minRead {
			nb := make([]byte, len(buf), size+minRead)
			copy(nb, buf)
			buf = nb
		}
		for len(buf) < size && !lc.eof {
			n, err := lc.r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				lc.eof = true
			} else if err != nil {
				c.data = buf[:0]
				return false, err
			}
		}
		if lc.eof {
			c.data = buf
			return len(buf) > 0, nil
		}
		if i := bytes.LastIndexByte(buf, '\n'); i >= 0 {
			lc.carry = append(lc.carry, buf[i+1:]...)
			c.data = buf[:i+1]
			return true, nil
		}
		if len(buf) > maxLine+2 { // longer than maxLine even with "\r\n"
			// Nothing of the line after maxLine matters: the file stops.
			c.data = buf
			lc.eof = true
			return true, nil
		}
		// One line fills the chunk so far: read on to its end.
		size = len(buf) + minRead
	}
}

// chunkReader parses one file's chunks, on workers goroutines (the caller's
// among them) when there is more than one chunk, and hands them to apply in
// file order.
type chunkReader struct {
	workers int
	size    int
	seed    maphash.Seed // of parsedRow.symHash
}

// chunks keeps chunks, with their buffers, from file to file.
var chunks = sync.Pool{New: func() any { return new(chunk) }}

// read cuts src (after the first chunk, already cut) into chunks, parses
// them and calls apply for each in order. apply returning false stops the
// file; read returns apply's error or a read error (with the chunk it
// happened after already applied).
func (cr *chunkReader) read(ctx context.Context, l *layout, lc *lineCutter, first *chunk,
	apply func(*chunk) (bool, error)) error {
	if lc.eof || cr.workers <= 1 {
		return cr.readSequential(l, lc, first, apply)
	}
	return cr.readParallel(ctx, l, lc, first, apply)
}

func (cr *chunkReader) get() *chunk { return chunks.Get().(*chunk) }

func (cr *chunkReader) put(c *chunk) {
	c.err = nil
	c.done = nil
	// The rows' errors and symbols stay until overwritten: they are small,
	// or point into the chunk itself.
	c.rows = c.rows[:0]
	chunks.Put(c)
}

func (cr *chunkReader) readSequential(l *layout, lc *lineCutter, c *chunk, apply func(*chunk) (bool, error)) error {
	p := newRowParser(l, cr.seed)
	for {
		p.parseChunk(c)
		ok, err := apply(c)
		if err != nil || !ok {
			cr.put(c)
			return err
		}
		more, rerr := lc.next(c)
		if rerr != nil {
			cr.put(c)
			return rerr
		}
		if !more {
			cr.put(c)
			return nil
		}
	}
}

// readParallel parses chunks on workers-1 helper goroutines and on this
// one, which also cuts the chunks and applies them in order. A chunk is
// parsed by whoever claims it first (claimed), who then closes its done;
// while a helper parses the next chunk to apply, this goroutine parses later
// ones instead of waiting, so that a helper the operating system has not
// scheduled costs little. Every helper has ended when it returns.
func (cr *chunkReader) readParallel(ctx context.Context, l *layout, lc *lineCutter, first *chunk,
	apply func(*chunk) (bool, error)) error {
	ahead := 2 * cr.workers // chunks cut and not yet applied
	// jobs offers chunks to the helpers; a send never blocks (a chunk not
	// taken is parsed here), so it may hold a chunk that was parsed and
	// reused since: claiming sorts that out.
	jobs := make(chan *chunk, ahead)
	stop := make(chan struct{}) // closed when the file stops: helpers skip parsing
	var wg sync.WaitGroup
	for range cr.workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := newRowParser(l, cr.seed)
			for c := range jobs {
				if c.claimed.CompareAndSwap(false, true) {
					select {
					case <-stop:
					default:
						p.parseChunk(c)
					}
					close(c.done)
				}
			}
		}()
	}
	var queue, free []*chunk // cut, in file order; applied, to reuse
	stopped := false
	defer func() {
		if !stopped {
			close(stop)
		}
		for _, c := range queue {
			if c.claimed.CompareAndSwap(false, true) {
				close(c.done)
			}
			<-c.done
		}
		close(jobs)
		wg.Wait()
		// Only now may another reader have the chunks: no helper holds one.
		for _, c := range append(queue, free...) {
			cr.put(c)
		}
	}()
	offer := func(c *chunk) {
		c.done = make(chan struct{})
		c.claimed.Store(false) // after done is set, for a claimer to see it
		queue = append(queue, c)
		select {
		case jobs <- c:
		default:
		}
	}
	var readErr error
	cut := func() {
		if lc.eof && len(lc.carry) == 0 || readErr != nil {
			return
		}
		var c *chunk
		if n := len(free); n > 0 {
			c, free = free[n-1], free[:n-1]
		} else {
			c = cr.get()
		}
		more, err := lc.next(c)
		switch {
		case err != nil:
			readErr = err
		case more:
			offer(c)
			return
		}
		free = append(free, c)
	}
	offer(first)
	for len(queue) < ahead && !(lc.eof && len(lc.carry) == 0) && readErr == nil {
		cut()
	}
	p := newRowParser(l, cr.seed)
	for len(queue) > 0 {
		c := queue[0]
		if c.claimed.CompareAndSwap(false, true) {
			p.parseChunk(c)
			close(c.done)
		}
		// While a helper parses c, parse the later chunks no one has.
		for _, d := range queue[1:] {
			if isClosed(c.done) {
				break
			}
			if d.claimed.CompareAndSwap(false, true) {
				p.parseChunk(d)
				close(d.done)
			}
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			stopped = true
			close(stop)
			return ctx.Err()
		}
		ok, err := apply(c)
		if err != nil || !ok {
			stopped = true
			close(stop)
			return err
		}
		queue = queue[1:]
		free = append(free, c)
		cut()
	}
	return readErr
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
