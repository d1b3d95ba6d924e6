package sources

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
)

// MaxSkipReasons is how many reasons [CSV.SkipReasons] keeps: the first ones
// tell what is wrong with a file, the rest would only repeat it.
const MaxSkipReasons = 10

// MaxSymbolLen is the longest symbol a CSV file may hold, in bytes.
const MaxSymbolLen = 64

// CSV is a source that streams bars from CSV files. Its zero value reads
// nothing (Produce fails: no paths); set Paths. The other fields are
// optional; their zero values are the defaults.
//
// # Layouts
//
// The delimiter is a comma, a semicolon or a tab: whichever of them is most
// frequent (outside quotes) in the first non-blank line, a comma on a tie.
// That line is a header naming the columns, in any order and any letter
// case; other columns are ignored. A bar's fields are found by name:
//
//	symbol  symbol, ticker
//	time    time, date, datetime, timestamp, open_time, open time
//	open    open
//	high    high
//	low     low
//	close   close
//	volume  volume, vol
//
// A field's own name wins over its aliases; two aliases of one field (date
// and timestamp, say) are an error, resolved with Columns, which also names
// the columns of any other header (the CLI's --columns time=Date,close=Price).
// Without a symbol column, the file name without its extension (.csv or
// .csv.gz) is the symbol of every row.
//
// So pandas' to_csv output (the index column named date, datetime or
// timestamp) reads as it is, and so does Yahoo Finance's
// Date,Open,High,Low,Close,Adj Close,Volume: the symbol is the file name,
// and close is the Close column (adjusted for splits only). To read the
// Adj Close column (adjusted for dividends too) instead, set
// Columns.Close to "Adj Close" (--columns "close=Adj Close"): when close
// is so an adjusted close (a column named Adj Close, adj_close, adjclose,
// Adjusted Close or adjusted_close) and the header also has a close column,
// open, high and low are adjusted by the same ratio, as open / close · adj
// close, so that the bar stays consistent.
//
// A file whose first line has 12 fields, the first an integer, is a
// header-less Binance kline file: open time (Unix milliseconds, or
// microseconds as Binance's spot files since 2025 have it), open, high, low,
// close, volume, and six columns that are ignored. Binance names its files
// SYMBOL-INTERVAL-DATE.csv: the symbol is the file name up to its first '-'.
//
// A file whose content starts as gzip (whatever its name) is decompressed.
// A UTF-8 byte order mark, CRLF line ends, blank lines, spaces around fields
// and RFC 4180 double-quoted fields are accepted; a quoted field may not
// span lines.
//
// time is one of:
//   - RFC 3339, with or without fractional seconds, any offset
//     (2024-01-02T14:30:00Z, 2024-01-02T09:30:00.5-05:00);
//   - the same with a space for the T, or without an offset, meaning UTC
//     (2024-01-02 14:30:00, as pandas and many exports write it);
//   - a date, 2024-01-02, meaning midnight UTC;
//   - Unix time as an integer: seconds when its absolute value is below 10^11
//     (up to the year 5138), milliseconds below 10^14 (from March 1973 on),
//     else microseconds (from March 1973 on).
//
// Times are stored in UTC. Prices and volume are decimal numbers as
// strconv.ParseFloat reads them (in files delimited by ';' or tabs, also
// with a decimal comma instead of the point: 185,64, as spreadsheets in
// much of Europe write them); they must be finite, volume must not be
// negative, high must not be below low, and open and close must lie within
// [low, high].
//
// A symbol is at most [MaxSymbolLen] bytes of UTF-8 whose every character is
// printable (unicode.IsPrint: letters, marks, numbers, punctuation, symbols
// and the ASCII space; no control character, NUL or other space). A row of
// any other symbol is a bad row of that symbol (see Errors).
//
// # Order and duplicates
//
// Within a symbol, bars are emitted in strictly increasing time, across
// files too. The rows of a symbol in one file may run oldest first or
// newest first: newest first when its first three distinct times fall (or
// the only two it has), else oldest first. A file exported newest first is
// so read in time order (its rows are held until the file ends). A row
// against the direction is a bad row naming both lines, unless Sort is set:
// then each file is read whole, and its rows sorted by time (a stable sort:
// rows of equal time keep their order).
//
// A row equal in every field to the symbol's row before it (in time order)
// is an exact duplicate, as exchange exports repeat them: it is dropped and
// counted. A row of the same time with other values is a bad row naming
// both lines, unless OnDuplicate says which of the two to keep.
//
// Rows are emitted in file order, then row order, except that rows whose
// fate is not yet known are held back (with every row after them, so that
// the order stays): a symbol's first row in a file until its direction is
// known, every row until its successor has been seen with
// DuplicateKeepLast, and the whole file with Sort or when newest first.
// Holding is bounded: once 65,536 rows are held, the first held row is
// decided on what was seen (a symbol whose rows went down once runs newest
// first, else oldest first; with DuplicateKeepLast, a row that the bound
// releases can no longer be replaced, and a later conflicting duplicate of
// it is an error). Rows held for a whole file cost about 150 bytes each.
//
// # Folders
//
// Files are read one after another, in the order of Paths. A folder stands
// for every *.csv and *.csv.gz file under it, in subfolders too, in the
// order filepath.WalkDir visits them: by name, a subfolder's files where
// the subfolder's name sorts. Names starting with "." are skipped.
//
// # Cost
//
// Lines are parsed by hand (no encoding/csv record per row, no time.Parse
// or strconv for the usual forms), millions of rows a second on one core
// (BenchmarkCSV), with no allocation per row beyond one string per distinct
// symbol. A
// large file is cut into 256 KiB chunks of whole lines that Workers
// goroutines parse at once; one goroutine then applies the parsed rows in
// file order, so the result is the same whatever Workers is.
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
// counted ([CSV.Skipped], [CSV.SkipReasons], [CSV.Stats]).
//
// A file that cannot be read as a whole (it cannot be opened, is empty or
// corrupt, has a header without a required column, or a line longer than
// 1 MiB) fails the symbols read from it so far, or its path when there are
// none, with a one-line error naming the file, and the next file is read.
// Produce itself fails only when there is nothing to read: no paths, a path
// that does not exist (every path is checked before the first bar is
// emitted) or a folder without CSV files.
//
// Produce must not be called concurrently on one CSV; a CSV must not be
// copied once used.
type CSV struct {
	// Paths are files or folders, read in this order.
	Paths []string
	// Columns names the columns of headers that the built-in names do not
	// find.
	Columns CSVColumns
	// OnDuplicate is what to do with two rows of a symbol with the same time
	// and different values; the default fails them.
	OnDuplicate DuplicatePolicy
	// Sort reads every file whole and sorts its rows by time, instead of
	// failing rows out of order.
	Sort bool
	// SkipBadRows skips and counts bad rows instead of failing their symbol.
	SkipBadRows bool
	// OnSkip, if not nil, is called with each skipped row's error, from the
	// goroutine running Produce.
	OnSkip func(err error)
	// Workers is how many goroutines parse a large file; 0 means
	// runtime.GOMAXPROCS(0), 1 parses on the goroutine running Produce.
	Workers int

	skipped atomic.Int64
	mu      sync.Mutex
	reasons []error
	stats   []*fileStats
}

