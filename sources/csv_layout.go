package sources

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// CSVColumns names the header column that holds each field of a bar, for
// files whose names the built-in names and aliases (see [CSV]) do not find.
// Names match case-insensitively, after trimming spaces; an empty name means
// the field is found by its built-in names. Leave Symbol empty (and have no
// symbol column) to take the symbol from the file name.
type CSVColumns struct {
	Symbol, Time, Open, High, Low, Close, Volume string
}

// ParseCSVColumns reads a mapping written as field=column pairs separated by
// commas, as the CLI's --columns flag takes it:
//
//	time=Date,close=Adj Close
//
// Fields are symbol, time, open, high, low, close and volume, in any letter
// case; a column name may contain spaces but not commas or '='.
func ParseCSVColumns(s string) (CSVColumns, error) {
	var c CSVColumns
	if strings.TrimSpace(s) == "" {
		return c, nil
	}
	for _, pair := range strings.Split(s, ",") {
		field, column, ok := strings.Cut(pair, "=")
		field, column = strings.ToLower(strings.TrimSpace(field)), strings.TrimSpace(column)
		if !ok || column == "" {
			return CSVColumns{}, fmt.Errorf("sources.CSV: columns: %q is not field=column", strings.TrimSpace(pair))
		}
		p := c.field(field)
		if p == nil {
			return CSVColumns{}, fmt.Errorf("sources.CSV: columns: %q is not a field (want %s)", field, strings.Join(barFields[:], ", "))
		}
		if *p != "" {
			return CSVColumns{}, fmt.Errorf("sources.CSV: columns: %s is mapped twice", field)
		}
		*p = column
	}
	return c, nil
}

// field returns the setting of the bar field named name, nil if there is none.
func (c *CSVColumns) field(name string) *string {
	switch name {
	case "symbol":
		return &c.Symbol
	case "time":
		return &c.Time
	case "open":
		return &c.Open
	case "high":
		return &c.High
	case "low":
		return &c.Low
	case "close":
		return &c.Close
	case "volume":
		return &c.Volume
	}
	return nil
}

// barFields are the fields of a bar, in the order of columns' indexes.
var barFields = [...]string{"symbol", "time", "open", "high", "low", "close", "volume"}

// fieldAliases are the other header names (lower case) that each field is
// found by when no column has the field's own name: pandas writes its index
// as date, datetime or timestamp, Binance names open_time, and so on.
var fieldAliases = [len(barFields)][]string{
	{"ticker"},
	{"date", "datetime", "timestamp", "open_time", "open time"},
	nil, nil, nil, nil,
	{"vol"},
}

// Layout names of CSVFileStats.Layout.
const (
	LayoutHeader  = "header"  // a header names the columns
	LayoutBinance = "binance" // Binance's header-less kline files
)

// binanceNames name the 12 columns of Binance kline files, for messages.
var binanceNames = []string{"open_time", "open", "high", "low", "close", "volume",
	"close_time", "quote_volume", "count", "taker_buy_volume", "taker_buy_quote_volume", "ignore"}

// layout is how the rows of one file are laid out.
type layout struct {
	name   string // LayoutHeader or LayoutBinance
	sep    byte
	n      int      // fields per row
	names  []string // column names, for messages
	header bool     // the first non-blank line is a header, not data
	// col holds the column of each of barFields; col[0] (symbol) is -1 when
	// the symbol comes from the file name.
	col [len(barFields)]int
	// raw is the unadjusted close column when close is an adjusted close
	// (see CSV, Layouts), else -1.
	raw int
}

// adjustedNames are the names of adjusted-close columns: Yahoo's, and
// others' exports.
var adjustedNames = []string{"adj close", "adj_close", "adjclose", "adjusted close", "adjusted_close"}

func (l *layout) symbol() int { return l.col[0] }

// sniffSep picks the delimiter of a file from its first line: the most
// frequent of ',', ';' and tab outside double quotes, a comma on a tie.
func sniffSep(line []byte) byte {
	var n [3]int
	quoted := false
	for _, c := range line {
		switch c {
		case '"':
			quoted = !quoted
		case ',':
			if !quoted {
				n[0]++
			}
		case ';':
			if !quoted {
				n[1]++
			}
		case '\t':
			if !quoted {
				n[2]++
			}
		}
	}
	switch {
	case n[1] > n[0] && n[1] >= n[2]:
		return ';'
	case n[2] > n[0] && n[2] > n[1]:
		return '\t'
	}
	return ','
}

