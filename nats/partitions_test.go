package nats_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/nats"
)

func TestParsePartitions(t *testing.T) {
	for _, tc := range []struct {
		list string
		want []int
		err  string
	}{
		{"0", []int{0}, ""},
		{"3,1, 2", []int{1, 2, 3}, ""},
		{"4-7,5", []int{4, 5, 6, 7}, ""},
		{"", nil, `"" is not a partition number`},
		{"1,x", nil, `"x" is not a partition number`},
		{"-1", nil, `"" is not a partition number`},
		{"8", nil, "8 is not below the stream's 8 partitions"},
		{"5-2", nil, `range "5-2" runs backwards`},
	} {
		got, err := nats.ParsePartitions(tc.list, 8)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParsePartitions(%q): error %v, want %q", tc.list, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParsePartitions(%q) = %v, %v; want %v", tc.list, got, err, tc.want)
		}
	}
}

func FuzzParsePartitions(f *testing.F) {
	for _, s := range []string{"0", "1,2", "3-5", "a", "-", "7-0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		got, err := nats.ParsePartitions(list, 16)
		if err != nil {
			return
		}
		if len(got) == 0 {
			t.Fatalf("ParsePartitions(%q): no partition and no error", list)
		}
		for i, p := range got {
			if i > 0 && p <= got[i-1] {
				t.Fatalf("ParsePartitions(%q) = %v: not increasing", list, got)
			}
			if p < 0 || p >= 16 {
				t.Fatalf("ParsePartitions(%q) = %v: %d out of range", list, got, p)
			}
		}
	})
}
