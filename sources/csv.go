package sources

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// MaxSkipReasons is how many reasons [CSV.SkipReasons] keeps: the first ones
// tell what is wrong with a file, the rest would only repeat it.
const MaxSkipReasons = 10

// CSV is a source that streams bars from CSV files. Its zero value reads
// nothing (Produce fails: no paths); set Paths.
//
// # Format
//
// The first non-blank line is a header naming the columns symbol, time, open,
// high, low, close and volume, in any order and any letter case; other
// columns are ignored. Without a symbol column, the file name without its
// extension is the symbol of every row. A UTF-8 byte order mark, CRLF line
// ends, blank lines, spaces around fields and RFC 4180 double-quoted fields
// are accepted; a quoted field may not span lines.
//
// time is one of:
//   - RFC 3339, with or without fractional seconds, any offset
//     (2024-01-02T14:30:00Z, 2024-01-02T09:30:00.5-05:00);
//   - a date, 2024-01-02, meaning midnight UTC;
//   - Unix time as an integer: seconds when its absolute value is below 10^11
//     (up to the year 5138), else milliseconds (from March 1973 on).
//
// Times are stored in UTC. Prices and volume are decimal numbers as
// strconv.ParseFloat reads them; they must be finite, volume must not be
// negative, high must not be below low, open and close must lie within
// [low, high], and time must increase strictly within a symbol (across files
// too).
//
// # Order
//
// Files are read one after another, in the order of Paths; a folder stands
// for every *.csv file in it (not its subfolders), sorted by name. Rows are
// emitted in file order, then row order. Files are streamed, never loaded
// whole.
//
// # Cost
//
// Lines are parsed by hand (no encoding/csv record per row, no
// time.Parse or strconv for the usual forms): about 8 million rows a second
// on one core, with no allocation per row beyond one string per distinct
// symbol.
//
// # Errors
//
// A bad row (wrong field count, bad quoting, a value that does not parse or
// breaks the rules above) is a [*RowError] naming the file, line and field:
//
//	sources.CSV: data/spy.csv:118: close: "abc" is not a number
//
// By default the row's symbol fails (Emitter.Fail) and its later rows are
// skipped, while every other symbol goes on; a row whose symbol cannot be
// determined (an empty symbol field, quoting broken before it) fails every
// symbol of its file (or, when no row of the file had a symbol, is reported
// with the file's path as the key). With SkipBadRows the row is skipped instead and
// counted ([CSV.Skipped], [CSV.SkipReasons]).
//
// A path that cannot be read, a folder without CSV files, an empty file, a
// header without a required column and a line longer than 1 MiB end Produce
// with a one-line error; they are checked file by file, except that every
// path is checked to exist before the first bar is emitted.
//
// Produce must not be called concurrently on one CSV; a CSV must not be
// copied once used.
type CSV struct {
	// Paths are files or folders, read in this order.
	Paths []string
	// SkipBadRows skips and counts bad rows instead of failing their symbol.
	SkipBadRows bool
	// OnSkip, if not nil, is called with each skipped row's error, from the
	// goroutine running Produce.
	OnSkip func(err error)

	skipped atomic.Int64
	mu      sync.Mutex
	reasons []error
}

// Skipped returns how many bad rows the last Produce skipped (SkipBadRows).
// It may be called while Produce runs.
func (c *CSV) Skipped() int64 { return c.skipped.Load() }

// SkipReasons returns the errors of the first [MaxSkipReasons] rows skipped
// by the last Produce.
func (c *CSV) SkipReasons() []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.reasons)
}

// RowError is a bad row of a CSV file.
type RowError struct {
	Path  string // the file, as found from CSV.Paths
	Line  int    // 1-based line number
	Field string // the column at fault; "" when the row as a whole is bad
	Err   error  // what is wrong
}

func (e *RowError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("sources.CSV: %s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("sources.CSV: %s:%d: %s: %v", e.Path, e.Line, e.Field, e.Err)
}

func (e *RowError) Unwrap() error { return e.Err }

// Produce emits the bars of every file of c.Paths, in order. It returns nil at
// the end of the last file, ctx.Err() once ctx is done, or the first fatal
// error (unreadable path, empty file, bad header).
func (c *CSV) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	files, err := csvFiles(c.Paths)
	if err != nil {
		return err
	}
	c.skipped.Store(0)
	c.mu.Lock()
	c.reasons = nil
	c.mu.Unlock()

	r := newCSVReader(c, out)
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.readFile(ctx, path); err != nil {
			return err
		}
	}
	return nil
}

