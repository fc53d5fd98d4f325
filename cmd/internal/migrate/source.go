package migrate

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
)

// record is one source key as one transaction saw it.
type record struct {
	key      string
	typ      string // "string", "none" (gone), or another type
	value    string // the string value, or the DUMP payload of another type
	deadline int64  // absolute expiry in Unix milliseconds; 0: none
}

// source reads batches from the source database. Each batch is read in
// one MULTI/EXEC on a dedicated connection, so a key's value, type and
// expiry are from the same moment even while clients write to it.
type source struct {
	conn rueidis.DedicatedClient
	// absolute: PEXPIRETIME gives each key's absolute deadline (Redis 7).
	// Older servers give PTTL, which is turned into a deadline from the
	// moment the read was sent: never later than the source's, and earlier
	// by at most the time the read took to reach the server.
	absolute bool
	atomic   bool // MULTI/EXEC are allowed; otherwise a plain pipeline
	dumps    bool // read keys of other types with DUMP
	// bySlot: on a cluster node, where MGET and a transaction must keep to
	// one hash slot, a batch is read one transaction per slot, all in one
	// pipeline.
	bySlot bool
}

// close closes the dedicated connection rather than releasing it: once
// its pipe reads in the background, a release sends UNSUBSCRIBE,
// PUNSUBSCRIBE and SUNSUBSCRIBE to put it back in the pool, and a hostile
// source can answer those in ways that make rueidis panic (a +OK where it
// expects a push). The connection is not reused, so closing it loses
// nothing.
func (s *source) close() { s.conn.Close() }

// probe finds out what the source supports, within timeout. An error
// reply means "not supported"; a broken reply or no reply is an error.
func (s *source) probe(ctx context.Context, timeout time.Duration) error {
	_, err := bounded(ctx, timeout, "probing PEXPIRETIME", func(ctx context.Context) (struct{}, error) {
		err := s.conn.Do(ctx, s.conn.B().Pexpiretime().Key("redsafe:probe").Build()).Error()
		if brokenReply(err) {
			return struct{}{}, err
		}
		s.absolute = !unknownCommand(err)
		s.atomic = true
		for _, r := range s.conn.DoMulti(ctx, s.conn.B().Multi().Build(), s.conn.B().Exec().Build()) {
			if err := r.Error(); brokenReply(err) {
				return struct{}{}, err
			} else if err != nil {
				s.atomic = false
			}
		}
		return struct{}{}, nil
	})
	return err
}

func unknownCommand(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "unknown command")
}

// groups splits keys into what one transaction may read: every key on
// one server, one hash slot's keys on a cluster node.
func (s *source) groups(keys []string) [][]string {
	if s.bySlot {
		return keyspace.BySlot(keys)
	}
	return [][]string{keys}
}

// read returns the records of keys, grouped as s.groups puts them.
func (s *source) read(ctx context.Context, keys []string) ([]record, error) {
	groups := s.groups(keys)
	var txns []rueidis.Commands
	for _, g := range groups {
		cmds := rueidis.Commands{s.conn.B().Mget().Key(g...).Build()}
		for _, k := range g {
			cmds = append(cmds, s.conn.B().Type().Key(k).Build(), s.expiry(k))
		}
		txns = append(txns, cmds)
	}
	results, sent, err := s.do(ctx, txns)
	if err != nil {
		return nil, err
	}
	recs := make([]record, 0, len(keys))
	var others []int
	for gi, g := range groups {
		replies := results[gi]
		values, err := replies[0].ToArray()
		if err != nil || len(values) != len(g) {
			return nil, fmt.Errorf("MGET of %d keys: unexpected reply (%v)", len(g), err)
		}
		for i, k := range g {
			r := record{key: k}
			if r.typ, err = replies[1+2*i].ToString(); err != nil {
				return nil, fmt.Errorf("TYPE: %w", err)
			}
			if r.deadline, err = s.deadline(replies[2+2*i], sent); err != nil {
				return nil, err
			}
			switch {
			case r.deadline < 0 || r.typ == "string" && values[i].IsNil():
				r.typ = "none"
			case r.typ == "string":
				r.value, _ = values[i].ToString()
			case r.typ != "none" && s.dumps:
				others = append(others, len(recs))
			}
			recs = append(recs, r)
		}
	}
	if len(others) > 0 {
		if err := s.dump(ctx, recs, others); err != nil {
			return nil, err
		}
	}
	return recs, nil
}

