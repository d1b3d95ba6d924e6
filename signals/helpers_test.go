package signals_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/signals"
)

func TestCrossUpDown(t *testing.T) {
	for _, tc := range []struct {
		pa, pb, a, b float64
		up, down     bool
	}{
		{1, 2, 3, 2, true, false},
		{2, 2, 3, 2, true, false}, // a touch, then above
		{2, 2, 2, 2, false, false},
		{3, 2, 1, 2, false, true},
		{2, 2, 1, 2, false, true},
		{1, 2, 1.5, 2, false, false},
		{3, 2, 4, 2, false, false},
	} {
		assert.Equal(t, tc.up, signals.CrossUp(tc.pa, tc.pb, tc.a, tc.b), "%+v", tc)
		assert.Equal(t, tc.down, signals.CrossDown(tc.pa, tc.pb, tc.a, tc.b), "%+v", tc)
	}
}

func TestCross(t *testing.T) {
	var c signals.Cross
	type step struct {
		a, b     float64
		ok       bool
		up, down bool
	}
	for i, s := range []step{
		{3, 2, true, false, false}, // no previous bar
		{1, 2, true, false, true},
		{3, 2, false, false, false}, // undefined: nothing, and forgotten
		{4, 2, true, false, false},  // the previous bar was undefined
		{1, 2, true, false, true},
		{5, 2, true, true, false},
	} {
		up, down := c.Update(s.a, s.b, s.ok)
		assert.Equal(t, s.up, up, "step %d up", i)
		assert.Equal(t, s.down, down, "step %d down", i)
	}
}

func TestBuySell(t *testing.T) {
	e := market.Event{Bar: market.Bar{Symbol: "X", Time: time.Unix(60, 0).UTC(), Close: 12.5},
		Indicators: market.DefaultRecord(1, true, 2, 3, true)}
	assert.Equal(t, &market.Signal{Symbol: "X", Time: e.Time, Side: market.Buy, Price: 12.5, Reason: "why", Indicators: e.Indicators},
		signals.Buy(&e, "why"))
	assert.Equal(t, &market.Signal{Symbol: "X", Time: e.Time, Side: market.Sell, Price: 12.5, Reason: "because", Indicators: e.Indicators},
		signals.Sell(&e, "because"))
}
