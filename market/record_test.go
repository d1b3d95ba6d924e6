package market_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/market"
)

func TestNewSchema(t *testing.T) {
	many := make([]string, market.MaxValues+1)
	for i := range many {
		many[i] = fmt.Sprintf("v%d", i)
	}
	for _, tc := range []struct {
		name  string
		names []string
		err   string // "" for none
	}{
		{"empty", nil, ""},
		{"default", market.DefaultNames, ""},
		{"full", many[:market.MaxValues], ""},
		{"too many", many, "17 values"},
		{"twice", []string{"ema", "macd", "ema"}, `value "ema" twice`},
		{"empty name", []string{"ema", ""}, `value 2: name ""`},
		{"digit first", []string{"1ema"}, `name "1ema"`},
		{"dash", []string{"macd-hist"}, `name "macd-hist"`},
		{"a bar's field", []string{"ema", "close"}, `value "close": the name is a bar's`},
		{"a signal's field", []string{"reason"}, `value "reason"`},
		{"underscore and digits", []string{"slow_sma200", "Fast"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := market.NewSchema(tc.names...)
			if tc.err != "" {
				require.ErrorIs(t, err, market.ErrSchema)
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, len(tc.names), s.Len())
			for i, n := range tc.names {
				h, err := s.Handle(n)
				require.NoError(t, err)
				assert.Equal(t, market.Handle(i), h)
				assert.Equal(t, n, s.Name(i))
			}
		})
	}
}

func TestDefaultNamesAreTheDefaultSchema(t *testing.T) {
	s, err := market.NewSchema("ema", "stochrsi_k", "stochrsi_d")
	require.NoError(t, err)
	assert.Same(t, market.DefaultSchema, s, "records of the default names compare equal with ==")
	var sig market.Signal
	require.NoError(t, json.Unmarshal([]byte(`{"symbol":"X","side":"buy","ema":1,"stochrsi_k":2,"stochrsi_d":3}`), &sig))
	assert.Same(t, market.DefaultSchema, sig.Indicators.Schema)
	other, err := market.NewSchema("stochrsi_k", "ema", "stochrsi_d")
	require.NoError(t, err)
	assert.NotSame(t, market.DefaultSchema, other)
}

func TestSchemaHandleUnknown(t *testing.T) {
	_, err := market.DefaultSchema.Handle("macd")
	require.ErrorIs(t, err, market.ErrSchema)
	assert.ErrorContains(t, err, `no value "macd" among ema,stochrsi_k,stochrsi_d`)
}

func TestSchemaHasPrefix(t *testing.T) {
	s := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd")
	assert.True(t, s.HasPrefix(market.DefaultSchema))
	assert.True(t, s.HasPrefix(nil))
	assert.False(t, market.DefaultSchema.HasPrefix(s))
	assert.False(t, market.MustSchema("ema", "macd", "stochrsi_d").HasPrefix(market.DefaultSchema))
}

func TestRecordValues(t *testing.T) {
	s := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal")
	r := market.Indicators{Schema: s}
	for i := range s.Len() {
		_, ok := r.Get(market.Handle(i))
		assert.False(t, ok, "value %d of a new record", i)
	}
	macd, _ := s.Handle("macd")
	r.Set(macd, 0) // a real zero is defined
	v, ok := r.Get(macd)
	assert.True(t, ok)
	assert.Equal(t, 0.0, v)
	r.SetDefault(1.5, true, 20, 30, false)
	assert.Equal(t, 1.5, r.Value(market.DefaultEMA))
	assert.False(t, r.Defined(market.DefaultStochK))
	assert.True(t, r.Defined(macd), "SetDefault keeps the other values")
	r.Unset(macd)
	assert.False(t, r.Defined(macd))
	r.SetOpt(macd, 2, true)
	got, ok := r.Lookup("macd")
	assert.True(t, ok)
	assert.Equal(t, 2.0, got)
	_, ok = r.Lookup("nope")
	assert.False(t, ok)
	_, ok = r.Get(market.MaxValues)
	assert.False(t, ok, "a handle past the capacity")
	var names []string
	r.Each(func(name string, _ float64, ok bool) {
		if ok {
			names = append(names, name)
		}
	})
	assert.Equal(t, []string{"ema", "macd"}, names)
}

func TestRecordAllocatesNothing(t *testing.T) {
	s := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd")
	h, _ := s.Handle("macd")
	e := market.Event{Indicators: market.Indicators{Schema: s}}
	n := testing.AllocsPerRun(100, func() {
		e.Indicators.SetDefault(1, true, 2, 3, true)
		e.Indicators.Set(h, e.Indicators.Value(market.DefaultEMA)+1)
	})
	assert.Zero(t, n)
}

func TestEventJSONNamesEveryValue(t *testing.T) {
	s := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd", "macd_signal", "slow")
	e := market.Event{Bar: market.Bar{Symbol: "SPY", Time: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), Close: 10}}
	e.Indicators = market.Indicators{Schema: s}
	e.Indicators.SetDefault(9.5, true, 0, 0, false)
	e.Indicators.Set(3, -0.25)
	e.Indicators.Set(5, 0)
	assert.Equal(t, `{"symbol":"SPY","time":"2024-01-02T00:00:00Z","close":10,"ema":9.5,"stochrsi_k":null,"stochrsi_d":null,"macd":-0.25,"macd_signal":null,"slow":0}`,
		string(market.AppendEventJSON(nil, &e)))
	e.Indicators = market.Indicators{}
	assert.Equal(t, `{"symbol":"SPY","time":"2024-01-02T00:00:00Z","close":10,"ema":null,"stochrsi_k":null,"stochrsi_d":null}`,
		string(market.AppendEventJSON(nil, &e)), "a record without a schema is the default one, all null")
}

func TestSignalJSONRoundTripOpenRecord(t *testing.T) {
	s := market.MustSchema("ema", "stochrsi_k", "stochrsi_d", "macd", "slow")
	sig := market.Signal{Symbol: "SPY", Time: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), Side: market.Sell, Price: 3, Reason: "r",
		Indicators: market.Indicators{Schema: s}}
	sig.Indicators.SetDefault(1, true, 2, 3, true)
	sig.Indicators.Set(4, 200)
	b, err := json.Marshal(sig)
	require.NoError(t, err)
	var back market.Signal
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, s.Names(), back.Indicators.Schema.Names())
	for i := range s.Len() {
		v, ok := sig.Indicators.Get(market.Handle(i))
		bv, bok := back.Indicators.Get(market.Handle(i))
		assert.Equal(t, ok, bok, s.Name(i))
		assert.Equal(t, v, bv, s.Name(i))
	}
	err = json.Unmarshal([]byte(`{"symbol":"X","side":"buy","ema":"high"}`), &back)
	require.Error(t, err)
	assert.ErrorContains(t, err, `signal of X: field "ema"`)
	err = json.Unmarshal([]byte(`{"symbol":"X","side":"hold"}`), &back)
	assert.ErrorContains(t, err, "signal of X")
	assert.False(t, errors.Is(err, market.ErrSchema))
}
