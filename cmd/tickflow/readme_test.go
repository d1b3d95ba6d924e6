//go:build full

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tickflow/tickflow/alpaca/alpacatest"
)

// readmeCommand is one command line of a ```sh block of README.md.
type readmeCommand struct {
	line   int      // where it starts in README.md
	args   []string // the words, quotes removed
	notRun string   // why it is not run, from a "(not run: ...)" marker
}

// notRunMarker, in a comment, exempts command lines from being run: on a
// command's own line it covers that command; on a comment line of its own it
// covers every command up to the next blank line. Use it only for what a
// test cannot provide (a remote server, a deployment's hosts).
const notRunMarker = "(not run:"

// readmeCommands extracts the command lines of every ```sh block: comments
// dropped, lines ending in a backslash joined to the next.
func readmeCommands(text string) ([]readmeCommand, error) {
	var (
		cmds    []readmeCommand
		inSh    bool
		pending string // a line continued by a trailing backslash
		start   int
		section string // a "(not run: ...)" reason covering the lines below
	)
	sc := bufio.NewScanner(strings.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "```") {
			if inSh && pending != "" {
				return nil, fmt.Errorf("README.md:%d: a block ends in a continued line", start)
			}
			inSh = !inSh && trimmed == "```sh"
			section = ""
			continue
		}
		if !inSh {
			continue
		}
		if trimmed == "" {
			section = ""
			continue
		}
		if pending == "" {
			start = n
		}
		if strings.HasSuffix(trimmed, `\`) {
			pending += strings.TrimSuffix(trimmed, `\`) + " "
			continue
		}
		full := pending + trimmed
		pending = ""
		args, comment, err := shellWords(full)
		if err != nil {
			return nil, fmt.Errorf("README.md:%d: %w", start, err)
		}
		reason := section
		if _, r, ok := strings.Cut(comment, notRunMarker); ok {
			reason = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(r), ")"))
			if len(args) == 0 {
				section = reason
				continue
			}
		}
		if len(args) > 0 {
			cmds = append(cmds, readmeCommand{line: start, args: args, notRun: reason})
		}
	}
	if inSh {
		return nil, errors.New("README.md: a ```sh block is not closed")
	}
	return cmds, sc.Err()
}

