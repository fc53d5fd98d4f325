package audit

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redsafe/redsafe/internal/resp"
)

// Verdict is whether a user may run a command. verify's acl.* checks ask
// it the same way (WouldRun), so that there is one probe for it.
type Verdict int

const (
	Unknown Verdict = iota
	Allowed
	Denied
)

// probes are the commands asked about, with arguments of the right arity.
// They are never executed: ACL DRYRUN only evaluates the ACL, and the
// fallback queues them inside MULTI and discards the transaction.
var probes = map[string][]string{
	"FLUSHALL": {"FLUSHALL"},
	"FLUSHDB":  {"FLUSHDB"},
	"CONFIG":   {"CONFIG", "SET", "dir", "/tmp"},
	"DEBUG":    {"DEBUG", "OBJECT", "redsafe:audit"},
	"MODULE":   {"MODULE", "LOAD", "/nonexistent/redsafe-audit.so"},
	"KEYS":     {"KEYS", "*"},
	"SCAN":     {"SCAN", "0", "COUNT", "1"},
	"SHUTDOWN": {"SHUTDOWN"},
	"MIGRATE":  {"MIGRATE", "127.0.0.1", "1", "redsafe:audit", "0", "1"},
	"SCRIPT":   {"SCRIPT", "FLUSH"},
	"EVAL":     {"EVAL", "return 0", "0"},
	// Lua and HyperLogLog: the reach of server.version's advisories.
	"EVALSHA":    {"EVALSHA", strings.Repeat("0", 40), "0"},
	"EVAL_RO":    {"EVAL_RO", "return 0", "0"},
	"EVALSHA_RO": {"EVALSHA_RO", strings.Repeat("0", 40), "0"},
	"FCALL":      {"FCALL", "redsafe_audit", "0"},
	"FCALL_RO":   {"FCALL_RO", "redsafe_audit", "0"},
	"FUNCTION":   {"FUNCTION", "LOAD", "#!lua name=redsafe_audit\n"},
	"PFADD":      {"PFADD", "redsafe:audit", "x"},
	"PFCOUNT":    {"PFCOUNT", "redsafe:audit"},
	"PFMERGE":    {"PFMERGE", "redsafe:audit", "redsafe:audit"},
}

