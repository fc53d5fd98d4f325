package main

import (
	"fmt"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/envfile"
)

// lookup is where a command reads the environment contract: the process
// environment, with the variables of envFile (when given) taking precedence,
// as they would after `set -a; . FILE`.
func (c *cli) lookup(envFile string) (func(string) (string, bool), error) {
	if envFile == "" {
		return c.lookupEnv, nil
	}
	vars, err := envfile.Read(envFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read the env file: %w", err)
	}
	return overlay(vars, c.lookupEnv), nil
}

// options resolves the environment contract for commands that connect. The
// library's own log records stay out of their output.
func (c *cli) options(envFile string) (redsafe.Options, error) {
	lookup, err := c.lookup(envFile)
	if err != nil {
		return redsafe.Options{}, err
	}
	opts := redsafe.OptionsFromLookup(lookup)
	opts.Logger = quietLogger()
	return opts, nil
}

// overlay looks variables up in vars first, then in next.
func overlay(vars map[string]string, next func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		if v, ok := vars[name]; ok {
			return v, true
		}
		return next(name)
	}
}