// DuplicatePolicy is what [CSV] does with two rows of a symbol with the
// same time and different values.
type DuplicatePolicy uint8

const (
	DuplicateFail      DuplicatePolicy = iota // the later row is a bad row naming both lines
	DuplicateKeepFirst                        // the later row is dropped and counted
	DuplicateKeepLast                         // the earlier row is dropped and counted
)

// ParseDuplicatePolicy reads a policy as the CLI's --on-duplicate flag
// takes it: error, first or last.
func ParseDuplicatePolicy(s string) (DuplicatePolicy, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "error", "":
		return DuplicateFail, nil
	case "first":
		return DuplicateKeepFirst, nil
	case "last":
		return DuplicateKeepLast, nil
	}
	return 0, fmt.Errorf("sources.CSV: on duplicate: %q is not error, first or last", s)
}

func (p DuplicatePolicy) String() string {
	switch p {
	case DuplicateFail:
		return "error"
	case DuplicateKeepFirst:
		return "first"
	case DuplicateKeepLast:
		return "last"
	}
	return fmt.Sprintf("DuplicatePolicy(%d)", uint8(p))
}

// Order is the time order a symbol's rows had in a file.
type Order uint8

const (
	OrderAscending  Order = iota // oldest first (or a single row)
	OrderDescending              // newest first, read in reverse
	OrderSorted                  // neither, sorted (CSV.Sort)
)

func (o Order) String() string {
	switch o {
	case OrderAscending:
		return "ascending"
	case OrderDescending:
		return "descending"
	case OrderSorted:
		return "sorted"
	}
	return fmt.Sprintf("Order(%d)", uint8(o))
}

// CSVFileStats is what [CSV.Produce] did with one file.
type CSVFileStats struct {
	Path      string
	Layout    string // LayoutHeader or LayoutBinance; "" if it was not found
	Delimiter byte
	Gzip      bool
	// Err is why the file was not read to its end, nil if it was.
	Err error
	// Symbols are the symbols of the file's rows, in the order first seen.
	Symbols []CSVSymbolStats
}

