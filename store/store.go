package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
)

// SchemaVersion is the schema version this program creates and understands.
const SchemaVersion = 3

// DefaultMaxConns is the size of a store's connection pool unless a
// PostgreSQL URL sets pool_max_conns: the ADR's 10 concurrent symbol reads
// plus one writer.
const DefaultMaxConns = 11

// Sentinel errors; test with errors.Is.
var (
	// ErrUnavailable: the database could not be reached.
	ErrUnavailable = errors.New("database unavailable")
	// ErrCorrupt: the SQLite file is not a database or is damaged.
	ErrCorrupt = errors.New("not a SQLite database or corrupt")
	// ErrForeign: the database holds another program's tables.
	ErrForeign = errors.New("not a tickflow database")
	// ErrSchemaVersion: the recorded schema version is not one this program can use.
	ErrSchemaVersion = errors.New("unsupported schema version")
	// ErrConstraint: a row breaks the store's constraints.
	ErrConstraint = errors.New("violates the store's constraints")
	// ErrURL: the database URL is malformed or of an unknown kind.
	ErrURL = errors.New("bad database URL")
)

// Backend names the database behind a Store.
type Backend string

// The backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Query selects bars. Its zero value selects every bar of the empty timeframe.
type Query struct {
	// Symbols to read; empty means every symbol of the timeframe.
	Symbols []string
	// Timeframe of the bars ("" is a timeframe like any other: the one a
	// CSV import without --timeframe uses).
	Timeframe string
	// Start and End bound bar times to [Start, End); a zero value is unbounded.
	Start, End time.Time
}

// SignalQuery selects journal entries. Its zero value selects all of them.
type SignalQuery struct {
	// Run filters by the ID of the run that journaled the signals; zero
	// means every run.
	Run int64
	// Strategy filters by strategy name; empty means every strategy.
	Strategy string
	// Symbols filters by symbol; empty means every symbol.
	Symbols []string
	// Start and End bound signal times to [Start, End); zero is unbounded.
	Start, End time.Time
}

// Entry is one journaled signal.
type Entry struct {
	Strategy string
	// Run is the ID of the run that journaled the signal first.
	Run int64
	// Signal's record has the default names first (null when the signal
	// had no such value), then the others in the order they were written.
	Signal market.Signal
	// Recorded is when the signal was first written.
	Recorded time.Time
}

// Store is a bar store and signal journal. Its methods are safe for
// concurrent use.
type Store interface {
	// Backend reports SQLite or Postgres.
	Backend() Backend
	// String is the database URL with any password redacted.
	String() string
	// MaxConns is how many connections may be open at once: readers beyond
	// it wait for a connection.
	MaxConns() int

	// WriteBars writes bars of one timeframe in one transaction: all or
	// nothing. A bar whose key exists is updated. A bar that breaks the
	// constraints fails the call with a *BarError naming its key.
	WriteBars(ctx context.Context, timeframe string, bars []market.Bar) error
	// Bars streams the bars q selects, ordered by symbol then time. Rows are
	// read from a database cursor as the loop asks for them; breaking out of
	// the loop releases the cursor. An error ends the sequence.
	Bars(ctx context.Context, q Query) iter.Seq2[market.Bar, error]
	// Symbols lists the symbols that have bars of timeframe, in the order
	// they were first stored (stores made before schema version 2: by name,
	// then in order), so reading a store back follows what was imported.
	Symbols(ctx context.Context, timeframe string) ([]string, error)

	// StartRun records a run in the journal and returns it with its ID and
	// Started set.
	StartRun(ctx context.Context, run Run) (Run, error)
	// Runs lists the journal's runs in the order they started, each with
	// the number of signals it journaled.
	Runs(ctx context.Context) ([]Run, error)
	// WriteSignals journals signals of run (one StartRun returned) in one
	// transaction, with their indicator values by name, and reports how
	// many were new; one already journaled (same symbol, time, side,
	// strategy and [Run.Config]) is left as it is, under its first run.
	WriteSignals(ctx context.Context, run *Run, signals []market.Signal) (added int, err error)
	// Signals streams the journal entries q selects, ordered by time,
	// symbol, side and strategy.
	Signals(ctx context.Context, q SignalQuery) iter.Seq2[Entry, error]

	// Close releases the connections, once reads and writes in flight
	// have ended; a read loop still running makes it wait.
	Close() error
}

