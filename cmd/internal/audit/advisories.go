package audit

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"github.com/redsafe/redsafe"
	"slices"
	"strconv"
	"strings"
)

//go:embed advisories.json
var advisoriesJSON []byte

// advisory is one published vulnerability, as kept in advisories.json.
type advisory struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Introduced string   `json:"introduced"`
	Fixed      []string `json:"fixed"`
	Reach      string   `json:"reach"` // lua, hyperloglog or unauthenticated
	Sources    []string `json:"sources"`
}

// reachCommands are the commands through which an advisory is exploited;
// an ACL that denies all of them is the published mitigation.
var reachCommands = map[string][]string{
	"lua":         {"EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "FUNCTION"},
	"hyperloglog": {"PFADD", "PFCOUNT", "PFMERGE"},
}

// loadAdvisories parses the embedded table. A broken table is a build
// defect, caught by the tests.
func loadAdvisories() ([]advisory, error) {
	var doc struct {
		Advisories []advisory `json:"advisories"`
	}
	if err := json.Unmarshal(advisoriesJSON, &doc); err != nil {
		return nil, fmt.Errorf("advisories.json: %w", err)
	}
	for _, a := range doc.Advisories {
		if _, ok := parseVersion(a.Introduced); !ok || len(a.Fixed) == 0 || len(a.Sources) == 0 {
			return nil, fmt.Errorf("advisories.json: %s needs introduced, fixed and sources", a.ID)
		}
		for _, f := range a.Fixed {
			if _, ok := parseVersion(f); !ok {
				return nil, fmt.Errorf("advisories.json: %s: bad fixed version %q", a.ID, f)
			}
		}
		if _, ok := reachCommands[a.Reach]; !ok && a.Reach != "unauthenticated" {
			return nil, fmt.Errorf("advisories.json: %s: unknown reach %q", a.ID, a.Reach)
		}
	}
	return doc.Advisories, nil
}

// version is a release number, major.minor.patch.
type version [3]int

func parseVersion(s string) (version, bool) {
	var v version
	parts := strings.Split(strings.TrimSpace(s), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return v, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return v, false
		}
		v[i] = n
	}
	return v, true
}

func (v version) compare(w version) int { return slices.Compare(v[:], w[:]) }
func (v version) line() version         { return version{v[0], v[1], 0} }
func (v version) String() string        { return fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2]) }

// affects reports whether v is affected and, if so, the first fixed
// release to upgrade to: the fix in v's own release line, or else the first
// fixed release of a newer line (v's line never received one). A line newer
// than every fixed line was released with the fix.
func (a advisory) affects(v version) (bool, version) {
	if intro, _ := parseVersion(a.Introduced); v.compare(intro) < 0 {
		return false, version{}
	}
	var fixed []version
	for _, f := range a.Fixed {
		fv, _ := parseVersion(f)
		fixed = append(fixed, fv)
	}
	slices.SortFunc(fixed, version.compare)
	for _, f := range fixed {
		if f.line() == v.line() {
			return v.compare(f) < 0, f
		}
	}
	for _, f := range fixed {
		if v.line().compare(f.line()) < 0 {
			return true, f
		}
	}
	return false, version{}
}

// checkVersion: server.version.
func checkVersion(r *run) {
	raw, ok := r.serverVersion()
	if ok && r.target.version != "" {
		raw = r.target.version
	}
	if !ok {
		r.cannotSee("server.version", "the version is read with HELLO or INFO: "+r.noSessionOr("not visible to this user"))
		return
	}
	v, ok := parseVersion(raw)
	if !ok {
		r.cannotSee("server.version", fmt.Sprintf("version %q is not major.minor.patch", raw))
		return
	}
	advisories, err := loadAdvisories()
	if err != nil {
		r.cannotSee("server.version", err.Error())
		return
	}
	var lines []string
	var upgrade version
	worst := sevNotice
	reaches := map[string]string{} // reach -> what the user may do about it
	for _, a := range advisories {
		hit, fix := a.affects(v)
		if !hit {
			continue
		}
		sev, reach := r.advisorySeverity(a)
		if sev.AtLeast(worst) {
			worst = sev
		}
		if fix.compare(upgrade) > 0 {
			upgrade = fix
		}
		reaches[a.Reach] = reach
		lines = append(lines, fmt.Sprintf("%s %s (fixed in %s; %s)", a.ID, a.Title, fix, a.Sources[0]))
	}
	if len(lines) == 0 {
		return
	}
	var reach []string
	for _, k := range []string{"lua", "hyperloglog", "unauthenticated"} {
		if reaches[k] != "" {
			reach = append(reach, reaches[k])
		}
	}
	r.add("server.version", worst, fmt.Sprintf("Redis %s is affected by %d published security advisories", v, len(lines)),
		strings.Join(lines, "; ")+". Reach: "+strings.Join(reach, "; "),
		fmt.Sprintf("upgrade to Redis %s or later in a supported line; until then deny Lua (-@scripting, and FUNCTION) and HyperLogLog commands (-@hyperloglog) to every user that does not need them", upgrade))
}

// advisorySeverity is error when the audited user can reach the flaw,
// warning when its ACL blocks the commands that reach it (the published
// mitigation), error again when that cannot be told.
func (r *run) advisorySeverity(a advisory) (redsafe.Severity, string) {
	cmds, ok := reachCommands[a.Reach]
	if !ok {
		return sevWarning, "the unauthenticated flaws need only a connection: limit who can connect (bind, firewall, mutual TLS)"
	}
	var may, unknownCmds []string
	for _, c := range cmds {
		switch r.may(c) {
		case Allowed:
			may = append(may, c)
		case Unknown:
			unknownCmds = append(unknownCmds, c)
		}
	}
	user := r.ep.shown()
	switch {
	case len(may) > 0:
		return sevError, fmt.Sprintf("%s may run %s, which reach the %s flaws", user, strings.Join(may, ", "), a.Reach)
	case len(unknownCmds) > 0:
		return sevError, fmt.Sprintf("could not tell whether %s may run %s, which reach the %s flaws", user, strings.Join(unknownCmds, ", "), a.Reach)
	}
	return sevWarning, fmt.Sprintf("%s may not run %s: the %s flaws are mitigated for this user (other users may still reach them)", user, strings.Join(cmds, ", "), a.Reach)
}

// serverVersion asks HELLO (allowed to every user) and falls back to INFO.
func (r *run) serverVersion() (string, bool) {
	if v, err := r.do("HELLO", "2"); err == nil && !v.IsError() {
		if s := pairs(v)["version"].Str; s != "" {
			return s, true
		}
	}
	return r.infoField("redis_version")
}

func (r *run) noSessionOr(def string) string {
	if r.sess == nil && r.noSession != "" {
		return r.noSession
	}
	return def
}
