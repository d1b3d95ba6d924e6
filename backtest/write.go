package backtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// WriteJSON writes r as one JSON object followed by a newline.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("backtest: write json: %w", err)
	}
	return nil
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func ttoa(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// WriteTrades writes every closed trade as CSV, symbol by symbol:
// symbol,entry_time,entry_price,exit_time,exit_price,qty,pnl,return,exit.
func (r *Result) WriteTrades(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("symbol,entry_time,entry_price,exit_time,exit_price,qty,pnl,return,exit\n")
	for _, s := range r.Symbols {
		for _, t := range s.Trades {
			fmt.Fprintf(bw, "%s,%s,%s,%s,%s,%s,%s,%s,%s\n", csvField(s.Symbol), ttoa(t.EntryTime), ftoa(t.EntryPrice),
				ttoa(t.ExitTime), ftoa(t.ExitPrice), ftoa(t.Qty), ftoa(t.PnL), ftoa(t.Return), t.Exit)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("backtest: write trades: %w", err)
	}
	return nil
}

// WriteEquity writes the portfolio's equity curve as CSV:
// time,equity,drawdown (drawdown is 1 - equity/peak so far).
func (r *Result) WriteEquity(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("time,equity,drawdown\n")
	peak := 0.0
	c := r.Portfolio.Equity
	for i := range c.Times {
		t, e := c.At(i)
		peak = max(peak, e)
		fmt.Fprintf(bw, "%s,%s,%s\n", ttoa(t), ftoa(e), ftoa(1-e/peak))
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("backtest: write equity: %w", err)
	}
	return nil
}

// csvField quotes s when RFC 4180 requires it.
func csvField(s string) string {
	for _, c := range s {
		if c == ',' || c == '"' || c == '\n' || c == '\r' {
			return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
		}
	}
	return s
}
