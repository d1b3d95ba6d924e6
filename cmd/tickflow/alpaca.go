package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/sources"
)

// alpacaFlags select Alpaca as the source of bars and configure it. The
// credential and endpoint flags read the SDK's environment variables.
func alpacaFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "source", Usage: "where bars come from: alpaca (default: --csv, else built-in synthetic data)"},
		&cli.StringFlag{Name: "symbols", Usage: "with --source alpaca: comma-separated `SYMBOLS` (crypto as BTC/USD)"},
		&cli.StringFlag{Name: "timeframe", Value: "1Min", Usage: "with --source alpaca: bar size (1Min, 5Min, 15Min, 1Hour, 1Day, ...)"},
		&cli.StringFlag{Name: "start", Usage: "with --source alpaca: first bar `TIME` (RFC 3339 or 2006-01-02; inclusive)"},
		&cli.StringFlag{Name: "end", Usage: "with --source alpaca: last bar `TIME` (RFC 3339 or 2006-01-02; inclusive; default now)"},
		&cli.StringFlag{Name: "feed", Value: "iex", Usage: "Alpaca stock feed: iex (free), sip, delayed_sip"},
		&cli.IntFlag{Name: "rate-limit", Value: sources.DefaultAlpacaRequestsPerMinute, Usage: "Alpaca REST requests per minute (200 on the Basic plan)"},
		&cli.StringFlag{Name: "key", EnvVars: []string{"APCA_API_KEY_ID"}, Usage: "Alpaca API key ID"},
		&cli.StringFlag{Name: "secret", EnvVars: []string{"APCA_API_SECRET_KEY"}, Usage: "Alpaca API secret key"},
		&cli.StringFlag{Name: "base-url", EnvVars: []string{"APCA_API_BASE_URL"}, Usage: "Alpaca trading `URL` (default: paper trading)"},
		&cli.StringFlag{Name: "data-url", EnvVars: []string{"APCA_API_DATA_URL"}, Usage: "Alpaca market-data REST `URL` (default https://data.alpaca.markets)"},
		&cli.StringFlag{Name: "stream-url", EnvVars: []string{"DATA_PROXY_WS"}, Usage: "Alpaca stock stream base `URL` (default wss://stream.data.alpaca.markets/v2)"},
		&cli.StringFlag{Name: "crypto-stream-url", EnvVars: []string{"DATA_CRYPTO_PROXY_WS"}, Usage: "Alpaca crypto stream base `URL`"},
	}
}

// alpacaSelected tells whether the flags ask for Alpaca.
func alpacaSelected(c *cli.Context) (bool, error) {
	switch s := c.String("source"); s {
	case "alpaca":
		return true, nil
	case "", "csv", "synthetic":
		return false, nil
	default:
		return false, usageError("--source: %q is not alpaca, csv or synthetic", s)
	}
}

// alpacaREST reads credentials and endpoints; a missing key is a one-line
// error naming the variable to set.
func alpacaREST(c *cli.Context, log *slog.Logger) (sources.AlpacaREST, error) {
	rest := sources.AlpacaREST{
		KeyID: c.String("key"), SecretKey: c.String("secret"), DataURL: c.String("data-url"),
		Feed: c.String("feed"), RequestsPerMinute: c.Int("rate-limit"), Logger: log,
	}
	if rest.KeyID == "" {
		return rest, usageError("--source alpaca needs an API key: set APCA_API_KEY_ID (or --key)")
	}
	if rest.SecretKey == "" {
		return rest, usageError("--source alpaca needs an API secret: set APCA_API_SECRET_KEY (or --secret)")
	}
	return rest, nil
}

// alpacaSymbols splits --symbols.
func alpacaSymbols(c *cli.Context) ([]string, error) {
	var syms []string
	for _, s := range strings.Split(c.String("symbols"), ",") {
		if s = strings.TrimSpace(s); s != "" {
			syms = append(syms, strings.ToUpper(s))
		}
	}
	if len(syms) == 0 {
		return nil, usageError("--source alpaca needs --symbols, e.g. --symbols AAPL,MSFT,BTC/USD")
	}
	return syms, nil
}

// parseTime reads RFC 3339 or a date (midnight UTC).
func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usageError("--%s: %q is neither RFC 3339 (2024-01-02T14:30:00Z) nor a date (2024-01-02)", flag, s)
}

// alpacaBars builds the historical source the flags describe. Logs go to
// stderr at warning level (retries, the circuit breaker).
func alpacaBars(c *cli.Context) (*sources.AlpacaBars, error) {
	log := stderrLogger(c.App.ErrWriter)
	rest, err := alpacaREST(c, log)
	if err != nil {
		return nil, err
	}
	syms, err := alpacaSymbols(c)
	if err != nil {
		return nil, err
	}
	start, err := parseTime("start", c.String("start"))
	if err != nil {
		return nil, err
	}
	end, err := parseTime("end", c.String("end"))
	if err != nil {
		return nil, err
	}
	if start.IsZero() {
		return nil, usageError("--source alpaca needs --start (and --end, default now)")
	}
	if !end.IsZero() && end.Before(start) {
		return nil, usageError("--end %s is before --start %s: the range is empty", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	return &sources.AlpacaBars{AlpacaREST: rest, Symbols: syms, TimeFrame: c.String("timeframe"), Start: start, End: end}, nil
}

func stderrLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// alpacaInput is input's --source alpaca branch.
func alpacaInput(c *cli.Context, err error) (pipeline.Source[market.Event], *sources.CSV, error) {
	if err != nil {
		return nil, nil, err
	}
	if len(c.StringSlice("csv")) > 0 {
		return nil, nil, usageError("--source alpaca and --csv: choose one")
	}
	src, err := alpacaBars(c)
	if err != nil {
		return nil, nil, err
	}
	return src, nil, nil
}

// alpacaNote names the source for summaries.
func alpacaNote(src *sources.AlpacaBars) string {
	st := src.Stats()
	return fmt.Sprintf("alpaca: %d requests, %d retries, circuit breaker %s", st.Requests, st.Retries, src.BreakerState())
}