// CSVSymbolStats counts one symbol's rows in one file.
type CSVSymbolStats struct {
	Symbol     string
	Rows       int64 // data rows
	Bars       int64 // bars emitted
	Duplicates int64 // exact duplicates dropped
	Conflicts  int64 // rows of a repeated time with other values, dropped by OnDuplicate
	Skipped    int64 // bad rows skipped (SkipBadRows)
	Order      Order
	// Err is why the symbol failed in this file, nil if it did not.
	Err error
}

// fileStats is a file's CSVFileStats while the file is read.
type fileStats struct {
	CSVFileStats
	syms []*CSVSymbolStats
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

// Stats returns what the last Produce did, file by file, in the order read.
// It must be called after Produce returns.
func (c *CSV) Stats() []CSVFileStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]CSVFileStats, len(c.stats))
	for i, f := range c.stats {
		out[i] = f.CSVFileStats
		out[i].Symbols = make([]CSVSymbolStats, len(f.syms))
		for j, s := range f.syms {
			out[i].Symbols[j] = *s
		}
	}
	return out
}

// CSVTotals sums [CSV.Stats] for a one-line summary.
type CSVTotals struct {
	Files       int   // files read
	FailedFiles int   // files not read to their end (CSVFileStats.Err)
	Symbols     int   // distinct symbols
	Rows        int64 // data rows
	Bars        int64 // bars emitted
	Duplicates  int64 // exact duplicates dropped
	Conflicts   int64 // rows of a repeated time dropped by OnDuplicate
	Skipped     int64 // bad rows skipped (SkipBadRows)
	Descending  int   // files with a symbol read newest first
	Sorted      int   // files with a symbol sorted (Sort)
}

// Totals sums what the last Produce did. It must be called after Produce
// returns.
func (c *CSV) Totals() CSVTotals {
	var t CSVTotals
	syms := map[string]bool{}
	for _, f := range c.Stats() {
		t.Files++
		if f.Err != nil {
			t.FailedFiles++
		}
		var down, sorted bool
		for _, s := range f.Symbols {
			syms[s.Symbol] = true
			t.Rows += s.Rows
			t.Bars += s.Bars
			t.Duplicates += s.Duplicates
			t.Conflicts += s.Conflicts
			t.Skipped += s.Skipped
			down = down || s.Order == OrderDescending
			sorted = sorted || s.Order == OrderSorted
		}
		if down {
			t.Descending++
		}
		if sorted {
			t.Sorted++
		}
	}
	t.Symbols = len(syms)
	return t
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
// the end of the last file, ctx.Err() once ctx is done, or an error when
// there is nothing to read (see Errors).
func (c *CSV) Produce(ctx context.Context, out pipeline.Emitter[market.Event]) error {
	files, err := csvFiles(c.Paths)
	if err != nil {
		return err
	}
	c.skipped.Store(0)
	c.mu.Lock()
	c.reasons = nil
	c.stats = nil
	c.mu.Unlock()

	r := newCSVReader(c, out)
	for _, path := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := r.readFile(ctx, path); err != nil {
			return ctxOr(ctx, err)
		}
	}
	return ctxOr(ctx, r.finish())
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
		n := len(files)
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.IsDir() && isCSVName(name) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sources.CSV: %w", err)
		}
		if len(files) == n {
			return nil, fmt.Errorf("sources.CSV: %s: folder has no .csv or .csv.gz files", p)
		}
	}
	return files, nil
}

func isCSVName(name string) bool {
	name = strings.ToLower(name)
	return strings.HasSuffix(name, ".csv") || strings.HasSuffix(name, ".csv.gz")
}

// symState is what the reader knows of one symbol. There is one per distinct
// symbol, and its name is the only string made for that symbol's rows.
type symState struct {
	name   string
	bad    error // the name breaks the rules for symbols
	failed bool

	// The last row accepted, in time order, across files.
	last     market.Bar
	lastPath string
	lastLine int   // 0: no accepted row yet
	lastHeld int64 // its queue index while it waits for a successor (DuplicateKeepLast), else -1

	// In the current file.
	file      int // sequence number of the file the fields below are for
	stats     *CSVSymbolStats
	dir       direction
	descended bool      // (dirUnknown) its rows went down once
	prev      time.Time // time of its last row in the file
	prevLine  int
	undecided []int64 // queue indexes of its rows held until dir is known
	sawUp     bool    // (Sort) a row later than the one before
	sawDown   bool    // (Sort) a row earlier than the one before
}

// direction is which way a symbol's rows run in the current file.
type direction uint8

const (
	dirUnknown direction = iota
	dirUp
	dirDown
)

