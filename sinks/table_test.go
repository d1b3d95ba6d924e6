package sinks

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
)

func TestTable(t *testing.T) {
	events := sampleEvents()[:4]
	events[3].Symbol = "BRK.B"
	var buf bytes.Buffer
	writeAll(t, &Table{W: &buf}, events, 2)
	want := `SYMBOL     TIME                 SIDE        PRICE  REASON
MSFT       2024-01-02 14:30:01  buy        375.25  K crossed above D below 20, close above EMA
BRK.B      2024-01-02 14:30:00  sell  123456789.1  a, "quoted" reason\r\n<&>
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}

	buf.Reset()
	writeAll(t, &Table{W: &buf, Emit: EmitIndicators}, events, 3)
	want = `SYMBOL     TIME                        CLOSE           EMA      %K      %D
AAPL       2024-01-02 14:30:00        185.64             -       -       -
AAPL       2024-01-02 14:31:00         185.7      185.6700       -       -
MSFT       2024-01-02 14:30:01         1e+21        0.3000    0.00  100.00
BRK.B      2024-01-02 14:30:00         1e-07       -0.0000   12.50  100.00
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}

	// No record, no header.
	buf.Reset()
	writeAll(t, &Table{W: &buf}, events[:2], 2)
	if buf.Len() != 0 {
		t.Errorf("wrote %q without signals", buf.String())
	}
}

func BenchmarkTableIndicators(b *testing.B) {
	benchSink(b, &Table{W: discardWriter{}, Emit: EmitIndicators})
}

// TestTableAlignsLongSymbols: a symbol over 10 characters (BTCUSDT-PERP)
// used to push its rows out of line with the header.
func TestTableAlignsLongSymbols(t *testing.T) {
	var b bytes.Buffer
	tab := &Table{W: &b, Emit: EmitIndicators, FlushInterval: -1}
	t0 := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	var events []market.Event
	for i := range 3 {
		events = append(events, market.Event{Bar: market.Bar{Symbol: "BTCUSDT-PERP", Time: t0.Add(time.Duration(i) * time.Minute), Close: 46000}})
	}
	if err := tab.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	if err := tab.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	col := strings.Index(lines[0], "TIME")
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l[col:], "2022-01-01") {
			t.Errorf("row %q: its time does not start under TIME (column %d)", l, col)
		}
	}
}
