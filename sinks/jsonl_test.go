package sinks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/market"
)

// TestMain checks that no test of the package (the pipeline conformance runs,
// the other sinks' tests) leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var (
	t0 = time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	// Variables, so that the arithmetic is float64's and not exact
	// constant arithmetic.
	pointOne, pointTwo = 0.1, 0.2
	negZero            = math.Copysign(0, -1)
)

// sampleEvents covers the states a record can be in: indicators undefined,
// EMA only, all defined, a signal of each side, awkward strings and numbers.
func sampleEvents() []market.Event {
	ny := time.FixedZone("EST", -5*3600)
	return []market.Event{
		{Bar: market.Bar{Symbol: "AAPL", Time: t0, Close: 185.64}},
		{Bar: market.Bar{Symbol: "AAPL", Time: t0.Add(time.Minute).In(ny), Close: 185.7},
			Indicators: market.DefaultRecord(185.66999999999999, true, 0, 0, false)},
		{Bar: market.Bar{Symbol: "MSFT", Time: t0.Add(1500 * time.Millisecond), Close: 1e21},
			Indicators: market.DefaultRecord(pointOne+pointTwo, true, 0, 100, true),
			Signal:     &market.Signal{Symbol: "MSFT", Time: t0.Add(1500 * time.Millisecond), Side: market.Buy, Price: 375.25, Reason: "K crossed above D below 20, close above EMA"}},
		{Bar: market.Bar{Symbol: "BRK.B \"q\" \\ \n\t\x01\u2028é\xff", Time: t0.Add(time.Nanosecond), Close: 1e-7},
			Indicators: market.DefaultRecord(negZero, true, 12.5, 99.99999999999999, true),
			Signal:     &market.Signal{Side: market.Sell, Price: 123456789.125, Reason: "a, \"quoted\" reason\r\n<&>"}},
		{Bar: market.Bar{Symbol: "NAN", Time: t0, Close: math.NaN()},
			Indicators: market.DefaultRecord(math.Inf(1), true, 0, 0, false)},
	}
}

// The records as encoding/json writes them: the sink's output must be byte
// for byte the same.
type indicatorRecord struct {
	Symbol string   `json:"symbol"`
	Time   string   `json:"time"`
	Close  *float64 `json:"close"`
	EMA    *float64 `json:"ema"`
	K      *float64 `json:"stochrsi_k"`
	D      *float64 `json:"stochrsi_d"`
}

type signalRecord struct {
	Symbol string   `json:"symbol"`
	Time   string   `json:"time"`
	Side   string   `json:"side"`
	Price  *float64 `json:"price"`
	Reason string   `json:"reason"`
}

func finite(v float64, ok bool) *float64 {
	if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func encodeStd(t *testing.T, emit Emit, events []market.Event) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, e := range events {
		var rec any
		if emit == EmitIndicators {
			ind := e.Indicators
			rec = indicatorRecord{e.Symbol, e.Time.UTC().Format(time.RFC3339Nano), finite(e.Close, true),
				finite(ind.Get(market.DefaultEMA)), finite(ind.Get(market.DefaultStochK)), finite(ind.Get(market.DefaultStochD))}
		} else {
			if e.Signal == nil {
				continue
			}
			sym, tm := signalKey(&e)
			rec = signalRecord{sym, tm.Format(time.RFC3339Nano), e.Signal.Side.String(), finite(e.Signal.Price, true), e.Signal.Reason}
		}
		if err := enc.Encode(rec); err != nil {
			t.Fatal(err)
		}
	}
	return buf.String()
}