// csvReader reads the files of one Produce call. It applies parsed rows in
// order, on one goroutine.
type csvReader struct {
	c    *CSV
	out  pipeline.Emitter[market.Event]
	syms map[string]*symState
	// table finds a row's symbol by the hash its parser computed, so that
	// this goroutine, which every row passes, does not hash names.
	table  symTable
	chunks chunkReader
	q      heldQueue
	// emitErr is the emitter's error, once it refused a bar: every later
	// emission returns it, so that places that cannot return it lose none.
	emitErr error

	// per file
	path     string
	fileSeq  int
	lay      layout
	stats    *fileStats
	fileSym  *symState   // the symbol of every row, when there is no symbol column
	fileSyms []*symState // symbols seen in this file, to fail them all at once
	fileErr  error       // set once a row without a known symbol failed the file
	lineBase int         // lines before the current chunk
	// direct says a row may skip the queue: neither Sort nor
	// DuplicateKeepLast holds rows back.
	direct bool
	down   []heldRow // rows of symbols running newest first
	sorted []heldRow // every row of the file (Sort)
}

func newCSVReader(c *CSV, out pipeline.Emitter[market.Event]) *csvReader {
	w := c.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	return &csvReader{c: c, out: out, syms: make(map[string]*symState),
		chunks: chunkReader{workers: w, size: chunkSize, seed: maphash.MakeSeed()},
		direct: !c.Sort && c.OnDuplicate != DuplicateKeepLast}
}

func (r *csvReader) readFile(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		r.beginFile(path)
		r.failFile(fmt.Errorf("sources.CSV: %w", err))
		return r.endFile()
	}
	defer f.Close()
	return r.read(ctx, path, f)
}

// checkEvery is how many rows pass between two looks at ctx: rare enough to
// cost nothing, frequent enough (~0.1 ms) to stop promptly.
const checkEvery = 1024

func (r *csvReader) beginFile(path string) {
	r.path = path
	r.fileSeq++
	r.fileSym = nil
	r.fileSyms = r.fileSyms[:0]
	r.fileErr = nil
	r.lineBase = 0
	r.stats = &fileStats{CSVFileStats: CSVFileStats{Path: path}}
	r.c.mu.Lock()
	r.c.stats = append(r.c.stats, r.stats)
	r.c.mu.Unlock()
}

// read streams one file's rows to r.out. path is used in messages. It
// returns only the errors that end Produce: ctx's and the emitter's.
func (r *csvReader) read(ctx context.Context, path string, src io.Reader) error {
	r.beginFile(path)
	br := bufio.NewReaderSize(src, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			r.failFile(fmt.Errorf("sources.CSV: %s: %w", path, err))
			return r.endFile()
		}
		defer zr.Close()
		src = zr
		r.stats.Gzip = true
	} else {
		src = br
	}
	lc := &lineCutter{r: src, size: r.chunks.size}
	c := r.chunks.get()
	more, err := lc.next(c)
	if err != nil {
		r.chunks.put(c)
		r.failFile(fmt.Errorf("sources.CSV: %s: %w", path, err))
		return r.endFile()
	}
	// The first non-blank line is the header (or the first row).
	line, off := 0, 0
	for more {
		if off == len(c.data) { // only blank lines so far
			if more, err = lc.next(c); err != nil {
				r.chunks.put(c)
				r.failFile(fmt.Errorf("sources.CSV: %s: %w", path, err))
				return r.endFile()
			}
			off = 0
			continue
		}
		if line == 0 && off == 0 && strings.HasPrefix(str(c.data), "\xef\xbb\xbf") {
			off = 3 // a UTF-8 byte order mark
		}
		start := off
		end := len(c.data)
		if i := strings.IndexByte(str(c.data[off:]), '\n'); i >= 0 {
			end = off + i
			off = end + 1
		} else {
			off = end
		}
		line++
		b := trimEOL(c.data[start:end])
		if len(trimSpace(b)) == 0 {
			continue
		}
		if len(b) > maxLine {
			r.chunks.put(c)
			r.failFile(fmt.Errorf("sources.CSV: %s:%d: line longer than %d bytes", path, line, maxLine))
			return r.endFile()
		}
		lay, err := detectLayout(b, &r.c.Columns)
		if err != nil {
			r.chunks.put(c)
			r.failFile(fmt.Errorf("sources.CSV: %s:%d: %w", path, line, err))
			return r.endFile()
		}
		r.lay = lay
		r.stats.Layout, r.stats.Delimiter = lay.name, lay.sep
		if !lay.header {
			// The line is the first row.
			line--
			off = start
		}
		if lay.symbol() < 0 {
			name := symbolFromPath(path, lay.name)
			if name == "" {
				r.chunks.put(c)
				r.failFile(fmt.Errorf("sources.CSV: %s:%d: header: no symbol column, and no file name to take the symbol from", path, line))
				return r.endFile()
			}
			r.fileSym = r.intern(name)
		}
		r.lineBase = line
		c.data = c.data[off:]
		err = r.chunks.read(ctx, &r.lay, lc, c, func(c *chunk) (bool, error) { return r.applyChunk(ctx, c) })
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, errEmit):
			return err
		default:
			r.failFile(fmt.Errorf("sources.CSV: %s: %w", path, err))
		}
		return r.endFile()
	}
	r.chunks.put(c)
	r.failFile(fmt.Errorf("sources.CSV: %s: empty file", path))
	return r.endFile()
}

