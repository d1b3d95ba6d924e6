package alpaca

import (
	"strings"
	"testing"
	"time"
)

func TestParseTimeFrame(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"": time.Minute, "1Min": time.Minute, "15Min": 15 * time.Minute, "1T": time.Minute,
		"1Hour": time.Hour, "4H": 4 * time.Hour, "59Min": 59 * time.Minute, "6Month": 6 * 31 * 24 * time.Hour, "1Day": 24 * time.Hour, "1Week": 7 * 24 * time.Hour, "1Month": 31 * 24 * time.Hour,
	} {
		tf, d, err := parseTimeFrame(in)
		if err != nil || d != want || tf.N == 0 {
			t.Errorf("%q: %v %v %v", in, tf, d, err)
		}
	}
	for _, in := range []string{"Min", "0Min", "-1Min", "1min", "1Fortnight", "1.5Hour", "99999999999999999999Min", "9999999999Min", "60Min", "2Day", "5Month"} {
		if _, _, err := parseTimeFrame(in); err == nil || !strings.Contains(err.Error(), "timeframe") {
			t.Errorf("%q: err %v", in, err)
		}
	}
}

func FuzzParseTimeFrame(f *testing.F) {
	for _, s := range []string{"1Min", "15Min", "1Hour", "1Day", "2W", "3M", "", "x", "0D"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tf, d, err := parseTimeFrame(s)
		if err != nil {
			return
		}
		if tf.N <= 0 || d <= 0 {
			t.Fatalf("%q: %v, %v without an error", s, tf, d)
		}
	})
}
