package sinks

import (
	"bytes"
	"encoding/csv"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

func TestCSVSink(t *testing.T) {
	events := sampleEvents()
	var buf bytes.Buffer
	writeAll(t, &CSV{W: &buf, Emit: EmitIndicators}, events, 2)
	want := `symbol,time,close,ema,stochrsi_k,stochrsi_d
AAPL,2024-01-02T14:30:00Z,185.64,,,
AAPL,2024-01-02T14:31:00Z,185.7,185.67,,
MSFT,2024-01-02T14:30:01.5Z,1e+21,0.30000000000000004,0,100
"BRK.B ""q"" \ ` + "\n\t\x01\u2028é\xff" + `",2024-01-02T14:30:00.000000001Z,1e-7,-0,12.5,99.99999999999999
NAN,2024-01-02T14:30:00Z,,,,
`
	if buf.String() != want {
		t.Errorf("got:\n%q\nwant:\n%q", buf.String(), want)
	}

	buf.Reset()
	writeAll(t, &CSV{W: &buf}, events, 3)
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantRows := [][]string{
		{"symbol", "time", "side", "price", "reason"},
		{"MSFT", "2024-01-02T14:30:01.5Z", "buy", "375.25", "K crossed above D below 20, close above EMA"},
		{events[3].Symbol, "2024-01-02T14:30:00.000000001Z", "sell", "123456789.125", "a, \"quoted\" reason\n<&>"},
	}
	if len(rows) != len(wantRows) {
		t.Fatalf("rows %q, want %q", rows, wantRows)
	}
	for i := range rows {
		if strings.Join(rows[i], "|") != strings.Join(wantRows[i], "|") {
			t.Errorf("row %d: %q, want %q", i, rows[i], wantRows[i])
		}
	}
}

// The header is there even when no record is, so the output is a valid,
// empty table.
func TestCSVSinkEmpty(t *testing.T) {
	var buf bytes.Buffer
	writeAll(t, &CSV{W: &buf}, nil, 1)
	writeAll(t, &CSV{W: &buf, Emit: EmitIndicators}, sampleEvents()[:0], 1)
	if want := csvSignalsHeader + "symbol,time,close,ema,stochrsi_k,stochrsi_d\n"; buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

// Numbers read back exactly.
func TestCSVSinkRoundTrip(t *testing.T) {
	events := benchEvents()
	var buf bytes.Buffer
	writeAll(t, &CSV{W: &buf, Emit: EmitIndicators}, events, 10)
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		r := rows[i+1]
		tm, _ := time.Parse(time.RFC3339Nano, r[1])
		vals := make([]float64, 4)
		for j := range vals {
			vals[j], _ = strconv.ParseFloat(r[2+j], 64)
		}
		if r[0] != e.Symbol || !tm.Equal(e.Time) || vals[0] != e.Close || vals[1] != e.Indicators.Value(market.DefaultEMA) ||
			vals[2] != e.Indicators.Value(market.DefaultStochK) || vals[3] != e.Indicators.Value(market.DefaultStochD) {
			t.Errorf("row %d %q does not read back as %+v", i, r, e)
		}
	}
}

func BenchmarkCSVIndicators(b *testing.B) {
	benchSink(b, &CSV{W: discardWriter{}, Emit: EmitIndicators})
}
