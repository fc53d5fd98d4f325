package sentinelinfo

import (
	"slices"
	"strings"
)

// LinkUsers reads CLIENT LIST output for the connections that the
// Sentinels with the given run ids opened to the server: a Sentinel names
// them sentinel-<the first 8 characters of its run id>-cmd and -pubsub.
// It returns, for each run id with such a connection, the users they are
// logged in as, sorted and each once. That is the only place Redis 7.0
// shows the user a Sentinel logs in as (SENTINEL MASTER and SENTINEL
// CONFIG GET leave auth-user out). Anyone may name a connection so: more
// than one user for a run id means someone did.
func LinkUsers(clientList string, runIDs []string) map[string][]string {
	byPrefix := map[string][]string{} // run id prefix -> run ids
	for _, id := range runIDs {
		if id, ok := RunID(id); ok && !slices.Contains(byPrefix[id[:8]], id) {
			byPrefix[id[:8]] = append(byPrefix[id[:8]], id)
		}
	}
	users := map[string][]string{}
	for line := range strings.SplitSeq(clientList, "\n") {
		f := clientFields(line)
		rest, ok := strings.CutPrefix(f["name"], "sentinel-")
		prefix, kind, _ := strings.Cut(rest, "-")
		u := f["user"]
		if !ok || kind != "cmd" && kind != "pubsub" || u == "" {
			continue
		}
		for _, id := range byPrefix[prefix] {
			if !slices.Contains(users[id], u) {
				users[id] = append(users[id], u)
				slices.Sort(users[id])
			}
		}
	}
	return users
}

// clientFields reads one line of CLIENT LIST: name=value fields, split at
// spaces (a client name holds none).
func clientFields(line string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}

// OwnUsers splits what LinkUsers found: own are the users of the run ids
// whose links are all logged in as one user, the Sentinels' own; forged
// are the run ids whose links show more than one user (a connection named
// like that Sentinel's link by someone else), with those users, none of
// which is trusted through that id. A user is still own when another run
// id's links vouch for it alone.
func OwnUsers(byID map[string][]string) (own map[string]bool, forged map[string][]string) {
	own, forged = map[string]bool{}, map[string][]string{}
	for id, users := range byID {
		if len(users) == 1 {
			own[users[0]] = true
		} else if len(users) > 1 {
			forged[id] = users
		}
	}
	return own, forged
}
