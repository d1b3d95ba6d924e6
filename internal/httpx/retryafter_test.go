package httpx

import (
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"-3", 0},
		{"Tue, 02 Jan 2024 15:00:30 GMT", 30 * time.Second},
		{"Tue, 02 Jan 2024 14:00:00 GMT", 0}, // in the past
		{"soon", 0},
	} {
		if got := retryAfter(tc.in, now); got != tc.want {
			t.Errorf("Retry-After %q = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "7", "Tue, 02 Jan 2024 15:00:30 GMT", "x", "99999999999999999999"} {
		f.Add(s)
	}
	now := time.Date(2024, 1, 2, 15, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		if d := retryAfter(s, now); d < 0 {
			t.Fatalf("%q: negative wait %v", s, d)
		}
	})
}