// errEmit marks an emitter's error, which ends Produce.
var errEmit = errors.New("emit")

type emitError struct{ err error }

func (e *emitError) Error() string        { return e.err.Error() }
func (e *emitError) Is(target error) bool { return target == errEmit }
func (e *emitError) Unwrap() error        { return e.err }

// ctxOr turns an error that ends Produce into the one Produce returns.
func ctxOr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ee *emitError
	if errors.As(err, &ee) {
		return emitErr(ctx, ee.err)
	}
	return err
}

// applyChunk applies a parsed chunk's rows in order. It returns false when
// the file stops (a line too long).
func (r *csvReader) applyChunk(ctx context.Context, c *chunk) (bool, error) {
	base := r.lineBase
	r.lineBase += c.lines
	for i := range c.rows {
		row := &c.rows[i]
		if i%checkEvery == checkEvery-1 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
		}
		if row.kind == rowTooLong {
			r.failFile(fmt.Errorf("sources.CSV: %s:%d: line longer than %d bytes", r.path, base+row.line, maxLine))
			return false, nil
		}
		if err := r.apply(row, base+row.line); err != nil {
			return false, err
		}
	}
	return true, nil
}

// apply handles one parsed row: it passes its bar on, fails its symbol, or
// skips it.
func (r *csvReader) apply(row *parsedRow, line int) error {
	var s *symState
	switch {
	case r.fileSym != nil:
		s = r.fileSym
		r.seen(s)
	case row.sym != nil:
		s = r.symbol(row.sym, row.symHash)
	}
	if s != nil {
		s.stats.Rows++
		if s.failed {
			return nil // a later row of a symbol that already failed
		}
	}
	// A row without a symbol always has an error.
	var rerr *RowError
	switch {
	case row.err != nil:
		rerr = r.rowErr(line, row.errCol, row.err)
	case s.bad != nil:
		rerr = r.rowErr(line, r.lay.symbol(), s.bad)
	}
	if rerr == nil {
		row.bar.Symbol = s.name
		if s.dir == dirUp && r.direct && r.q.empty() && row.bar.Time.After(s.last.Time) {
			// The common case, a row after its symbol's last one with
			// nothing held, costs no more than this.
			s.last, s.lastPath, s.lastLine = row.bar, r.path, line
			if err := r.out.Emit(market.Event{Bar: row.bar}); err != nil {
				r.emitErr = &emitError{err}
				return r.emitErr
			}
			s.stats.Bars++
			return nil
		}
		return r.route(heldRow{bar: row.bar, sym: s, line: line})
	}
	if r.c.SkipBadRows {
		if s != nil {
			s.stats.Skipped++
		}
		r.skip(rerr)
		return nil
	}
	if s != nil && !row.symUnknown {
		return r.fail(s, rerr)
	}
	// The row's symbol is unknown: it may belong to any symbol of the file.
	if r.fileErr == nil {
		r.fileErr = rerr
	}
	for _, s := range r.fileSyms {
		if err := r.fail(s, rerr); err != nil {
			return err
		}
	}
	return nil
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

// symbol returns the state of the symbol named b, whose hash is h, making
// it on first sight.
func (r *csvReader) symbol(b []byte, h uint64) *symState {
	s := r.table.find(h, b)
	if s == nil {
		s = r.intern(string(b))
		r.table.insert(h, s)
	}
	r.seen(s)
	return s
}

func (r *csvReader) intern(name string) *symState {
	s := r.syms[name]
	if s == nil {
		s = &symState{name: name, bad: checkSymbol(name), lastHeld: -1}
		r.syms[name] = s
	}
	return s
}

// checkSymbol applies the rules for symbols.
func checkSymbol(name string) error {
	if len(name) > MaxSymbolLen {
		return fmt.Errorf("%.20q... is %d bytes long, more than %d", name, len(name), MaxSymbolLen)
	}
	if !utf8.ValidString(name) {
		return fmt.Errorf("%q is not UTF-8", name)
	}
	for _, c := range name {
		if !unicode.IsPrint(c) {
			return fmt.Errorf("%q holds %U, which is not printable", name, c)
		}
	}
	return nil
}

// seen notes that s appears in the current file; if a row without a known
// symbol already failed this file, s fails with it.
func (r *csvReader) seen(s *symState) {
	if s.file == r.fileSeq {
		return
	}
	s.file = r.fileSeq
	s.stats = &CSVSymbolStats{Symbol: s.name}
	s.dir = dirUnknown
	s.descended = false
	s.undecided = s.undecided[:0]
	s.prevLine = 0
	s.sawUp, s.sawDown = false, false
	r.stats.syms = append(r.stats.syms, s.stats)
	r.fileSyms = append(r.fileSyms, s)
	if r.fileErr != nil && !r.c.SkipBadRows {
		_ = r.fail(s, r.fileErr) // nothing of s is held: no emission
	}
}

// symTable is an open-addressing hash table of symbols keyed by the hash of
// their names.
type symTable struct {
	slots []symSlot // a power of two long, at most half full
	n     int
}

type symSlot struct {
	hash uint64
	s    *symState
}

func (t *symTable) find(h uint64, name []byte) *symState {
	if t.n == 0 {
		return nil
	}
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.s == nil {
			return nil
		}
		if sl.hash == h && sl.s.name == string(name) { // no allocation: compares bytes
			return sl.s
		}
	}
}

