package migrate

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/seal"
)

// kind is what a write carries.
type kind int

const (
	sealed    kind = iota // a plaintext string, sealed here
	tokenCopy             // a string that was a token of a configured key already
	restore               // another type, DUMP/RESTORE, unencrypted
)

// plan is one key to write to the destination.
type plan struct {
	rec    record
	kind   kind
	value  string   // the token, or the DUMP payload
	digest [32]byte // SHA-256 of the plaintext, for the verification
}

// prepare turns a source string into the token to write. A value that
// already opens with a configured key is not sealed again: a reader would
// get the token back instead of the data.
func prepare(s *seal.Sealer, rec record) plan {
	p := plan{rec: rec, kind: sealed}
	plain, _, err := s.OpenKeyFor(nil, rec.key, []byte(rec.value), 0)
	switch needs, _ := s.NeedsRotation(rec.key, []byte(rec.value)); {
	case err == nil && !needs:
		p.kind, p.value = tokenCopy, rec.value
	case err == nil:
		tok, _ := s.RotateFor(nil, rec.key, []byte(rec.value))
		p.kind, p.value = tokenCopy, string(tok)
	default:
		plain = []byte(rec.value)
		p.value = string(s.SealFor(nil, rec.key, plain))
	}
	p.digest = sha256.Sum256(plain)
	clear(plain)
	return p
}

// dest writes plans to the destination database, in one pipeline a batch.
type dest struct {
	client    rueidis.Client
	sealer    *seal.Sealer
	getOK     bool // SET ... NX GET (Redis 7): a skipped key's value comes back
	overwrite bool
	dryRun    bool
}

// probe finds out whether the destination is Redis 7 or later, where SET
// takes NX and GET together (PEXPIRETIME came with the same release).
func (d *dest) probe(ctx context.Context, timeout time.Duration) error {
	_, err := bounded(ctx, timeout, "probing PEXPIRETIME", func(ctx context.Context) (struct{}, error) {
		err := d.client.Do(ctx, d.client.B().Pexpiretime().Key("redsafe:probe").Build()).Error()
		if brokenReply(err) {
			return struct{}{}, err
		}
		d.getOK = !unknownCommand(err)
		return struct{}{}, nil
	})
	return err
}

// outcome of one plan.
type outcome int

const (
	written outcome = iota
	overwritten
	inSync
	existing
)

// apply writes plans and returns the outcome of each.
func (d *dest) apply(ctx context.Context, plans []plan) ([]outcome, error) {
	if len(plans) == 0 {
		return nil, nil
	}
	c := d.client
	var cmds rueidis.Commands
	for _, p := range plans {
		if d.overwrite || d.dryRun {
			cmds = append(cmds, c.B().Exists().Key(p.rec.key).Build())
		}
		if !d.dryRun {
			cmds = append(cmds, d.command(p))
		}
	}
	res := c.DoMulti(ctx, cmds...)
	out := make([]outcome, len(plans))
	for i, p := range plans {
		existed := false
		if d.overwrite || d.dryRun {
			n, err := res[0].AsInt64()
			if err != nil {
				return nil, fmt.Errorf("EXISTS: %w", err)
			}
			existed, res = n > 0, res[1:]
		}
		if d.dryRun {
			out[i] = map[bool]outcome{false: written, true: existing}[existed]
			if existed && d.overwrite {
				out[i] = overwritten
			}
			continue
		}
		o, err := d.result(p, res[0])
		if err != nil {
			return nil, err
		}
		res = res[1:]
		if o == written && existed {
			o = overwritten
		}
		out[i] = o
	}
	return out, nil
}

// command is the write for p: SET with the token, or RESTORE, with the
// source's absolute deadline, and NX (or BUSYKEY) unless overwriting, so
// that a key that exists on the destination is never replaced by a race.
func (d *dest) command(p plan) rueidis.Completed {
	c := d.client
	if p.kind == restore {
		args := []string{strconv.FormatInt(p.rec.deadline, 10), p.value}
		if d.overwrite {
			args = append(args, "REPLACE")
		}
		if p.rec.deadline > 0 {
			args = append(args, "ABSTTL")
		}
		return c.B().Arbitrary("RESTORE").Keys(p.rec.key).Args(args...).Build()
	}
	args := []string{p.value}
	if !d.overwrite {
		args = append(args, "NX")
		if d.getOK {
			args = append(args, "GET")
		}
	}
	if p.rec.deadline > 0 {
		args = append(args, "PXAT", strconv.FormatInt(p.rec.deadline, 10))
	}
	return c.B().Arbitrary("SET").Keys(p.rec.key).Args(args...).Build()
}

// ErrRestoreRefused is matched when the destination user may not run
// RESTORE, which --allow-unencrypted-types needs.
var ErrRestoreRefused = errors.New("the destination user may not run RESTORE: copying other types with --allow-unencrypted-types needs a user that may, such as the admin user of `redsafe conf` (REDIS_USERNAME=admin); the app user may not, on purpose")

func (d *dest) result(p plan, r rueidis.RedisResult) (outcome, error) {
	err := r.Error()
	if p.kind == restore {
		switch {
		case err == nil:
			return written, nil
		case strings.HasPrefix(err.Error(), "BUSYKEY"):
			return existing, nil
		case strings.HasPrefix(err.Error(), "NOPERM"):
			return 0, fmt.Errorf("%w (%v)", ErrRestoreRefused, err)
		}
		return 0, fmt.Errorf("RESTORE: %w (a destination older than the source cannot read its DUMP format)", err)
	}
	switch {
	case rueidis.IsRedisNil(err) && d.getOK && !d.overwrite:
		return written, nil // NX GET: there was no value
	case rueidis.IsRedisNil(err):
		return existing, nil // NX: not set
	case err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE"):
		return existing, nil // NX GET on a key of another type
	case err != nil:
		return 0, fmt.Errorf("SET: %w", err)
	case !d.getOK || d.overwrite:
		return written, nil
	}
	// NX GET returned the value the destination holds: the same data?
	old, _ := r.ToString()
	plain, err := d.sealer.OpenFor(nil, p.rec.key, []byte(old), 0)
	if err == nil && sha256.Sum256(plain) == p.digest {
		return inSync, nil
	}
	return existing, nil
}