// csvFiles expands c.Paths into the files to read, checking every path before
// anything is emitted so that a typo in the last path fails fast.
func csvFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("sources.CSV: no paths")
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("sources.CSV: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		entries, err := os.ReadDir(p) // sorted by name
		if err != nil {
			return nil, fmt.Errorf("sources.CSV: %w", err)
		}
		n := len(files)
		for _, e := range entries {
			if !e.IsDir() && strings.EqualFold(filepath.Ext(e.Name()), ".csv") {
				files = append(files, filepath.Join(p, e.Name()))
			}
		}
		if len(files) == n {
			return nil, fmt.Errorf("sources.CSV: %s: folder has no .csv files", p)
		}
	}
	return files, nil
}

// symState is what the reader knows of one symbol. There is one per distinct
// symbol, and its name is the only string made for that symbol's rows.
type symState struct {
	name     string
	last     time.Time // time of the symbol's last accepted row
	lastPath string
	lastLine int // 0: no accepted row yet
	failed   bool
	file     int // sequence number of the last file the symbol was seen in
}

// csvReader reads the files of one Produce call.
type csvReader struct {
	c    *CSV
	out  pipeline.Emitter[market.Event]
	br   *bufio.Reader
	syms map[string]*symState
	// recent holds the last symbols looked up: files hold one symbol or a
	// few interleaved, so this saves hashing the name on nearly every row.
	recent [8]*symState
	next   int // the slot of recent to replace next
	dates  dateCache

	// per file
	path     string
	fileSeq  int
	cols     columns
	fileSym  *symState   // the symbol of every row, when there is no symbol column
	fileSyms []*symState // symbols seen in this file, to fail them all at once
	fileErr  error       // set once a row without a known symbol failed the file

	fields [][]byte
	unq    []byte // unquoted fields of the current row
}

func newCSVReader(c *CSV, out pipeline.Emitter[market.Event]) *csvReader {
	return &csvReader{c: c, out: out, syms: make(map[string]*symState)}
}

// readBufSize is large so that reading costs few system calls; lines longer
// than this are refused.
const readBufSize = 1 << 20

func (r *csvReader) readFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("sources.CSV: %w", err)
	}
	defer f.Close()
	return r.read(ctx, path, f)
}

// checkEvery is how many rows pass between two looks at ctx: rare enough to
// cost nothing, frequent enough (~0.1 ms) to stop promptly.
const checkEvery = 1024

// read streams one file's rows to r.out. path is used in messages.
func (r *csvReader) read(ctx context.Context, path string, src io.Reader) error {
	if r.br == nil {
		r.br = bufio.NewReaderSize(src, readBufSize)
	} else {
		r.br.Reset(src)
	}
	r.path = path
	r.fileSeq++
	r.fileSym = nil
	r.fileSyms = r.fileSyms[:0]
	r.fileErr = nil

	line := 0
	header := true
	for {
		b, err := r.br.ReadSlice('\n')
		switch {
		case err == nil:
		case err == io.EOF:
			if len(b) == 0 {
				if header {
					return fmt.Errorf("sources.CSV: %s: empty file", path)
				}
				r.endFile()
				return nil
			}
		case errors.Is(err, bufio.ErrBufferFull):
			return fmt.Errorf("sources.CSV: %s:%d: line longer than %d bytes", path, line+1, readBufSize)
		default:
			return fmt.Errorf("sources.CSV: %s: %w", path, err)
		}
		line++
		b = trimEOL(b)
		if header {
			if line == 1 {
				b = trimBOM(b)
			}
			if len(trimSpace(b)) == 0 {
				continue
			}
			if err := r.header(b, line); err != nil {
				return err
			}
			header = false
			continue
		}
		if len(b) == 0 {
			continue
		}
		if line%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if err := r.row(ctx, b, line); err != nil {
			return err
		}
	}
}