func (t *symTable) insert(h uint64, s *symState) {
	if 2*(t.n+1) > len(t.slots) {
		old := t.slots
		t.slots = make([]symSlot, max(16, 2*len(old)))
		t.n = 0
		for _, sl := range old {
			if sl.s != nil {
				t.insert(sl.hash, sl.s)
			}
		}
	}
	mask := uint64(len(t.slots) - 1)
	i := h & mask
	for t.slots[i].s != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = symSlot{h, s}
	t.n++
}

// heldRow is a row whose bar may be held back; it is also the queue's
// element.
type heldRow struct {
	bar   market.Bar
	sym   *symState
	stats *CSVSymbolStats
	line  int
	state heldState
	err   error // a failure to report when the queue reaches it
	key   string
}

type heldState uint8

const (
	heldUndecided heldState = iota // its symbol's direction is not known yet
	heldWaiting                    // waits for its successor (DuplicateKeepLast)
	heldReady                      // to be emitted
	heldDropped                    // not to be emitted
	heldFail                       // Emitter.Fail(key, err)
)

// maxHeld bounds the rows held back.
const maxHeld = 1 << 16

// heldQueue keeps rows in file order until they can be emitted. Indexes are
// absolute: they stay valid as the front is emitted.
type heldQueue struct {
	rows []heldRow
	base int64 // index of rows[0]
	head int   // rows[:head] are done
}

func (q *heldQueue) empty() bool         { return q.head == len(q.rows) }
func (q *heldQueue) at(i int64) *heldRow { return &q.rows[i-q.base] }

func (q *heldQueue) push(h heldRow) int64 {
	if q.head == len(q.rows) {
		q.base += int64(len(q.rows))
		q.rows, q.head = q.rows[:0], 0
	} else if q.head > 4096 && q.head > len(q.rows)/2 {
		n := copy(q.rows, q.rows[q.head:])
		clear(q.rows[n:])
		q.rows = q.rows[:n]
		q.base += int64(q.head)
		q.head = 0
	}
	q.rows = append(q.rows, h)
	return q.base + int64(len(q.rows)-1)
}

// route passes a good row on according to its symbol's direction in the
// file.
func (r *csvReader) route(h heldRow) error {
	s := h.sym
	h.stats = s.stats
	t := h.bar.Time
	prev, prevLine := s.prev, s.prevLine
	s.prev, s.prevLine = t, h.line
	if r.c.Sort {
		if prevLine > 0 {
			s.sawUp = s.sawUp || t.After(prev)
			s.sawDown = s.sawDown || t.Before(prev)
		}
		r.sorted = append(r.sorted, h)
		return nil
	}
	switch s.dir {
	case dirUnknown:
		switch {
		case prevLine == 0 || t.Equal(prev):
		case t.After(prev):
			if err := r.decide(s, dirUp); err != nil {
				return err
			}
			return r.accept(h, -1)
		case s.descended:
			if err := r.decide(s, dirDown); err != nil {
				return err
			}
			r.down = append(r.down, h)
			return nil
		default:
			s.descended = true
		}
		h.state = heldUndecided
		s.undecided = append(s.undecided, r.q.push(h))
		return r.bound()
	case dirDown:
		if t.After(prev) {
			return r.bad(&h, r.rowErr(h.line, r.lay.col[1], fmt.Errorf(
				"%s is after %s of %s on line %d, and the file's rows of %s run newest first (set Sort to sort them)",
				t.Format(time.RFC3339Nano), prev.Format(time.RFC3339Nano), s.name, prevLine, s.name)))
		}
		r.down = append(r.down, h)
		return nil
	}
	return r.accept(h, -1)
}

// undecidedDir is the direction of a symbol whose rows are still
// undecided when they must be decided: one step down and none up is down.
func undecidedDir(s *symState) direction {
	if s.descended {
		return dirDown
	}
	return dirUp
}

