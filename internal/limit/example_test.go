package limit_test

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tickflow/tickflow/internal/limit"
)

func ExampleLimiter() {
	l, err := limit.New(limit.Config{
		Max:     8,
		OnLimit: func(n int) { fmt.Println("limit", n) }, // e.g. a Prometheus gauge's Set
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	release, err := l.Acquire(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	// ... call the remote; it answers 429:
	release(limit.Overload)
	fmt.Println(l.Stats().Overloaded, "overloaded")
	// Output:
	// limit 8
	// limit 6
	// 1 overloaded
}

func ExampleTransport() {
	l, _ := limit.New(limit.Config{Max: 10})
	client := &http.Client{Transport: limit.Transport(l, nil)}
	_ = client // every request of client now runs under l
	fmt.Println(l.Limit())
	// Output: 10
}
