package keyspace

import (
	"context"
	"fmt"
)

// Unit is one SCAN walk of a job: a database of one server, or a master of
// a cluster. A job's checkpoint counts units (State.DBIndex) and holds the
// cursor within the current one, so a cluster resumes node by node.
type Unit struct {
	Target Target
	DB     int
	Name   string // for errors and reports: "db 3", "node 10.0.0.2:6380"
}

// Units lists the walks of a job on t: one per master when nodes (from
// Target.Masters) names a cluster's masters, each in database 0 and
// verified against the host it is reached by; otherwise one per database.
func Units(t Target, dbs []int, nodes []string) []Unit {
	var us []Unit
	if len(nodes) > 0 {
		for _, n := range nodes {
			us = append(us, Unit{Target: t.At(n), Name: "node " + n})
		}
		return us
	}
	for _, db := range dbs {
		us = append(us, Unit{Target: t, DB: db, Name: fmt.Sprintf("db %d", db)})
	}
	return us
}

// CountUnits counts the keys that match on every unit (see Count), each
// over a connection of its own.
func CountUnits(ctx context.Context, units []Unit, match string) (int64, error) {
	var total int64
	for _, u := range units {
		c, err := u.Target.Dial(u.DB)
		if err != nil {
			return total, err
		}
		n, err := Count(ctx, c, match)
		c.Close()
		if err != nil {
			return total, fmt.Errorf("%s: %w", u.Name, err)
		}
		total += n
	}
	return total, nil
}