func writeAll(t *testing.T, s interface {
	Write(context.Context, []market.Event) error
	Flush(context.Context) error
}, events []market.Event, batch int) {
	t.Helper()
	ctx := context.Background()
	for len(events) > 0 {
		n := min(batch, len(events))
		if err := s.Write(ctx, events[:n]); err != nil {
			t.Fatal(err)
		}
		events = events[n:]
	}
	if err := s.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestJSONLMatchesEncodingJSON(t *testing.T) {
	events := sampleEvents()
	for _, emit := range []Emit{EmitIndicators, EmitSignals} {
		var buf bytes.Buffer
		writeAll(t, &JSONL{W: &buf, Emit: emit}, events, 2)
		if want := encodeStd(t, emit, events); buf.String() != want {
			t.Errorf("%v:\n got %s\nwant %s", emit, buf.String(), want)
		}
	}
}

// TestJSONLContract pins the output contract's exact lines.
func TestJSONLContract(t *testing.T) {
	events := sampleEvents()[:3]
	var buf bytes.Buffer
	writeAll(t, &JSONL{W: &buf, Emit: EmitIndicators}, events, 64)
	want := `{"symbol":"AAPL","time":"2024-01-02T14:30:00Z","close":185.64,"ema":null,"stochrsi_k":null,"stochrsi_d":null}
{"symbol":"AAPL","time":"2024-01-02T14:31:00Z","close":185.7,"ema":185.67,"stochrsi_k":null,"stochrsi_d":null}
{"symbol":"MSFT","time":"2024-01-02T14:30:01.5Z","close":1e+21,"ema":0.30000000000000004,"stochrsi_k":0,"stochrsi_d":100}
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
	buf.Reset()
	writeAll(t, &JSONL{W: &buf}, events, 64)
	want = `{"symbol":"MSFT","time":"2024-01-02T14:30:01.5Z","side":"buy","price":375.25,"reason":"K crossed above D below 20, close above EMA"}
`
	if buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// Decoding the output gives back the exact values.
func TestJSONLRoundTrip(t *testing.T) {
	events := sampleEvents()[:4]
	var buf bytes.Buffer
	writeAll(t, &JSONL{W: &buf, Emit: EmitIndicators}, events, 3)
	dec := json.NewDecoder(&buf)
	for i, e := range events {
		var r struct {
			Symbol string
			Time   time.Time
			Close  float64
			EMA    *float64 `json:"ema"`
			K      *float64 `json:"stochrsi_k"`
			D      *float64 `json:"stochrsi_d"`
		}
		if err := dec.Decode(&r); err != nil {
			t.Fatal(err)
		}
		wantSym := strings.ToValidUTF8(e.Symbol, "\uFFFD")
		if r.Symbol != wantSym || !r.Time.Equal(e.Time) || r.Time.Location() != time.UTC || r.Close != e.Close ||
			(r.EMA != nil) != e.Indicators.Defined(market.DefaultEMA) || r.EMA != nil && math.Float64bits(*r.EMA) != math.Float64bits(e.Indicators.Value(market.DefaultEMA)) ||
			(r.K != nil) != e.Indicators.Defined(market.DefaultStochK) || (r.D != nil) != e.Indicators.Defined(market.DefaultStochD) ||
			r.K != nil && (*r.K != e.Indicators.Value(market.DefaultStochK) || *r.D != e.Indicators.Value(market.DefaultStochD)) {
			t.Errorf("record %d decodes to %+v, want %+v", i, r, e)
		}
	}
	if dec.More() {
		t.Error("more records than events")
	}
}

// The sink encodes during Write: changing the batch afterwards changes
// nothing.
func TestJSONLKeepsNoBatch(t *testing.T) {
	events := sampleEvents()
	var buf bytes.Buffer
	s := &JSONL{W: &buf, Emit: EmitIndicators}
	if err := s.Write(context.Background(), events); err != nil {
		t.Fatal(err)
	}
	for i := range events {
		events[i] = market.Event{}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := encodeStd(t, EmitIndicators, sampleEvents()); buf.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestFlushInterval checks on a fake clock that output waits in the buffer
// until FlushInterval has passed since the last write-out, or until Flush.
func TestFlushInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ev := sampleEvents()[:1]
		var buf bytes.Buffer
		s := &JSONL{W: &buf, Emit: EmitIndicators}
		must(t, s.Write(ctx, ev))
		if buf.Len() != 0 {
			t.Fatal("written out at once")
		}
		time.Sleep(DefaultFlushInterval) // advances the fake clock
		must(t, s.Write(ctx, ev))
		if n := strings.Count(buf.String(), "\n"); n != 2 {
			t.Fatalf("%d records out after the interval, want 2", n)
		}

		buf.Reset()
		never := &JSONL{W: &buf, Emit: EmitIndicators, FlushInterval: -1}
		must(t, never.Write(ctx, ev))
		time.Sleep(time.Hour)
		must(t, never.Write(ctx, ev))
		if buf.Len() != 0 {
			t.Fatal("FlushInterval -1 wrote out before Flush")
		}
		must(t, never.Flush(ctx))
		if n := strings.Count(buf.String(), "\n"); n != 2 {
			t.Fatalf("%d records out after Flush, want 2", n)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	w.n++
	return 0, errors.New("disk full")
}

func TestSinkErrors(t *testing.T) {
	ctx := context.Background()
	events := sampleEvents()
	for _, tc := range []struct {
		s    interface{ Flush(context.Context) error }
		want string
	}{
		{&JSONL{W: &failingWriter{}, Emit: EmitIndicators}, "sinks.JSONL: disk full"},
		{&CSV{W: &failingWriter{}, Emit: EmitIndicators}, "sinks.CSV: disk full"},
		{&Table{W: &failingWriter{}, Emit: EmitIndicators}, "sinks.Table: disk full"},
	} {
		s := tc.s.(interface {
			Write(context.Context, []market.Event) error
		})
		if err := s.Write(ctx, events); err != nil {
			t.Fatalf("Write before the buffer is written out: %v", err)
		}
		if err := tc.s.Flush(ctx); err == nil || err.Error() != tc.want {
			t.Errorf("Flush = %v, want %s", err, tc.want)
		}
		// The error sticks.
		if err := s.Write(ctx, events); err == nil || err.Error() != tc.want {
			t.Errorf("Write after the error = %v, want %s", err, tc.want)
		}
	}
	for _, s := range []interface {
		Write(context.Context, []market.Event) error
	}{&JSONL{Emit: 7}, &CSV{Emit: 7}, &Table{Emit: 7}} {
		if err := s.Write(ctx, events); err == nil || !strings.Contains(err.Error(), "unknown Emit(7)") {
			t.Errorf("%T with Emit 7: %v", s, err)
		}
	}
}

func TestParseEmit(t *testing.T) {
	for _, e := range []Emit{EmitSignals, EmitIndicators} {
		if got, err := ParseEmit(e.String()); got != e || err != nil {
			t.Errorf("ParseEmit(%q) = %v, %v", e.String(), got, err)
		}
	}
	if _, err := ParseEmit("bars"); err == nil || err.Error() != `sinks: emit "bars" is neither signals nor indicators` {
		t.Errorf("ParseEmit(bars) = %v", err)
	}
}

func FuzzAppendNumber(f *testing.F) {
	for _, v := range []float64{0, -0.0, 1e-7, 1e21, 185.64, 1e20, 123456789.125, 5e-324, math.MaxFloat64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		got := string(appendNumber(nil, v, "null"))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if got != "null" {
				t.Fatalf("appendNumber(%v) = %s, want null", v, got)
			}
			return
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got != string(want) {
			t.Fatalf("appendNumber(%v) = %s, encoding/json %s", v, got, want)
		}
	})
}

// benchEvents is a batch as the indicator stage sends it: every indicator
// defined, one signal in 64.
func benchEvents() []market.Event {
	events := make([]market.Event, 64)
	for i := range events {
		p := 100 + float64(i)*0.37
		events[i] = market.Event{
			Bar:        market.Bar{Symbol: "SYM0042", Time: t0.Add(time.Duration(i) * time.Minute), Close: p},
			Indicators: market.DefaultRecord(p*0.999123, true, float64(i)*1.5123, float64(i)*1.4987, true),
		}
	}
	events[10].Signal = &market.Signal{Symbol: "SYM0042", Time: events[10].Time, Side: market.Buy, Price: events[10].Close, Reason: "stochrsi cross up"}
	return events
}

func benchSink(b *testing.B, s interface {
	Write(context.Context, []market.Event) error
	Flush(context.Context) error
}) {
	events := benchEvents()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkJSONLIndicators(b *testing.B) {
	benchSink(b, &JSONL{W: discardWriter{}, Emit: EmitIndicators})
}

func BenchmarkJSONLSignals(b *testing.B) { benchSink(b, &JSONL{W: discardWriter{}}) }

// BenchmarkEncodingJSON is the reflective encoder, for comparison.
func BenchmarkEncodingJSON(b *testing.B) {
	events := benchEvents()
	enc := json.NewEncoder(discardWriter{})
	b.ReportAllocs()
	for b.Loop() {
		for i := range events {
			e := &events[i]
			ind := e.Indicators
			_ = enc.Encode(indicatorRecord{e.Symbol, e.Time.UTC().Format(time.RFC3339Nano), finite(e.Close, true),
				finite(ind.Get(market.DefaultEMA)), finite(ind.Get(market.DefaultStochK)), finite(ind.Get(market.DefaultStochD))})
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
}

type discardWriter struct{}

func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
