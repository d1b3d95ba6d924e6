//go:build !full

package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The default build is the offline core: what a first "go run
// ./cmd/tickflow run" compiles must not include an integration's
// dependencies, which cost it minutes (modernc's SQLite alone ~2 of them).
func TestDefaultBuildLinksNoIntegration(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "go list: %s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/tickflow/tickflow/sources")
	for _, dep := range deps {
		for _, heavy := range []string{"net/http", "modernc.org/", "github.com/jackc/", "github.com/nats-io/",
			"github.com/alpacahq/", "github.com/prometheus/", "google.golang.org/protobuf", "github.com/coder/websocket"} {
			assert.False(t, dep == heavy || strings.HasPrefix(dep, heavy), "the default build links %s", dep)
		}
	}
}

// Each integration asked of the default build is a usage error (exit 2)
// that says how to get the full build, not an unknown command or flag.
func TestDefaultBuildNamesTheFullBuild(t *testing.T) {
	for _, args := range [][]string{
		{"import", "--csv", "data/", "--db", "sqlite:bars.db"},
		{"fetch", "--symbols", "AAPL"},
		{"signals"},
		{"stream", "--duration", "1s"},
		{"ingest", "--csv", "data/", "--bus", "nats://127.0.0.1:4222"},
		{"run", "--db", "sqlite:bars.db"},
		{"run", "--synthetic-bars", "50", "--journal", "sqlite:j.db"},
		{"run", "--source", "alpaca", "--symbols", "AAPL"},
		{"run", "--bus", "nats://127.0.0.1:4222"},
	} {
		out, errOut, code := cmdline(t, args...)
		assert.Equal(t, exitUsage, code, "%q: %s", args, errOut)
		assert.Contains(t, errOut, "needs the full build", "%q", args)
		assert.Contains(t, errOut, "go install -tags full github.com/tickflow/tickflow/cmd/tickflow@latest", "%q", args)
		assert.Empty(t, out, "%q", args)
	}
	_, errOut, code := cmdline(t, "run", "--source", "nats")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, `--source: "nats" is not csv or synthetic`)
}
