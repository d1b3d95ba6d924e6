package nats_test

import (
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/tickflow/tickflow/nats"
)

func TestEscapeSymbol(t *testing.T) {
	for _, tc := range []struct{ symbol, token string }{
		{"AAPL", "AAPL"},
		{"BTCUSDT-PERP", "BTCUSDT-PERP"},
		{"BRK.B", "BRK~2EB"},
		{"BTC/USD", "BTC~2FUSD"},
		{"A B", "A~20B"},
		{"*", "~2A"},
		{">", "~3E"},
		{"~", "~7E"},
		{"é", "~C3~A9"},
		{"", "~"},
	} {
		if got := nats.EscapeSymbol(tc.symbol); got != tc.token {
			t.Errorf("EscapeSymbol(%q) = %q, want %q", tc.symbol, got, tc.token)
		}
		back, err := nats.UnescapeSymbol(tc.token)
		if err != nil || back != tc.symbol {
			t.Errorf("UnescapeSymbol(%q) = %q, %v; want %q", tc.token, back, err, tc.symbol)
		}
	}
}

func TestUnescapeSymbolRejects(t *testing.T) {
	for _, token := range []string{"", "BRK.B", "A B", "~2", "~2e", "~41", "a~", "~~", "é", "x>"} {
		if s, err := nats.UnescapeSymbol(token); err == nil {
			t.Errorf("UnescapeSymbol(%q) = %q, want an error", token, s)
		}
	}
}

// validToken is what NATS accepts as one subject token.
func validToken(tok string) bool {
	if tok == "" || !utf8.ValidString(tok) {
		return false
	}
	for _, r := range tok {
		if r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f {
			return false
		}
	}
	return true
}

func FuzzEscapeSymbol(f *testing.F) {
	for _, s := range []string{"AAPL", "BRK.B", "", "a b", "*>", "~", "é", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, symbol string) {
		tok := nats.EscapeSymbol(symbol)
		if !validToken(tok) {
			t.Fatalf("EscapeSymbol(%q) = %q, not one subject token", symbol, tok)
		}
		back, err := nats.UnescapeSymbol(tok)
		if err != nil || back != symbol {
			t.Fatalf("UnescapeSymbol(EscapeSymbol(%q)) = %q, %v", symbol, back, err)
		}
		// Every token has at most one symbol: what unescapes escapes back.
		if s, err := nats.UnescapeSymbol(symbol); err == nil && nats.EscapeSymbol(s) != symbol {
			t.Fatalf("UnescapeSymbol(%q) = %q, which escapes to %q", symbol, s, nats.EscapeSymbol(s))
		}
	})
}

func TestPartitionIsFNV1a(t *testing.T) {
	// Pinned values: the partition of a symbol must never change, or a new
	// worker would look for a symbol where the old ingest did not put it.
	for _, tc := range []struct {
		symbol string
		n, p   int
	}{
		{"AAPL", 16, nats.Partition("AAPL", 16)},
		{"", 7, int(2166136261 % 7)}, // FNV-1a's offset basis
		{"a", 1000, int(0xe40c292c % 1000)},
		{"SPY", 1, 0},
		{"SPY", 0, 0},
	} {
		if got := nats.Partition(tc.symbol, tc.n); got != tc.p {
			t.Errorf("Partition(%q, %d) = %d, want %d", tc.symbol, tc.n, got, tc.p)
		}
	}
	// 10,000 symbols spread over 8 partitions within 10% of even.
	counts := make([]int, 8)
	for i := range 10000 {
		counts[nats.Partition(fmt.Sprintf("SYM%05d", i), 8)]++
	}
	for p, c := range counts {
		if c < 1125 || c > 1375 {
			t.Errorf("partition %d holds %d of 10000 symbols: %v", p, c, counts)
		}
	}
}

func TestBarsSubjectRoundTrip(t *testing.T) {
	ns := nats.Namespace("")
	for _, sym := range []string{"AAPL", "BRK.B", "é *>", ""} {
		subj := ns.BarsSubject(3, sym)
		p, got, err := ns.ParseBarsSubject(subj)
		if err != nil || p != 3 || got != sym {
			t.Errorf("ParseBarsSubject(%q) = %d, %q, %v", subj, p, got, err)
		}
	}
	for _, subj := range []string{"tickflow.bars.x.AAPL", "tickflow.bars.01.AAPL", "tickflow.bars.1", "other.bars.1.A", "tickflow.bars.1.A.B", "tickflow.bars.1.A B"} {
		if _, _, err := ns.ParseBarsSubject(subj); err == nil {
			t.Errorf("ParseBarsSubject(%q): no error", subj)
		}
	}
	if got := nats.Namespace("").SignalSubject("BRK.B"); got != "tickflow.signals.BRK~2EB" {
		t.Errorf("SignalSubject = %q", got)
	}
}
