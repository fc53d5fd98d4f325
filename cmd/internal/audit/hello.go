package audit

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// helloChannel is where Sentinels announce themselves and the master they
// believe in. Its messages are not authenticated: a hello with a higher
// configuration epoch moves every Sentinel that hears it to the master it
// names, so whoever may PUBLISH there can send the deployment's clients,
// and their passwords, to a server of their choice.
const helloChannel = "__sentinel__:hello"

// maxHelloUsers bounds the users checkHelloChannel asks ACL DRYRUN about,
// one round trip each.
const maxHelloUsers = 500

// checkHelloChannel: sentinel.hello-publish, on every node of a Sentinel
// deployment. The rule: on a data node only the user the Sentinels log in
// as (sentinel auth-user) may publish to the hello channel, on a Sentinel
// only the user the Sentinels log into each other as (sentinel-user).
// Those users are the ones the Sentinels' own connections to the node are
// logged in as (sentinelLinkUsers); every other user that is on and that
// ACL DRYRUN allows PUBLISH __sentinel__:hello is reported. A user that
// may already move the master another way (REPLICAOF on a data node,
// SENTINEL FAILOVER on a Sentinel) gains nothing from the channel and is
// a notice; any other is an error.
func checkHelloChannel(r *run) {
	const id = "sentinel.hello-publish"
	if r.deployment == nil {
		return
	}
	users := r.aclUsers()
	if users == nil {
		r.cannotSee(id, "who may publish to "+helloChannel+" is read with ACL LIST and ACL DRYRUN")
		return
	}
	own, forged, err := r.sentinelLinkUsers()
	if err != nil {
		r.cannotSee(id, "the Sentinels' own user is the one their connections show in "+err.Error())
		return
	}
	reportForgedLinks(r, id, forged)
	other := []string{"REPLICAOF", "NO", "ONE"}
	if r.sentinel {
		other = []string{"SENTINEL", "FAILOVER", r.deployment.sn.MasterSet}
	}
	names := make([]string, 0, len(users))
	for name := range users {
		names = append(names, name)
	}
	slices.Sort(names)
	var forgers, admins []string
	for i, name := range names {
		if i == maxHelloUsers {
			r.cannotSee(id, fmt.Sprintf("only the first %d of %d users were asked about", maxHelloUsers, len(names)))
			break
		}
		if own[name] || slices.Contains(strings.Fields(users[name]), "off") {
			continue
		}
		v, _, reply, err := r.dryRunAs(name, []string{"PUBLISH", helloChannel, "redsafe-audit"})
		if v == Unknown {
			r.cannotSee(id, "ACL DRYRUN: "+why(reply, err))
			return
		}
		if v == Denied {
			continue
		}
		if moves, _, _, _ := r.dryRunAs(name, other); moves == Allowed {
			admins = append(admins, name)
		} else {
			forgers = append(forgers, name)
		}
	}
	ownUsers := "none of the audited Sentinels' connections was seen here"
	if len(own) > 0 {
		var l []string
		for u := range own {
			l = append(l, u)
		}
		slices.Sort(l)
		ownUsers = "the Sentinels' own connections here are logged in as " + strings.Join(l, ", ")
	}
	fix := "take the channel from these users: give each the channels it needs (`resetchannels &app:*`) instead of `allchannels` or `&*`; only the Sentinels' user needs &" + helloChannel + " (sentinel auth-user on the data nodes, sentinel-user on the Sentinels)"
	if len(forgers) > 0 {
		r.add(id, sevError, "users other than the Sentinels' may forge the Sentinels' view of the master",
			fmt.Sprintf("%s may PUBLISH to %s (ACL DRYRUN) and %s: a forged hello message with a higher epoch makes the Sentinels announce a master of its sender's choice, and clients send it their passwords and data",
				strings.Join(forgers, ", "), helloChannel, ownUsers), fix)
	}
	if len(admins) > 0 {
		r.add(id, sevNotice, "administrators may publish to the Sentinels' hello channel",
			fmt.Sprintf("%s may PUBLISH to %s (ACL DRYRUN) and %s; they may also run %s, so the channel gives them no power they lack", strings.Join(admins, ", "), helloChannel, ownUsers, strings.Join(other, " ")), fix)
	}
}

// reportForgedLinks reports the Sentinel run ids whose links on r's node
// are logged in as more than one user: a client named its connection like
// that Sentinel's (CLIENT SETNAME sentinel-<id>-cmd), which would pass it
// off as the Sentinels' own user, the one user allowed the hello channel.
func reportForgedLinks(r *run, id string, forged map[string][]string) {
	if len(forged) == 0 {
		return
	}
	ids := slices.Sorted(maps.Keys(forged))
	var seen []string
	for _, runID := range ids {
		seen = append(seen, fmt.Sprintf("sentinel-%s-cmd/-pubsub as %s", runID[:8], strings.Join(forged[runID], " and ")))
	}
	r.add(id, sevError, "a connection impersonates a Sentinel's link",
		fmt.Sprintf("connections named like a Sentinel's links are logged in as more than one user (%s): a Sentinel logs in as one user, so another client named its connection like the Sentinel's; none of these users is taken for the Sentinels' own, and each that may publish to %s is reported", strings.Join(seen, "; "), helloChannel),
		"find the impostor in CLIENT LIST (its addr= and user=), close it (CLIENT KILL ID) and take CLIENT SETNAME and the hello channel from that user; the Sentinels' own user is the one their sentinel.conf names (sentinel auth-user on the data nodes, sentinel-user on the Sentinels)")
}