// Open connects to the database rawURL names, creates or migrates its schema,
// and returns the Store. See the package documentation for URL forms. The
// error, if any, is one line with no password in it.
func Open(ctx context.Context, rawURL string) (Store, error) {
	kind, rest, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var st Store
	switch kind {
	case SQLite:
		st, err = openSQLite(ctx, rest)
	case Postgres:
		st, err = openPostgres(ctx, rawURL)
	}
	if err != nil {
		return nil, scrub(err, rawURL)
	}
	return st, nil
}

// OpenExisting is Open for a program that only reads: a SQLite file that
// does not exist is an error wrapping fs.ErrNotExist, naming the file,
// instead of a new empty database (and folders) made by a typo in the path.
// A PostgreSQL database is opened as by Open.
func OpenExisting(ctx context.Context, rawURL string) (Store, error) {
	kind, path, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if kind == SQLite {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("store: sqlite %s: no such database: %w", path, fs.ErrNotExist)
		}
	}
	return Open(ctx, rawURL)
}

// parseURL splits a database URL into its backend and, for SQLite, the path.
func parseURL(rawURL string) (Backend, string, error) {
	switch {
	case rawURL == "" || rawURL == "sqlite:" || rawURL == "sqlite://":
		p, err := DefaultPath()
		if err != nil {
			return "", "", err
		}
		return SQLite, p, nil
	case strings.HasPrefix(rawURL, "sqlite://"):
		return SQLite, strings.TrimPrefix(rawURL, "sqlite://"), nil
	case strings.HasPrefix(rawURL, "sqlite:"):
		return SQLite, strings.TrimPrefix(rawURL, "sqlite:"), nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		return Postgres, "", nil
	}
	return "", "", fmt.Errorf("store: %w %q: want sqlite:PATH or postgres://...", ErrURL, Redact(rawURL))
}

// DefaultPath is the SQLite file used when no URL is given:
// $XDG_DATA_HOME/tickflow/tickflow.db when XDG_DATA_HOME is set, else
// ~/.local/share/tickflow/tickflow.db on Unix systems other than macOS, else
// os.UserConfigDir()/tickflow/tickflow.db. Open creates the directory.
func DefaultPath() (string, error) {
	if d := os.Getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "tickflow", "tickflow.db"), nil
	}
	if runtime.GOOS != "darwin" && runtime.GOOS != "windows" && runtime.GOOS != "ios" {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, ".local", "share", "tickflow", "tickflow.db"), nil
		}
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("store: no default database file: %w", err)
	}
	return filepath.Join(d, "tickflow", "tickflow.db"), nil
}

// keywordPassword is the password of a key=value connection string
// ("host=db password=s3cret", or the value quoted), which PostgreSQL accepts
// besides URLs.
var keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.|'')*'|[^\s&]*)`)