// decide sets the direction of s in the file and passes on its undecided
// rows accordingly.
func (r *csvReader) decide(s *symState, dir direction) error {
	s.dir = dir
	held := s.undecided
	s.undecided = s.undecided[:0]
	for _, i := range held {
		h := r.q.at(i)
		if dir == dirDown {
			r.down = append(r.down, *h)
			h.state = heldDropped
			continue
		}
		if err := r.accept(*h, i); err != nil {
			return err
		}
	}
	return r.flush()
}

// bound decides the first held row once too many rows are held.
func (r *csvReader) bound() error {
	for len(r.q.rows)-r.q.head > maxHeld {
		h := &r.q.rows[r.q.head]
		switch h.state {
		case heldUndecided:
			if err := r.decide(h.sym, undecidedDir(h.sym)); err != nil {
				return err
			}
		case heldWaiting:
			h.state = heldReady
			h.sym.lastHeld = -1
			if err := r.flush(); err != nil {
				return err
			}
		default:
			return r.flush()
		}
	}
	return nil
}

// accept takes a row of s in time order: it is emitted (or held, see
// DuplicateKeepLast), dropped as a duplicate, or fails s. at is the row's
// queue index if it is held there, else -1.
func (r *csvReader) accept(h heldRow, at int64) error {
	s := h.sym
	drop := func() {
		if at >= 0 {
			r.q.at(at).state = heldDropped
		}
	}
	if s.failed {
		drop()
		return r.flush()
	}
	t := h.bar.Time
	if s.lastLine > 0 && !t.After(s.last.Time) {
		if !t.Equal(s.last.Time) {
			drop()
			return r.bad(&h, r.rowErr(h.line, r.lay.col[1], r.notAfter(t, s)))
		}
		if sameValues(&h.bar, &s.last) {
			h.stats.Duplicates++
			drop()
			return r.flush()
		}
		switch r.c.OnDuplicate {
		case DuplicateKeepFirst:
			h.stats.Conflicts++
			drop()
			return r.flush()
		case DuplicateKeepLast:
			if s.lastHeld >= 0 {
				r.q.at(s.lastHeld).state = heldDropped
				s.lastHeld = -1
				h.stats.Conflicts++
				break
			}
			drop()
			return r.bad(&h, r.rowErr(h.line, r.lay.col[1], fmt.Errorf(
				"%s repeats %s of %s with other values (%s), which was emitted already: more than %d rows held (OnDuplicate last)",
				t.Format(time.RFC3339Nano), r.where(s), s.name, diff(&h.bar, &s.last), maxHeld)))
		default:
			drop()
			return r.bad(&h, r.rowErr(h.line, r.lay.col[1], fmt.Errorf(
				"%s repeats %s of %s with other values (%s); set OnDuplicate to first or last to keep one",
				t.Format(time.RFC3339Nano), r.where(s), s.name, diff(&h.bar, &s.last))))
		}
	}
	if s.lastHeld >= 0 {
		r.q.at(s.lastHeld).state = heldReady
		s.lastHeld = -1
	}
	s.last, s.lastPath, s.lastLine = h.bar, r.path, h.line
	h.state = heldReady
	if r.c.OnDuplicate == DuplicateKeepLast {
		h.state = heldWaiting
	}
	switch {
	case at >= 0:
		r.q.at(at).state = h.state
	case h.state == heldReady && r.q.empty():
		return r.emit(&h)
	default:
		at = r.q.push(h)
	}
	if h.state == heldWaiting {
		s.lastHeld = at
	}
	if err := r.flush(); err != nil {
		return err
	}
	return r.bound()
}

func sameValues(a, b *market.Bar) bool {
	return a.Open == b.Open && a.High == b.High && a.Low == b.Low && a.Close == b.Close && a.Volume == b.Volume
}

// diff names the first value in which a differs from b.
func diff(a, b *market.Bar) string {
	for _, f := range []struct {
		name string
		x, y float64
	}{{"open", a.Open, b.Open}, {"high", a.High, b.High}, {"low", a.Low, b.Low}, {"close", a.Close, b.Close}, {"volume", a.Volume, b.Volume}} {
		if f.x != f.y {
			return fmt.Sprintf("%s %s, not %s", f.name, fmtNum(f.x), fmtNum(f.y))
		}
	}
	return "none"
}

// where names the line of s's last accepted row.
func (r *csvReader) where(s *symState) string {
	if s.lastPath != r.path {
		return fmt.Sprintf("%s:%d", s.lastPath, s.lastLine)
	}
	return fmt.Sprintf("line %d", s.lastLine)
}

func (r *csvReader) notAfter(t time.Time, s *symState) error {
	verb := "is before"
	if t.Equal(s.last.Time) {
		verb = "repeats"
	}
	return fmt.Errorf("%s %s %s of %s on %s (times must increase within a symbol)",
		t.Format(time.RFC3339Nano), verb, s.last.Time.Format(time.RFC3339Nano), s.name, r.where(s))
}

