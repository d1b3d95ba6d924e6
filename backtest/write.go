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

// WriteCSV writes one row per combination, best first: the swept
// parameters by name, then every metric under its JSON key (empty when
// null).
func (r *SweepResult) WriteCSV(w io.Writer) error {
	bw := bufio.NewWriter(w)
	keys := MetricKeys()
	bw.WriteString(strings.Join(append(append([]string{"rank"}, r.Names...), keys...), ","))
	bw.WriteByte('\n')
	for i := range r.Rows {
		row := &r.Rows[i]
		bw.WriteString(strconv.Itoa(i + 1))
		for _, v := range row.Values {
			bw.WriteByte(',')
			bw.WriteString(ftoa(v))
		}
		for _, k := range metricKeys {
			bw.WriteByte(',')
			if n := k.get(&row.Metrics); n.OK {
				bw.WriteString(ftoa(n.V))
			}
		}
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("backtest: write sweep csv: %w", err)
	}
	return nil
}

// sweepRowJSON is a row as JSON: parameters by name, portfolio metrics.
type sweepRowJSON struct {
	Params  map[string]float64 `json:"params"`
	Metrics *Metrics           `json:"metrics"`
}

// WriteJSON writes {"strategy", "rank", "pruned", "invalid", "rows": [{"params":
// {...}, "metrics": {...}}]}, rows best first.
func (r *SweepResult) WriteJSON(w io.Writer) error {
	doc := struct {
		Strategy string         `json:"strategy"`
		Rank     string         `json:"rank"`
		Pruned   int            `json:"pruned"`
		Invalid  int            `json:"invalid"`
		Rows     []sweepRowJSON `json:"rows"`
	}{r.Strategy, r.Rank, r.Pruned, r.Invalid, make([]sweepRowJSON, len(r.Rows))}
	for i := range r.Rows {
		p := make(map[string]float64, len(r.Names))
		for k, n := range r.Names {
			p[n] = r.Rows[i].Values[k]
		}
		doc.Rows[i] = sweepRowJSON{Params: p, Metrics: &r.Rows[i].Metrics}
	}
	if err := json.NewEncoder(w).Encode(doc); err != nil {
		return fmt.Errorf("backtest: write sweep json: %w", err)
	}
	return nil
}
