package config

import "testing"

// TestPerOperationConcurrency: fetch, indicators and actions concurrency
// follow their general settings until set, and each can be set on its own,
// to 1 included, from the file, the environment or a flag.
func TestPerOperationConcurrency(t *testing.T) {
	file := writeFile(t, "async:\n  max_concurrent_symbols: 7\n  cpu_thread_pool_size: 3\n  max_concurrent_requests: 9\n  fetch_concurrency: 2\n")
	tests := []struct {
		name                       string
		file                       string
		env, flags                 map[string]string
		fetch, indicators, actions int
	}{
		{"defaults follow the general settings", "", nil, nil, 10, 4, 50},
		{"general settings changed", file, map[string]string{"TICKFLOW_ASYNC_FETCH_CONCURRENCY": "0"}, nil, 7, 3, 9},
		{"fetch from the file", file, nil, nil, 2, 3, 9},
		{"each set to 1", "", map[string]string{"TICKFLOW_ASYNC_FETCH_CONCURRENCY": "1", "TICKFLOW_ASYNC_INDICATORS_CONCURRENCY": "1"},
			map[string]string{"actions-concurrency": "1"}, 1, 1, 1},
		{"flags over env", "", map[string]string{"TICKFLOW_ASYNC_INDICATORS_CONCURRENCY": "1"},
			map[string]string{"indicators-concurrency": "8", "fetch-concurrency": "5"}, 5, 8, 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(Sources{File: tt.file, Env: envOf(tt.env), Flags: tt.flags})
			if err != nil {
				t.Fatal(err)
			}
			a := c.Async
			if a.Fetch() != tt.fetch || a.Indicators() != tt.indicators || a.Actions() != tt.actions {
				t.Errorf("fetch %d, indicators %d, actions %d; want %d, %d, %d", a.Fetch(), a.Indicators(), a.Actions(),
					tt.fetch, tt.indicators, tt.actions)
			}
		})
	}
	for _, key := range []string{"async.fetch_concurrency", "async.indicators_concurrency", "async.actions_concurrency"} {
		c := Default()
		if err := c.Set(key, "-1"); err == nil && c.Validate() == nil {
			t.Errorf("%s accepts -1", key)
		}
	}
}