// dump reads the serialized value and expiry of recs[i] for every i in idx.
func (s *source) dump(ctx context.Context, recs []record, idx []int) error {
	byKey := make(map[string][]int, len(idx)) // a key SCAN returned twice is in recs twice
	var keys []string
	for _, i := range idx {
		k := recs[i].key
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], i)
	}
	groups := s.groups(keys)
	var txns []rueidis.Commands
	for _, g := range groups {
		var cmds rueidis.Commands
		for _, k := range g {
			cmds = append(cmds, s.conn.B().Dump().Key(k).Build(), s.expiry(k))
		}
		txns = append(txns, cmds)
	}
	results, sent, err := s.do(ctx, txns)
	if err != nil {
		return fmt.Errorf("DUMP: %w", err)
	}
	for gi, g := range groups {
		replies := results[gi]
		for j, k := range g {
			var d record
			if replies[2*j].IsNil() {
				d.typ = "none"
			} else if d.value, err = replies[2*j].ToString(); err != nil {
				return fmt.Errorf("DUMP: %w", err)
			} else if d.deadline, err = s.deadline(replies[2*j+1], sent); err != nil {
				return err
			} else if d.deadline < 0 {
				d.typ = "none"
			}
			for _, i := range byKey[k] {
				r := &recs[i]
				r.value, r.deadline = d.value, d.deadline
				if d.typ != "" {
					r.typ = d.typ
				}
			}
		}
	}
	return nil
}

func (s *source) expiry(key string) rueidis.Completed {
	if s.absolute {
		return s.conn.B().Pexpiretime().Key(key).Build()
	}
	return s.conn.B().Pttl().Key(key).Build()
}

// deadline turns a PEXPIRETIME or PTTL reply into an absolute deadline in
// Unix milliseconds: 0 for none, -1 for a key that does not exist.
func (s *source) deadline(m rueidis.RedisMessage, sent time.Time) (int64, error) {
	v, err := m.AsInt64()
	switch {
	case err != nil:
		return 0, fmt.Errorf("expiry: %w", err)
	case v == -2:
		return -1, nil
	case v == -1:
		return 0, nil
	case s.absolute:
		return v, nil
	}
	return sent.UnixMilli() + v, nil
}

// do runs each of txns in one transaction (or, where MULTI is refused,
// all in one plain pipeline), every transaction in one pipeline, and
// returns the replies of each and when they were sent. A command's error
// reply is an error.
func (s *source) do(ctx context.Context, txns []rueidis.Commands) ([][]rueidis.RedisMessage, time.Time, error) {
	var cmds rueidis.Commands
	for _, t := range txns {
		if s.atomic {
			cmds = append(cmds, s.conn.B().Multi().Build())
		}
		cmds = append(cmds, t...)
		if s.atomic {
			cmds = append(cmds, s.conn.B().Exec().Build())
		}
	}
	sent := time.Now()
	res := s.conn.DoMulti(ctx, cmds...)
	for _, r := range res {
		if err := r.Error(); err != nil && !rueidis.IsRedisNil(err) {
			return nil, sent, err
		}
	}
	out := make([][]rueidis.RedisMessage, len(txns))
	for ti, t := range txns {
		n := len(t)
		var replies []rueidis.RedisMessage
		if s.atomic {
			// MULTI, n QUEUED, EXEC
			var err error
			if replies, err = res[n+1].ToArray(); err != nil {
				return nil, sent, fmt.Errorf("EXEC: %w", err)
			}
			res = res[n+2:]
		} else {
			for _, r := range res[:n] {
				m, _ := r.ToMessage()
				replies = append(replies, m)
			}
			res = res[n:]
		}
		if len(replies) != n {
			return nil, sent, fmt.Errorf("%d replies to %d commands", len(replies), n)
		}
		for _, m := range replies {
			if err := m.Error(); err != nil && !rueidis.IsRedisNil(err) {
				return nil, sent, err
			}
		}
		out[ti] = replies
	}
	return out, sent, nil
}
