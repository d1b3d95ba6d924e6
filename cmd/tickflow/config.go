package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/tickflow/tickflow/config"
)

func configCommand() *cli.Command {
	return &cli.Command{
		Name:  "config",
		Usage: "print the effective configuration of tickflow stream as YAML",
		Description: `Settings come from the defaults, then the YAML file of --config (or $TICKFLOW_CONFIG),
then TICKFLOW_* environment variables, then flags: each overrides the one before. The output
says where each value came from, and can be saved as a config file. Secrets (the webhook URL's
credentials and path) are redacted.`,
		Flags:  configFlags(),
		Action: configAction,
	}
}

// configFlags are --config and one flag per setting of the config package.
func configFlags() []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "config", EnvVars: []string{"TICKFLOW_CONFIG"}, Usage: "read settings from the YAML `FILE`"},
	}
	def := config.Default()
	for _, f := range config.Fields() {
		flags = append(flags, &cli.StringFlag{
			Name:        f.Flag,
			Usage:       fmt.Sprintf("%s (%s, $%s)", f.Usage, f.Key, f.Env),
			DefaultText: f.Value(def),
		})
	}
	return flags
}

// loadConfig layers the file, the environment and the flags the user set.
func loadConfig(c *cli.Context) (*config.Config, error) {
	set := map[string]string{}
	for _, f := range config.Fields() {
		if c.IsSet(f.Flag) && !(f.Flag == "symbols" && c.String("source") == "alpaca") { // then a list (alpaca.go)
			set[f.Flag] = c.String(f.Flag)
		}
	}
	cfg, err := config.Load(config.Sources{File: c.String("config"), Env: os.LookupEnv, Flags: set})
	if err != nil {
		return nil, usageError("%v", err)
	}
	return cfg, nil
}

func configAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return usageError("config takes no arguments, got %q", c.Args().First())
	}
	cfg, err := loadConfig(c)
	if err != nil {
		return err
	}
	_, err = c.App.Writer.Write(cfg.YAML())
	return err
}
