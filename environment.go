package redsafe

import (
	"fmt"
	"slices"
	"strings"
)

// Environment names a deployment environment. Each has its own security
// policy; see PolicyFor.
type Environment string

const (
	Production  Environment = "production"
	Staging     Environment = "staging"
	Development Environment = "development"
	Testing     Environment = "testing"
)

// EnvironmentVariables returns the variables consulted, in this order, to
// detect the environment: the first one that is set decides. It returns a
// new slice each time: which variables select the policy is fixed, and an
// importer must not be able to change it.
func EnvironmentVariables() []string { return slices.Clone(environmentVariables) }

var environmentVariables = []string{"ENVIRONMENT", "APP_ENV", "GO_ENV", "NODE_ENV", "ENV"}

var environmentAliases = map[string]Environment{
	"prod": Production, "production": Production, "live": Production,
	"stage": Staging, "staging": Staging, "stg": Staging,
	"dev": Development, "development": Development, "local": Development,
	"test": Testing, "testing": Testing,
}

// ParseEnvironment accepts the usual spellings: prod/production/live,
// stage/staging, dev/development/local and test/testing, in any case.
func ParseEnvironment(s string) (Environment, error) {
	if env, ok := environmentAliases[strings.ToLower(strings.TrimSpace(s))]; ok {
		return env, nil
	}
	return "", fmt.Errorf("unknown environment %q: use production, staging, development or testing", s)
}

// detection records how the environment was decided, for the report.
type detection struct {
	env    Environment
	source string // "option", a variable name, or "default"
	// bad: a value was set that is not an environment. The value is not
	// kept: it may be a secret set in the wrong variable.
	bad bool
}

// detectEnvironment fails closed: a missing or unrecognised value means
// production, the strictest policy, because a service that cannot tell where
// it runs must not assume it is somewhere safe.
func detectEnvironment(lookup func(string) (string, bool)) detection {
	for _, name := range environmentVariables {
		value, ok := lookup(name)
		if !ok || strings.TrimSpace(value) == "" {
			continue
		}
		env, err := ParseEnvironment(value)
		if err != nil {
			return detection{env: Production, source: name, bad: true}
		}
		return detection{env: env, source: name}
	}
	return detection{env: Production, source: "default"}
}
