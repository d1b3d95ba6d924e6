package server_test

import (
	"testing"
	"time"

	"github.com/tickflow/tickflow/market"
	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
	"github.com/tickflow/tickflow/server"
)

func TestFeedConforms(t *testing.T) {
	t0 := time.Date(2024, 1, 2, 14, 30, 0, 0, time.UTC)
	var events []market.Event
	for i := range 20 {
		sym := []string{"AAPL", "MSFT"}[i%2]
		e := market.Event{Bar: market.Bar{Symbol: sym, Time: t0.Add(time.Duration(i/2) * time.Minute), Close: 100 + float64(i)}}
		if i == 10 {
			e.Signal = &market.Signal{Symbol: sym, Time: e.Time, Side: market.Buy, Price: e.Close, Reason: "test"}
		}
		events = append(events, e)
	}
	pipelinetest.TestSink(t, func() pipeline.Sink[market.Event] {
		srv, err := server.New(server.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return srv.Feed()
	}, events, func(t *testing.T, s pipeline.Sink[market.Event]) {
		f := s.(*server.Feed)
		if st := f.Stats(); st.Bars != 20 || st.Signals != 1 || st.Symbols != 2 {
			t.Errorf("feed stats %+v, want 20 bars, 1 signal, 2 symbols", st)
		}
	})
}