// dangerous are the commands acl.dangerous-commands asks about; the first
// seven can destroy data or take over the server.
var dangerous = []string{"FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "MODULE", "SHUTDOWN", "MIGRATE", "KEYS", "SCRIPT", "EVAL"}

const destructive = 7

// may reports whether the audited user may run cmd (a key of probes).
func (r *run) may(cmd string) Verdict {
	if v, ok := r.canRun[cmd]; ok {
		return v
	}
	v := r.dryRun(probes[cmd])
	if v == Unknown && !r.dryRunWorks {
		v = r.queueInMulti(probes[cmd])
	}
	r.canRun[cmd] = v
	return v
}

// dryRun asks ACL DRYRUN about the audited user, which needs ACL rights
// and Redis 7.
func (r *run) dryRun(args []string) Verdict {
	if r.dryRunRefused {
		return Unknown
	}
	v, byACL, reply, err := r.dryRunAs(r.ep.user(), args)
	switch {
	case err != nil:
	case byACL:
		r.dryRunWorks = true
	case v == Unknown:
		r.dryRunRefused = true // NOPERM, no session, or a server without DRYRUN
		r.dryRunWhy = why(reply, err)
	}
	return v
}

// dryRunAs asks ACL DRYRUN whether user may run args. byACL is set when
// the ACL decided; a command the server does not have is Denied without
// it, and Unknown means DRYRUN gave no verdict.
func (r *run) dryRunAs(user string, args []string) (v Verdict, byACL bool, reply resp.Value, err error) {
	reply, err = r.do(append([]string{"ACL", "DRYRUN", user}, args...)...)
	switch {
	case err != nil:
	case reply.Type == '+' && reply.Str == "OK":
		return Allowed, true, reply, nil
	case reply.Type == '$' && strings.Contains(reply.Str, "no permissions"):
		return Denied, true, reply, nil
	case reply.IsError() && strings.Contains(reply.Str, "not found") && strings.Contains(reply.Str, "Command"):
		return Denied, false, reply, nil // the server has no such command: nobody can run it
	}
	return Unknown, false, reply, err
}

// queueInMulti asks the server by queueing the command in a transaction
// (see WouldRun), on the audit's session.
func (r *run) queueInMulti(args []string) Verdict {
	v, err, ok := r.queued(args)
	if !ok || err != nil {
		return Unknown
	}
	return queuedVerdict(v)
}

// queued runs inMulti on the session. ok is false when no transaction
// could be opened, or DISCARD failed (the session is then closed).
func (r *run) queued(args []string) (v resp.Value, err error, ok bool) {
	if r.sess == nil {
		return v, nil, false
	}
	v, err, opened, discarded := inMulti(r.do, args)
	if opened && !discarded && r.sess != nil {
		// Never keep using a connection with a transaction open.
		r.sess.Close()
		r.sess, r.noSession = nil, "DISCARD failed, the connection was closed"
	}
	return v, err, discarded
}

// WouldRun reports whether the user logged in on c may run args, without
// running it: ACLs are checked when a command is queued, so it is sent
// inside MULTI and the transaction is discarded. The command is only sent
// after MULTI was acknowledged. reply is the server's answer to the queued
// command, for messages. err is set when the transaction could not be
// opened or discarded (c must then be closed); the verdict is then Unknown.
func WouldRun(c *resp.Conn, args ...string) (v Verdict, reply resp.Value, err error) {
	reply, err, opened, discarded := inMulti(c.DoValue, args)
	switch {
	case err != nil:
		return Unknown, reply, err
	case !opened:
		return Unknown, reply, errors.New("MULTI was refused")
	case !discarded:
		return Unknown, reply, errors.New("DISCARD was refused")
	}
	return queuedVerdict(reply), reply, nil
}

// queuedVerdict reads the reply to a command queued inside MULTI.
func queuedVerdict(v resp.Value) Verdict {
	switch {
	case v.Type == '+' && v.Str == "QUEUED":
		return Allowed
	case strings.HasPrefix(v.Str, "NOPERM"), strings.HasPrefix(v.Str, "ERR unknown command"):
		return Denied
	case strings.Contains(v.Str, "command not allowed") && strings.Contains(v.Str, "enable-"):
		// enable-debug-command / enable-module-command refuse it to this
		// connection whatever the ACL says.
		return Denied
	}
	return Unknown
}

// inMulti sends args inside MULTI through do and discards the
// transaction, and returns the reply to the queued command. opened is
// false when MULTI was refused, discarded false when DISCARD failed too:
// the connection must then not be used again.
func inMulti(do func(...string) (resp.Value, error), args []string) (v resp.Value, err error, opened, discarded bool) {
	if m, err := do("MULTI"); err != nil || m.Type != '+' {
		return resp.Value{}, err, false, false
	}
	v, err = do(args...)
	if d, derr := do("DISCARD"); derr != nil || d.Type != '+' {
		return v, err, true, false
	}
	return v, err, true, true
}

// checkDangerousCommands reports the dangerous commands the user may run.
func checkDangerousCommands(r *run) {
	var may, cannotTell []string
	worst := sevWarning
	for i, cmd := range dangerous {
		switch r.may(cmd) {
		case Allowed:
			may = append(may, cmd)
			if i < destructive {
				worst = sevError
			}
		case Unknown:
			cannotTell = append(cannotTell, cmd)
		}
	}
	how := "ACL DRYRUN"
	if !r.dryRunWorks {
		how = "queued inside MULTI and discarded, never run"
	}
	if len(may) > 0 {
		r.add("acl.dangerous-commands", worst, fmt.Sprintf("%s may run dangerous commands", r.ep.shown()),
			fmt.Sprintf("%s may run %s (%s)", r.ep.shown(), strings.Join(may, ", "), how),
			fmt.Sprintf("if %s is a service's user, deny what it does not need, e.g. `-@dangerous -@scripting -flushall -flushdb -keys -config` in its ACL rules (`redsafe conf` writes a confined app user); keep those commands for an admin user used only by operators", r.ep.shown()))
	}
	if len(cannotTell) > 0 {
		reason := "neither ACL DRYRUN nor MULTI could tell"
		if r.dryRunWhy != "" {
			reason += " (ACL DRYRUN: " + r.dryRunWhy + ")"
		}
		if slices.Contains(cannotTell, "SHUTDOWN") && len(cannotTell) == 1 {
			reason = "SHUTDOWN cannot be queued in MULTI and ACL DRYRUN is not available (" + r.dryRunWhy + ")"
		}
		r.cannotSee("acl.dangerous-commands", strings.Join(cannotTell, ", ")+": "+reason)
	}
}