func (r *csvReader) emit(h *heldRow) error {
	if r.emitErr != nil {
		return r.emitErr
	}
	if err := r.out.Emit(market.Event{Bar: h.bar}); err != nil {
		r.emitErr = &emitError{err}
		return r.emitErr
	}
	h.stats.Bars++
	return nil
}

// flush emits the front of the queue up to the first row still held.
func (r *csvReader) flush() error {
	q := &r.q
	if r.emitErr != nil {
		return r.emitErr
	}
	for ; q.head < len(q.rows); q.head++ {
		h := &q.rows[q.head]
		switch h.state {
		case heldUndecided, heldWaiting:
			return nil
		case heldReady:
			if err := r.emit(h); err != nil {
				q.head++
				return err
			}
		case heldFail:
			r.out.Fail(h.key, h.err)
		}
		*h = heldRow{} // drop references
	}
	return nil
}

// bad handles a bad row of s whose bar was read: it is skipped
// (SkipBadRows) or fails s.
func (r *csvReader) bad(h *heldRow, err *RowError) error {
	if r.c.SkipBadRows {
		h.stats.Skipped++
		r.skip(err)
		return r.flush()
	}
	return r.fail(h.sym, err)
}

// fail fails s with err after what s accepted before.
func (r *csvReader) fail(s *symState, err error) error {
	if s.failed {
		return nil
	}
	if s.dir == dirUnknown && len(s.undecided) > 0 && s.file == r.fileSeq {
		if derr := r.decide(s, undecidedDir(s)); derr != nil {
			return derr
		}
		if s.failed {
			return nil // one of them failed it
		}
	}
	if s.lastHeld >= 0 {
		r.q.at(s.lastHeld).state = heldReady
		s.lastHeld = -1
	}
	s.failed = true
	if s.file == r.fileSeq && s.stats != nil {
		s.stats.Err = err
	}
	return r.failKey(s.name, err)
}

func (r *csvReader) failKey(key string, err error) error {
	if r.q.empty() {
		r.out.Fail(key, err)
		return nil
	}
	r.q.push(heldRow{state: heldFail, key: key, err: err})
	return r.flush()
}

// failFile fails the symbols of the current file, or its path when it has
// none, because the file cannot be read on.
func (r *csvReader) failFile(err error) {
	r.stats.Err = err
	if r.fileSym != nil {
		r.seen(r.fileSym)
	}
	if len(r.fileSyms) == 0 {
		_ = r.failKey(r.path, err) // the file emitted nothing: nothing is held
		return
	}
	for _, s := range r.fileSyms {
		_ = r.fail(s, err) // errors return again from endFile's flush
	}
}

// endFile passes on what the file held back and reports a failure of the
// file as a whole that no symbol carried, because the file had no row with
// a symbol: then the path is the key, so that the failure is not lost.
func (r *csvReader) endFile() error {
	for _, s := range r.fileSyms {
		if s.dir == dirUnknown && len(s.undecided) > 0 {
			if err := r.decide(s, undecidedDir(s)); err != nil {
				return err
			}
		}
		if !r.c.Sort && s.dir == dirDown {
			s.stats.Order = OrderDescending
		}
	}
	if r.c.Sort {
		for _, s := range r.fileSyms {
			switch {
			case s.sawDown && s.sawUp:
				s.stats.Order = OrderSorted
			case s.sawDown:
				s.stats.Order = OrderDescending
			}
		}
	}
	for _, rows := range []*[]heldRow{&r.sorted, &r.down} {
		held := *rows
		slices.SortStableFunc(held, func(a, b heldRow) int { return a.bar.Time.Compare(b.bar.Time) })
		for _, h := range held {
			if err := r.accept(h, -1); err != nil {
				return err
			}
		}
		clear(held)
		*rows = held[:0]
	}
	if r.fileErr != nil && len(r.fileSyms) == 0 {
		if err := r.failKey(r.path, r.fileErr); err != nil {
			return err
		}
	}
	return r.flush()
}

// finish emits what is still held at the end of the last file.
func (r *csvReader) finish() error {
	for _, s := range r.syms {
		if s.lastHeld >= 0 {
			r.q.at(s.lastHeld).state = heldReady
			s.lastHeld = -1
		}
	}
	return r.flush()
}

func (r *csvReader) rowErr(line, col int, err error) *RowError {
	e := &RowError{Path: r.path, Line: line, Err: err}
	switch {
	case col >= len(r.lay.names):
		e.Field = fmt.Sprintf("field %d", col+1) // beyond the header
	case col >= 0:
		e.Field = r.lay.names[col]
	}
	return e
}