// Redact returns rawURL with any password (user:PASSWORD@, a password=
// parameter, or a key=value connection string's password) replaced by
// "xxxxx".
func Redact(rawURL string) string {
	if !strings.Contains(rawURL, "://") {
		return keywordPassword.ReplaceAllString(rawURL, "${1}xxxxx")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// Not a URL: mask the user info by hand.
		if at := strings.LastIndex(rawURL, "@"); at >= 0 {
			if i := strings.Index(rawURL, "://"); i >= 0 && i < at {
				if c := strings.Index(rawURL[i+3:at], ":"); c >= 0 {
					return keywordPassword.ReplaceAllString(rawURL[:i+3+c+1]+"xxxxx"+rawURL[at:], "${1}xxxxx")
				}
			}
		}
		return keywordPassword.ReplaceAllString(rawURL, "${1}xxxxx")
	}
	if u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// secrets returns the passwords rawURL carries.
func secrets(rawURL string) []string {
	var out []string
	if u, err := url.Parse(rawURL); err == nil {
		if u.User != nil {
			if p, ok := u.User.Password(); ok && p != "" {
				out = append(out, p)
				if e := url.PathEscape(p); e != p {
					out = append(out, e)
				}
			}
		}
		if p := u.Query().Get("password"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// scrubbed is an error whose text has passwords masked and line breaks folded,
// so it prints as one line with no secret in it; Unwrap keeps errors.Is working.
type scrubbed struct {
	err     error
	secrets []string
}

func (e *scrubbed) Error() string {
	s := e.err.Error()
	for _, p := range e.secrets {
		s = strings.ReplaceAll(s, p, "xxxxx")
	}
	return oneLine(s)
}

func (e *scrubbed) Unwrap() error { return e.err }

func scrub(err error, rawURL string) error {
	if err == nil {
		return nil
	}
	return &scrubbed{err: err, secrets: secrets(rawURL)}
}

// oneLine folds the lines of a multi-line message into one.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	var prev string
	for _, line := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if line == "" || line == prev { // pgx repeats a failure per connection attempt
			continue
		}
		if b.Len() > 0 {
			if strings.HasSuffix(prev, ":") {
				b.WriteByte(' ')
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
		prev = line
	}
	return b.String()
}

// BarError reports a bar that the store rejected, with its key.
type BarError struct {
	Symbol    string
	Timeframe string
	Time      time.Time
	Err       error
}

func (e *BarError) Error() string {
	return fmt.Sprintf("store: bar (symbol %q, timeframe %q, time %s): %v",
		e.Symbol, e.Timeframe, e.Time.UTC().Format(time.RFC3339Nano), e.Err)
}

func (e *BarError) Unwrap() error { return e.Err }

// minNanoTime and maxNanoTime bound the times a SQLite store can hold.
var (
	minNanoTime = time.Unix(0, math.MinInt64).UTC()
	maxNanoTime = time.Unix(0, math.MaxInt64).UTC()
)

// checkBar applies the constraints both schemas enforce (and a backend's
// time precision), so a violation is reported with the bar's key before
// anything is written.
func checkBar(b Backend, timeframe string, bar *market.Bar) error {
	var why string
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case bar.Symbol == "":
		why = "empty symbol"
	case bar.Time.IsZero():
		why = "zero time"
	case !finite(bar.Open) || !finite(bar.High) || !finite(bar.Low) || !finite(bar.Close) || !finite(bar.Volume):
		why = fmt.Sprintf("non-finite value (open %v high %v low %v close %v volume %v)",
			bar.Open, bar.High, bar.Low, bar.Close, bar.Volume)
	case bar.High < bar.Low:
		why = fmt.Sprintf("high %v < low %v", bar.High, bar.Low)
	case b == SQLite && (bar.Time.Before(minNanoTime) || bar.Time.After(maxNanoTime)):
		why = "time outside 1677..2262 (Unix nanoseconds)"
	case b == Postgres && bar.Time.Nanosecond()%1000 != 0:
		why = "time finer than a microsecond"
	default:
		return nil
	}
	return &BarError{Symbol: bar.Symbol, Timeframe: timeframe, Time: bar.Time,
		Err: fmt.Errorf("%s: %w", why, ErrConstraint)}
}

// checkSignal applies the journal's constraints.
func checkSignal(b Backend, run *Run, s *market.Signal) error {
	if run == nil || run.ID <= 0 {
		return fmt.Errorf("store: signal of %s: no run (journal under a run StartRun returned): %w", s.Symbol, ErrConstraint)
	}
	strategy := run.Strategy
	var why string
	switch {
	case s.Symbol == "":
		why = "empty symbol"
	case s.Time.IsZero():
		why = "zero time"
	case s.Side != market.Buy && s.Side != market.Sell:
		why = fmt.Sprintf("side %v", s.Side)
	case math.IsNaN(s.Price) || math.IsInf(s.Price, 0):
		why = fmt.Sprintf("price %v", s.Price)
	case b == SQLite && (s.Time.Before(minNanoTime) || s.Time.After(maxNanoTime)):
		why = "time outside 1677..2262 (Unix nanoseconds)"
	case b == Postgres && s.Time.Nanosecond()%1000 != 0:
		why = "time finer than a microsecond"
	case s.Indicators.Schema != nil && recordLen(s.Indicators.Schema) > market.MaxValues:
		why = fmt.Sprintf("indicator values %s with the default ones are more than %d", s.Indicators.Schema, market.MaxValues)
	default:
		return nil
	}
	return fmt.Errorf("store: signal (symbol %q, time %s, side %s, strategy %q): %s: %w",
		s.Symbol, s.Time.UTC().Format(time.RFC3339Nano), s.Side, strategy, why, ErrConstraint)
}

// firstAppearances lists the symbols of bars in the order they first appear.
func firstAppearances(bars []market.Bar) []string {
	var out []string
	seen := map[string]bool{}
	for i := range bars {
		if s := bars[i].Symbol; !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