// detectLayout reads the first non-blank line of a file: a header,
// or the first row of a header-less Binance kline file (12 fields, the first
// an integer open time).
func detectLayout(line []byte, cfg *CSVColumns) (layout, error) {
	sep := sniffSep(line)
	sp := newLineSplitter(sep)
	fields, _, qerr := sp.split(line, -1)
	if qerr != nil {
		return layout{}, fmt.Errorf("header: %v", qerr)
	}
	if len(fields) == len(binanceNames) {
		if _, ok := parseInt(fields[0]); ok {
			l := layout{name: LayoutBinance, sep: sep, n: len(fields), names: binanceNames, raw: -1}
			l.col = [len(barFields)]int{-1, 0, 1, 2, 3, 4, 5}
			return l, nil
		}
	}
	l := layout{name: LayoutHeader, sep: sep, n: len(fields), header: true, raw: -1}
	for _, f := range fields {
		l.names = append(l.names, strings.ToLower(string(f)))
	}
	if err := l.mapColumns(cfg); err != nil {
		return layout{}, fmt.Errorf("header: %w", err)
	}
	return l, nil
}

// mapColumns finds the column of each bar field: the one cfg names, else
// the one of the field's own name, else the one of an alias.
func (l *layout) mapColumns(cfg *CSVColumns) error {
	for i := range l.col {
		l.col[i] = -1
	}
	taken := make([]bool, len(l.names))
	find := func(name string) []int {
		var at []int
		for i, n := range l.names {
			if n == name && !taken[i] {
				at = append(at, i)
			}
		}
		return at
	}
	// Columns named by cfg first, so that they are not taken by name.
	for f, field := range barFields {
		want := strings.ToLower(strings.TrimSpace(*cfg.field(field)))
		if want == "" {
			continue
		}
		at := find(want)
		switch len(at) {
		case 0:
			return fmt.Errorf("no column %q (Columns.%s); saw %s", want, exported(field), l.saw())
		case 1:
		default:
			return fmt.Errorf("column %q (Columns.%s) appears %d times", want, exported(field), len(at))
		}
		l.col[f], taken[at[0]] = at[0], true
	}
	for f, field := range barFields {
		if l.col[f] >= 0 {
			continue
		}
		at := find(field)
		if len(at) > 1 {
			return fmt.Errorf("column %q appears twice", field)
		}
		if len(at) == 0 {
			for _, alias := range fieldAliases[f] {
				at = append(at, find(alias)...)
			}
			if len(at) > 1 {
				return fmt.Errorf("columns %q and %q could both be %s; name one with Columns.%s", l.names[at[0]], l.names[at[1]], field, exported(field))
			}
		}
		if len(at) == 1 {
			l.col[f], taken[at[0]] = at[0], true
		}
	}
	if c := l.col[5]; c >= 0 && slices.Contains(adjustedNames, l.names[c]) {
		if at := find("close"); len(at) == 1 {
			l.raw = at[0]
		}
	}
	var missing []string
	for f, field := range barFields[1:] {
		if l.col[f+1] < 0 {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		what := "column"
		if len(missing) > 1 {
			what = "columns"
		}
		return fmt.Errorf("no %s %s; saw %s; need time, open, high, low, close and volume, and symbol or the file name "+
			"(also found as: time: date, datetime, timestamp, open_time; symbol: ticker; volume: vol); "+
			"map others with Columns, e.g. %s=NAME", strings.Join(missing, ", "), what, l.saw(), missing[0])
	}
	return nil
}

// saw lists the header's columns for a message.
func (l *layout) saw() string {
	q := make([]string, len(l.names))
	for i, n := range l.names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return "[" + strings.Join(q, " ") + "]"
}

func exported(field string) string { return strings.ToUpper(field[:1]) + field[1:] }

// symbolFromPath is the symbol of the rows of a file without a symbol
// column: the file name without its extension (.csv, .csv.gz); for Binance kline
// files, named SYMBOL-INTERVAL-DATE.csv, the part before the first '-'.
func symbolFromPath(path, layoutName string) string {
	name := filepath.Base(path)
	if ext := filepath.Ext(name); strings.EqualFold(ext, ".gz") {
		name = name[:len(name)-len(ext)]
	}
	name = strings.TrimSuffix(name, filepath.Ext(name))
	if layoutName == LayoutBinance {
		if i := strings.IndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
	}
	return name
}
