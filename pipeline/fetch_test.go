package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/pipeline"
	"github.com/tickflow/tickflow/pipeline/pipelinetest"
)

func TestFetchEach(t *testing.T) {
	keys := make([]string, 30)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%02d", i)
	}
	var running, peak atomic.Int32
	release := make(chan struct{})
	fetch := func(ctx context.Context, key string) ([]item, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		if key == "k00" {
			<-release // the first key is the slowest: output order must not change
		}
		if key == "k07" {
			return nil, errors.New("retries exhausted")
		}
		out := make([]item, 3)
		for i := range out {
			out[i] = item{Key: key, N: i}
		}
		return out, nil
	}
	src := &pipeline.FetchEach[item]{Keys: keys, Limit: 4, Fetch: func(ctx context.Context, key string) ([]item, error) {
		if key == "k03" {
			close(release) // k00 ends only once later keys have started
		}
		return fetch(ctx, key)
	}}
	got, err := run(t, src, 2, pipeline.Config[item]{})
	var f pipeline.Failures
	require.ErrorAs(t, err, &f)
	assert.Equal(t, []string{"k07"}, f.Keys())
	require.Len(t, got, 29*3)
	i := 0
	for _, k := range keys {
		if k == "k07" {
			continue
		}
		for n := range 3 {
			assert.Equal(t, item{Key: k, N: n}, got[i])
			i++
		}
	}
	assert.LessOrEqual(t, peak.Load(), int32(4), "never more than Limit fetches at once")
	assert.Greater(t, peak.Load(), int32(1), "fetches overlap")
}

func TestFetchEachConforms(t *testing.T) {
	pipelinetest.TestSource(t, func() pipeline.Source[item] {
		return &pipeline.FetchEach[item]{Keys: []string{"a", "b", "c", "d"}, Limit: 2,
			Fetch: func(ctx context.Context, key string) ([]item, error) {
				return []item{{Key: key, N: 1}, {Key: key, N: 2}}, ctx.Err()
			}}
	}, pipelinetest.SourceOptions{Finite: true, Deterministic: true, MinItems: 3})
}