// row handles one data line: it emits its bar, fails its symbol, or skips it.
// Only emitting can fail the whole Produce.
func (r *csvReader) row(ctx context.Context, b []byte, line int) error {
	bar, sym, rerr := r.parse(b, line)
	if rerr == nil {
		if sym.failed {
			return nil
		}
		if err := r.out.Emit(market.Event{Bar: bar}); err != nil {
			return emitErr(ctx, err)
		}
		return nil
	}
	if sym != nil && sym.failed {
		return nil // a later row of a symbol that already failed
	}
	if r.c.SkipBadRows {
		r.skip(rerr)
		return nil
	}
	if sym != nil {
		r.fail(sym, rerr)
		return nil
	}
	// The row's symbol is unknown: it may belong to any symbol of the file.
	if r.fileErr == nil {
		r.fileErr = rerr
	}
	for _, s := range r.fileSyms {
		if !s.failed {
			r.fail(s, rerr)
		}
	}
	return nil
}

// endFile reports a failure of the file as a whole that no symbol carried,
// because the file had no row with a symbol: then the path is the key, so
// that the failure is not lost.
func (r *csvReader) endFile() {
	if r.fileErr != nil && len(r.fileSyms) == 0 {
		r.out.Fail(r.path, r.fileErr)
	}
}

func (r *csvReader) fail(s *symState, err error) {
	s.failed = true
	r.out.Fail(s.name, err)
}

func (r *csvReader) skip(err error) {
	c := r.c
	if c.skipped.Add(1) <= MaxSkipReasons {
		c.mu.Lock()
		c.reasons = append(c.reasons, err)
		c.mu.Unlock()
	}
	if c.OnSkip != nil {
		c.OnSkip(err)
	}
}

// symbol returns the state of the symbol named b, making it on first sight.
func (r *csvReader) symbol(b []byte) *symState {
	for _, s := range r.recent {
		if s != nil && s.name == string(b) { // no allocation: compares bytes
			r.seen(s)
			return s
		}
	}
	s := r.syms[string(b)]
	if s == nil {
		s = &symState{name: string(b)}
		r.syms[s.name] = s
	}
	r.recent[r.next] = s
	r.next = (r.next + 1) % len(r.recent)
	r.seen(s)
	return s
}

// seen notes that s appears in the current file; if a row without a known
// symbol already failed this file, s fails with it.
func (r *csvReader) seen(s *symState) {
	if s.file == r.fileSeq {
		return
	}
	s.file = r.fileSeq
	r.fileSyms = append(r.fileSyms, s)
	if r.fileErr != nil && !s.failed && !r.c.SkipBadRows {
		r.fail(s, r.fileErr)
	}
}

// parse reads one data line into a bar. It returns the row's symbol whenever
// it can be determined, also with an error.
func (r *csvReader) parse(b []byte, line int) (market.Bar, *symState, *RowError) {
	var bar market.Bar
	cols := &r.cols
	fields, qerr := r.split(b, cols.n)
	var sym *symState
	switch {
	case r.fileSym != nil:
		sym = r.fileSym
		r.seen(sym)
	case cols.symbol < len(fields):
		sb := fields[cols.symbol]
		if len(sb) == 0 {
			if qerr != nil {
				return bar, nil, r.rowErr(line, qerr.col, qerr)
			}
			return bar, nil, r.rowErr(line, cols.symbol, errEmpty)
		}
		sym = r.symbol(sb)
	}
	if qerr != nil {
		return bar, sym, r.rowErr(line, qerr.col, qerr)
	}
	if len(fields) != cols.n {
		return bar, sym, r.rowErr(line, -1, fmt.Errorf("%d fields, header has %d", len(fields), cols.n))
	}
	if sym.failed {
		return bar, sym, nil
	}
	bar.Symbol = sym.name

	var err error
	if bar.Time, err = parseTime(fields[cols.time], &r.dates); err != nil {
		return bar, sym, r.rowErr(line, cols.time, err)
	}
	if bar.Open, err = parseNumber(fields[cols.open]); err != nil {
		return bar, sym, r.rowErr(line, cols.open, err)
	}
	if bar.High, err = parseNumber(fields[cols.high]); err != nil {
		return bar, sym, r.rowErr(line, cols.high, err)
	}
	if bar.Low, err = parseNumber(fields[cols.low]); err != nil {
		return bar, sym, r.rowErr(line, cols.low, err)
	}
	if bar.Close, err = parseNumber(fields[cols.close]); err != nil {
		return bar, sym, r.rowErr(line, cols.close, err)
	}
	if bar.Volume, err = parseNumber(fields[cols.volume]); err != nil {
		return bar, sym, r.rowErr(line, cols.volume, err)
	}
	if bar.Volume < 0 {
		return bar, sym, r.rowErr(line, cols.volume, fmt.Errorf("%s is negative", fmtNum(bar.Volume)))
	}
	if bar.High < bar.Low {
		return bar, sym, r.rowErr(line, cols.high, fmt.Errorf("%s is below low %s", fmtNum(bar.High), fmtNum(bar.Low)))
	}
	if bar.Open < bar.Low || bar.Open > bar.High {
		return bar, sym, r.rowErr(line, cols.open, outside(bar.Open, bar))
	}
	if bar.Close < bar.Low || bar.Close > bar.High {
		return bar, sym, r.rowErr(line, cols.close, outside(bar.Close, bar))
	}
	if sym.lastLine > 0 && !bar.Time.After(sym.last) {
		return bar, sym, r.rowErr(line, cols.time, r.notAfter(bar.Time, sym))
	}
	sym.last, sym.lastPath, sym.lastLine = bar.Time, r.path, line
	return bar, sym, nil
}

