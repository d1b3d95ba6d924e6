package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/config"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "print the effective configuration as YAML, or write a commented template with --init",
		Description: `Every command reads its settings from the same four layers, each overriding the one
before: the defaults, then the YAML file of --config (or $TICKFLOW_CONFIG), then TICKFLOW_*
environment variables, then flags. The whole file and environment are validated by every
command, whichever settings it uses. This prints the result, saying where each value came from;
the output can be saved as a config file. Secrets (the webhook URL's credentials and path) are
redacted.

  tickflow config --init tickflow.yaml     # every setting, its default, meaning and bounds
  tickflow run --config tickflow.yaml`,
		Flags: append(configFlags(""),
			&cli.StringFlag{Name: "init", Usage: "write a commented template of every setting at its default to `FILE` (never overwritten), then exit"}),
		Action: configAction,
	}
}

// configFlags are --config and one flag per setting of the config package
// whose key starts with one of prefixes ("" for all): each command declares
// the settings it uses. The flags are strings: the config package parses
// and validates them, as it does the file and the environment.
func configFlags(prefixes ...string) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", EnvVars: []string{"TICKFLOW_CONFIG"}, Usage: "read settings from the YAML `FILE` (see tickflow config --init)"},
	}
	def := config.Default()
	for _, f := range config.Fields() {
		if !hasPrefix(f.Key, prefixes) {
			continue
		}
		usage := fmt.Sprintf("%s (%s, $%s)", f.Usage, f.Key, f.Env)
		if r := f.Range(); r != "" {
			usage = fmt.Sprintf("%s: %s (%s, $%s)", f.Usage, r, f.Key, f.Env)
		}
		flags = append(flags, &cli.StringFlag{
			Name: f.Flag, Aliases: f.Aliases, Usage: usage, DefaultText: f.Value(def),
		})
	}
	return flags
}

func hasPrefix(key string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// loadConfig layers the file, the environment and the flags the user set.
// An error is a usage error (exit 2).
func loadConfig(c *cli.Context) (*config.Config, error) {
	set := map[string]string{}
	for _, fl := range c.Command.Flags {
		// A setting's flag is a string flag made by configFlags, whose usage
		// names the setting's variable; a command's own flag of the same
		// name (run's --synthetic-symbols, an int; backtest's --strategy, a
		// string) is not.
		sf, ok := fl.(*cli.StringFlag)
		if !ok {
			continue
		}
		if f, isSetting := config.Lookup(settingKey(sf.Name)); isSetting && strings.Contains(sf.Usage, "$"+f.Env) && c.IsSet(sf.Name) {
			set[sf.Name] = c.String(sf.Name)
		}
	}
	if err := checkEnv(os.Environ()); err != nil {
		return nil, err
	}
	cfg, err := config.Load(config.Sources{File: c.String("config"), Env: os.LookupEnv, Flags: set})
	if err != nil {
		return nil, usageError("%v", err)
	}
	return cfg, nil
}

// commandEnv are the TICKFLOW_* variables of flags that are not settings.
var commandEnv = []string{"TICKFLOW_CONFIG", "TICKFLOW_DB", "TICKFLOW_JOURNAL"}

// checkEnv refuses a TICKFLOW_* variable that names nothing, as the config
// file refuses an unknown key: a misspelt setting must not be silently
// ignored. TICKFLOW_TEST_* and TICKFLOW_BENCH_* belong to the tests and
// benchmarks.
func checkEnv(environ []string) error {
	known := map[string]bool{}
	for _, name := range commandEnv {
		known[name] = true
	}
	for _, f := range config.Fields() {
		known[f.Env] = true
	}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "TICKFLOW_") || strings.HasPrefix(name, "TICKFLOW_TEST_") || strings.HasPrefix(name, "TICKFLOW_BENCH_") || known[name] {
			continue
		}
		if _, renamed := config.Renamed(name); renamed {
			continue // config.Load names its replacement
		}
		return usageError("config: environment variable %s is not a setting (tickflow config --init lists them all)", name)
	}
	return nil
}

// settingKey is the key of the setting whose flag is name, or "".
func settingKey(name string) string {
	for _, f := range config.Fields() {
		if f.Flag == name {
			return f.Key
		}
	}
	return ""
}

func configAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("config takes no arguments, got %q", c.Args().First())
	}
	if path := c.String("init"); path != "" {
		return writeTemplate(c, path)
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(cfg.YAML())
	return err
}

// writeTemplate writes config.Template to path, which must not exist.
func writeTemplate(c *cli.Context, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return usageError("config --init: %s exists; not overwriting it (remove it, or choose another name)", path)
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("config --init: %v", err), exitFailure)
	}
	_, err = f.Write(config.Template())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cli.Exit(fmt.Sprintf("config --init: %v", err), exitFailure)
	}
	fmt.Fprintf(c.App.ErrWriter, "tickflow: wrote %s: every setting at its default; use it with --config %s\n", path, path)
	return nil
}