// shellWords splits a line as sh does for the README's simple commands:
// words separated by blanks, single and double quotes, and a comment from a
// "#" that starts a word.
func shellWords(s string) (words []string, comment string, err error) {
	var (
		w      strings.Builder
		inWord bool
		quote  rune
	)
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
		case r == '#' && !inWord:
			return words, s[i+1:], nil
		case strings.ContainsRune("|&;<>()$`*?", r):
			return nil, "", fmt.Errorf("shell syntax %q in %q: keep README commands to plain words", r, s)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, "", fmt.Errorf("unclosed quote in %q", s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, "", nil
}

func TestReadmeCommandsParse(t *testing.T) {
	text := "intro\n```sh\n" +
		"tickflow run --where \"fast<slow\" # a comment\n" +
		"go run ./cmd/tickflow backtest \\\n    --top 5\n" +
		"tickflow fetch # (not run: needs keys)\n" +
		"\n# (not run: a remote bus)\ntickflow ingest\ntickflow run\n\ntickflow signals\n```\n" +
		"```go\nx := 1 # not a command\n```\n"
	cmds, err := readmeCommands(text)
	require.NoError(t, err)
	want := []readmeCommand{
		{line: 3, args: []string{"tickflow", "run", "--where", "fast<slow"}},
		{line: 4, args: []string{"go", "run", "./cmd/tickflow", "backtest", "--top", "5"}},
		{line: 6, args: []string{"tickflow", "fetch"}, notRun: "needs keys"},
		{line: 9, args: []string{"tickflow", "ingest"}, notRun: "a remote bus"},
		{line: 10, args: []string{"tickflow", "run"}, notRun: "a remote bus"},
		{line: 12, args: []string{"tickflow", "signals"}},
	}
	assert.Equal(t, want, cmds)

	for _, bad := range []string{"```sh\ntickflow run | head\n```\n", "```sh\ntickflow run \"x\n```\n", "```sh\ntickflow run\n"} {
		_, err := readmeCommands(bad)
		assert.Error(t, err, bad)
	}
}

// TestReadmeCommands runs every command of README.md's ```sh blocks, in
// order, as a newcomer would on a fresh clone: the CLI built once, a temporary
// folder as the working directory (so the files the examples write land
// there), Alpaca's URLs and keys pointing at the fake alpacatest server
// through the environment the flags read. Each must exit 0. "go get",
// "go install" and "go test" lines are checked for shape only. "go run
// ./cmd/tickflow ARGS" runs the default build (the offline core) with ARGS,
// so a README example that needs an integration without saying so fails;
// "go run -tags full ./cmd/tickflow ARGS" and "tickflow ARGS" (installed
// with -tags full, as Set up says) run the full build.
func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs every README example; skipped with -short")
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	cmds, err := readmeCommands(string(readme))
	require.NoError(t, err)
	require.NotEmpty(t, cmds)

	dir := t.TempDir()
	lite, bin := filepath.Join(dir, "tickflow-default"), filepath.Join(dir, "tickflow")
	for _, b := range [][]string{{"-o", lite}, {"-tags", "full", "-o", bin}} {
		out, err := exec.Command("go", append(append([]string{"build"}, b...), ".")...).CombinedOutput()
		require.NoError(t, err, "go build %q: %s", b, out)
	}

	// The fake serves minute bars of the symbols the examples name, over the
	// README's dates, and its clock stands a day after them so that the live
	// stream's warm-up finds history.
	syms := []string{"AAPL", "MSFT"}
	bars := alpacaWalks(syms, 4*24*60)
	srv := alpacatest.NewServer(alpacatest.Options{Bars: bars, Now: func() time.Time { return alpT0.Add(4 * 24 * time.Hour) }})
	defer srv.Close()

	work, home := t.TempDir(), t.TempDir()
	env := []string{
		"HOME=" + home, "XDG_DATA_HOME=" + filepath.Join(home, "data"), "XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"PATH=" + os.Getenv("PATH"),
		"APCA_API_KEY_ID=" + alpacatest.Key, "APCA_API_SECRET_KEY=" + alpacatest.Secret,
		"APCA_API_DATA_URL=" + srv.DataURL, "APCA_API_BASE_URL=" + srv.TradingURL,
		"DATA_PROXY_WS=" + srv.StreamURL, "DATA_CRYPTO_PROXY_WS=" + srv.CryptoStreamURL,
		"TICKFLOW_STREAM_LISTEN=127.0.0.1:0", // the dashboard's port may be taken on a shared machine
	}
	ran := 0
	for _, c := range cmds {
		name := fmt.Sprintf("README.md:%d", c.line)
		args, exe := c.args, bin
		if args[0] == "go" {
			require.GreaterOrEqual(t, len(args), 2, "%s: %q", name, args)
			verb, full, rest := args[1], false, args[2:]
			if len(rest) >= 2 && rest[0] == "-tags" {
				require.Equal(t, "full", rest[1], "%s: the only build tag is full: %q", name, args)
				full, rest = true, rest[2:]
			}
			switch verb {
			case "get", "install":
				require.Len(t, rest, 1, "%s: %q", name, args)
				assert.True(t, strings.HasPrefix(rest[0], "github.com/tickflow/tickflow") && strings.HasSuffix(rest[0], "@latest"), "%s: %q", name, args)
				if verb == "install" {
					assert.True(t, full, "%s: the README's tickflow commands need the full build: %q", name, args)
				}
				continue
			case "test":
				continue
			case "run":
				require.True(t, len(rest) >= 1 && rest[0] == "./cmd/tickflow", "%s: go run of something else: %q", name, args)
				args = append([]string{"tickflow"}, rest[1:]...)
				if !full {
					exe = lite
				}
			default:
				t.Errorf("%s: go %s is neither get, install, run nor test", name, args[1])
				continue
			}
		}
		require.Equal(t, "tickflow", args[0], "%s: a command that is neither tickflow nor go: %q", name, c.args)
		if c.notRun != "" {
			t.Logf("%s: not run (%s): %s", name, c.notRun, strings.Join(c.args, " "))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, exe, args[1:]...)
		cmd.Dir, cmd.Env = work, env
		out, err := cmd.CombinedOutput()
		cancel()
		if !assert.NoError(t, err, "%s: %s\n%s", name, strings.Join(c.args, " "), outputTail(out, 10)) {
			continue
		}
		ran++
	}
	t.Logf("ran %d README commands", ran)
}

// outputTail is the end of a command's output, enough to see why it failed.
func outputTail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// FuzzShellWords: any line either is refused or splits into words that,
// each quoted again, split back the same.
func FuzzShellWords(f *testing.F) {
	for _, s := range []string{`tickflow run --where "fast<slow" # x`, `a 'b c' "d"`, `x # (not run: y)`, `"`, `a|b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, _, err := shellWords(s)
		if err != nil {
			return
		}
		var quoted []string
		for _, w := range words {
			if strings.ContainsRune(w, '\'') {
				quoted = append(quoted, `"`+w+`"`)
			} else {
				quoted = append(quoted, `'`+w+`'`)
			}
		}
		again, comment, err := shellWords(strings.Join(quoted, " "))
		if strings.ContainsRune(strings.Join(words, ""), '\'') && strings.ContainsRune(strings.Join(words, ""), '"') {
			return // a word with both quotes cannot be quoted whole by this minimal syntax
		}
		require.NoError(t, err)
		assert.Empty(t, comment)
		if len(words) == 0 {
			assert.Empty(t, again)
			return
		}
		assert.Equal(t, words, again)
	})
}