var errEmpty = errors.New("empty")

func outside(v float64, bar market.Bar) error {
	return fmt.Errorf("%s is outside [low %s, high %s]", fmtNum(v), fmtNum(bar.Low), fmtNum(bar.High))
}

func (r *csvReader) notAfter(t time.Time, s *symState) error {
	where := fmt.Sprintf("line %d", s.lastLine)
	if s.lastPath != r.path {
		where = fmt.Sprintf("%s:%d", s.lastPath, s.lastLine)
	}
	verb := "is before"
	if t.Equal(s.last) {
		verb = "repeats"
	}
	return fmt.Errorf("%s %s %s of %s on %s (times must increase within a symbol)",
		t.Format(time.RFC3339Nano), verb, s.last.Format(time.RFC3339Nano), s.name, where)
}

func (r *csvReader) rowErr(line, col int, err error) *RowError {
	e := &RowError{Path: r.path, Line: line, Err: err}
	switch {
	case col >= len(r.cols.names):
		e.Field = fmt.Sprintf("field %d", col+1) // beyond the header
	case col >= 0:
		e.Field = r.cols.names[col]
	}
	return e
}

// columns maps the columns of a file's header.
type columns struct {
	n                                    int      // fields per row
	names                                []string // lower-cased names, for messages
	symbol                               int      // -1: no symbol column
	time, open, high, low, close, volume int
}

func (r *csvReader) header(b []byte, line int) error {
	fields, qerr := r.split(b, -1)
	if qerr != nil {
		return fmt.Errorf("sources.CSV: %s:%d: header: %v", r.path, line, qerr)
	}
	cols := columns{n: len(fields), symbol: -1, time: -1, open: -1, high: -1, low: -1, close: -1, volume: -1}
	for i, f := range fields {
		name := strings.ToLower(string(f))
		cols.names = append(cols.names, name)
		var p *int
		switch name {
		case "symbol":
			p = &cols.symbol
		case "time":
			p = &cols.time
		case "open":
			p = &cols.open
		case "high":
			p = &cols.high
		case "low":
			p = &cols.low
		case "close":
			p = &cols.close
		case "volume":
			p = &cols.volume
		default:
			continue
		}
		if *p >= 0 {
			return fmt.Errorf("sources.CSV: %s:%d: header: column %q appears twice", r.path, line, name)
		}
		*p = i
	}
	for _, c := range []struct {
		name string
		i    int
	}{{"time", cols.time}, {"open", cols.open}, {"high", cols.high}, {"low", cols.low}, {"close", cols.close}, {"volume", cols.volume}} {
		if c.i < 0 {
			return fmt.Errorf("sources.CSV: %s:%d: header: no %q column (want symbol,time,open,high,low,close,volume)", r.path, line, c.name)
		}
	}
	r.cols = cols
	if cols.symbol < 0 {
		name := filepath.Base(r.path)
		name = strings.TrimSuffix(name, filepath.Ext(name))
		if name == "" {
			return fmt.Errorf("sources.CSV: %s:%d: header: no symbol column, and no file name to take the symbol from", r.path, line)
		}
		s := r.syms[name]
		if s == nil {
			s = &symState{name: name}
			r.syms[name] = s
		}
		r.fileSym = s
	}
	return nil
}
