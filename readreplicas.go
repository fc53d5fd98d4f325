package redsafe

import "github.com/redis/rueidis"

// Reads from replicas (Options.ReadFromReplicas): rueidis sends a command
// to a replica when SendToReplicas says so, and redsafe says so for the
// read-only ones, so that every write, SetWait's WAIT included, stays on
// the master.
//
// Through Sentinels, rueidis v1.0.79 keeps one connection to the master
// and one to a replica. It follows a failover the Sentinels announce
// (+switch-master) as without this setting: with the master killed and a
// replica promoted, writes resumed as fast, and reads went on to the
// promoted node (tried once with one replica and once with two). But, from reading its
// code, the periodic re-check that covers a missed announcement, and
// Open, also need a replica the Sentinels list as up, and fail without
// one: with no replica left, only the announcement moves the client.
// Give the master set at least two replicas when reading from them.
//
// With Options.LocalCache the replica's connection tracks the reads, and
// the replica invalidates them when replication applies a write, so the
// local copy follows the replica, as late as the replica is
// (TestSentinelReadFromReplicas).

// checkReadFromReplicas warns when the setting can do nothing.
func (s *config) checkReadFromReplicas(o Options, r *Report) {
	s.readFromReplicas = o.ReadFromReplicas
	if !o.ReadFromReplicas || s.url.Host == "" || s.url.MasterSet != "" || len(s.url.Addrs) > 0 {
		return
	}
	r.add("replicas.single-server", SeverityWarning, "unset "+EnvReadFromReplicas+", or name the Sentinels with ?master_set=NAME&addr=... in "+EnvURL,
		"%s is set, but %s names one server and no Sentinels: every read goes to that server (unless it is a Redis Cluster node, whose replicas then serve reads)", EnvReadFromReplicas, EnvURL)
}

// replicaOption makes rueidis send read-only commands to replicas.
func (s *config) replicaOption(opt *rueidis.ClientOption) {
	if s.readFromReplicas {
		opt.SendToReplicas = func(cmd rueidis.Completed) bool { return cmd.IsReadOnly() }
	}
}
