package audit

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
)

// checkKeyNamesVisible: acl.key-names-visible. A user confined to a key
// pattern (`~orders:*`) reads and writes only matching keys, but Redis does
// not filter SCAN or KEYS by key pattern: they list the name of every key
// in the database. Key names often carry session ids, e-mail addresses or
// tenant names, and an operator who confined the user may believe they are
// hidden.
func checkKeyNamesVisible(r *run) {
	const id = "acl.key-names-visible"
	if r.sess == nil {
		r.cannotSee(id, r.noSession)
		return
	}
	confined, known := r.keyPatternConfined()
	if !known {
		r.cannotSee(id, "whether the user is confined to a key pattern could not be told (neither ACL DRYRUN nor MULTI answered a GET)")
		return
	}
	if !confined {
		return
	}
	var lists, cannotTell []string
	for _, cmd := range []string{"SCAN", "KEYS"} {
		switch r.may(cmd) {
		case Allowed:
			lists = append(lists, cmd)
		case Unknown:
			cannotTell = append(cannotTell, cmd)
		}
	}
	if len(cannotTell) > 0 {
		r.cannotSee(id, "could not tell whether "+r.ep.shown()+" may run "+strings.Join(cannotTell, ", "))
	}
	if len(lists) == 0 {
		return
	}
	user := r.ep.shown()
	sev := sevNotice
	evidence := fmt.Sprintf("%s is confined to a key pattern (a GET of a key outside it is refused for its key), yet it may run %s, which Redis does not filter by key pattern: they list the name, never the value, of every key in the database",
		user, strings.Join(lists, " and "))
	if r.namesOutside > 0 {
		sev = sevWarning
		evidence += fmt.Sprintf("; here SCAN listed %d key names outside its pattern", r.namesOutside)
	}
	r.add(id, sev, fmt.Sprintf("%s is confined to a key pattern, but may list every key name", user), evidence,
		"when key names are sensitive (session ids, e-mail addresses, tenants), give each service its own Redis server (a database number does not separate ACL users) or keep names opaque (digests instead of identifiers); "+
			"denying SCAN (-scan) hides them too, but `redsafe rotate-key` and `migrate` need it, and CLIENT TRACKING in BCAST mode without a PREFIX also reports invalidated names")
}

// keyPatternConfined asks whether the audited user may touch a key name
// that no deployment uses. Refused for its key (not for the command), the
// user is confined to a key pattern. Like may, it never runs the GET: ACL
// DRYRUN evaluates it, or it is queued inside MULTI and discarded.
func (r *run) keyPatternConfined() (confined, known bool) {
	nonce := make([]byte, 8)
	rand.Read(nonce)
	get := []string{"GET", "redsafe-audit-probe:" + hex.EncodeToString(nonce)}
	if !r.dryRunRefused {
		v, err := r.do(append([]string{"ACL", "DRYRUN", r.ep.user()}, get...)...)
		switch {
		case err != nil:
			return false, false
		case v.Type == '+' && v.Str == "OK":
			return false, true
		case v.Type == '$' && strings.Contains(v.Str, "permissions to access"):
			return true, true
		case v.Type == '$':
			return false, false // GET itself is refused: nothing to tell
		}
	}
	v, err, ok := r.queued(get)
	switch {
	case !ok || err != nil:
		return false, false
	case v.Type == '+' && v.Str == "QUEUED":
		return false, true
	case strings.HasPrefix(v.Str, "NOPERM") && strings.Contains(v.Str, "keys"):
		return true, true
	}
	return false, false
}
