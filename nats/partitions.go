package nats

import (
	"fmt"
	"strconv"
	"strings"
)

// ParsePartitions reads a --partition list: comma-separated partitions and
// ranges, such as "0,3,8-11", each below n. The result is sorted, without
// repeats.
func ParsePartitions(list string, n int) ([]int, error) {
	seen := make([]bool, n)
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		lo, hi, isRange := strings.Cut(item, "-")
		a, err := partitionNumber(list, lo, n)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = partitionNumber(list, hi, n); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("nats: partitions %q: range %q runs backwards", list, item)
			}
		}
		for p := a; p <= b; p++ {
			seen[p] = true
		}
	}
	var out []int
	for p, ok := range seen {
		if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func partitionNumber(list, s string, n int) (int, error) {
	p, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || p < 0 {
		return 0, fmt.Errorf("nats: partitions %q: %q is not a partition number", list, s)
	}
	if p >= n {
		return 0, fmt.Errorf("nats: partitions %q: %d is not below the stream's %d partitions", list, p, n)
	}
	return p, nil
}
