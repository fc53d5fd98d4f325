package migrate

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/redis/rueidis"
	"github.com/redsafe/redsafe/cmd/internal/keyname"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/progress"
)

// maxDriftMs is how far a destination deadline may be from the source's
// before the verification fails. With PEXPIRETIME both are the same
// absolute number; with PTTL they differ by the read's round trip.
const maxDriftMs = 1000

// Verification compares the destination with the source after a run.
type Verification struct {
	// SourceKeys and DestinationKeys are counted with SCAN, with the
	// pattern, when the walk has finished.
	SourceKeys      int64 `json:"source_keys"`
	DestinationKeys int64 `json:"destination_keys"`
	// Sampled written values were read from both sides.
	Sampled int `json:"sampled"`
	// Matched: the destination's value decrypts to the source's value and
	// expires at the same time.
	Matched int `json:"matched"`
	// ChangedOnSource: the source was written to (or the key deleted)
	// after the copy; the destination holds what was copied.
	ChangedOnSource int `json:"changed_on_source"`
	// Gone: expired or deleted on both sides since the copy.
	Gone int `json:"gone"`
	// Missing keys are on the source but not on the destination.
	Missing int `json:"missing"`
	// Mismatched values do not decrypt, or decrypt to something that was
	// never copied, or expire at another time.
	Mismatched int `json:"mismatched"`
	// TTLMaxDriftMs is the largest difference between the two sides'
	// deadlines among the matched keys, in milliseconds.
	TTLMaxDriftMs int64 `json:"ttl_max_drift_ms"`
	// Problems describe the first few failures, with masked key names.
	Problems []string `json:"problems"`
	// Warnings are differences that can have innocent causes, such as a
	// source that clients still write to.
	Warnings []string `json:"warnings"`
	OK       bool     `json:"ok"`
}

// reservoir keeps a uniform random sample of the keys written.
type reservoir struct {
	size, seen int
	keys       []string
	digests    [][32]byte
}

func newReservoir(size int) *reservoir { return &reservoir{size: max(size, 0)} }

func (r *reservoir) add(key string, digest [32]byte) {
	r.seen++
	switch {
	case len(r.keys) < r.size:
		r.keys = append(r.keys, key)
		r.digests = append(r.digests, digest)
	case r.size > 0:
		if i := rand.IntN(r.seen); i < r.size {
			r.keys[i], r.digests[i] = key, digest
		}
	}
}

// side is what one side holds for the sampled keys.
type side struct {
	values    []value
	deadlines []int64 // 0: no expiry, or missing
}

// value is a sampled key's string value; !ok: missing, or not a string.
type value struct {
	s  string
	ok bool
}

func (m *migration) verify(ctx context.Context) (*Verification, error) {
	v := &Verification{Problems: []string{}, Warnings: []string{}}
	var err error
	if v.SourceKeys, err = keyspace.CountUnits(ctx, m.units, m.cfg.Match); err != nil {
		return v, fmt.Errorf("counting source keys: %w", err)
	}
	if v.DestinationKeys, err = keyspace.CountUnits(ctx, keyspace.Units(m.cfg.Dest, []int{m.cfg.DestDB}, m.cfg.DestNodes), m.cfg.Match); err != nil {
		return v, fmt.Errorf("counting destination keys: %w", err)
	}
	if left := m.st.Counts.Left.Total(); v.DestinationKeys < v.SourceKeys-left {
		v.Warnings = append(v.Warnings, fmt.Sprintf("the destination has %s keys, fewer than the source's %s less the %s left behind: keys created on the source since they were walked are not copied; run again to copy them",
			progress.Thousands(v.DestinationKeys), progress.Thousands(v.SourceKeys), progress.Thousands(left)))
	}
	keys := m.sample.keys
	if len(keys) == 0 {
		v.OK = true
		return v, nil
	}
	var srcClient rueidis.Client
	if m.cfg.SourceNodes != nil {
		srcClient, err = m.cfg.Source.DialCluster(m.cfg.SourceNodes)
	} else {
		srcClient, err = m.cfg.Source.Dial(m.cfg.SourceDB)
	}
	if err != nil {
		return v, fmt.Errorf("source: %w", err)
	}
	defer srcClient.Close()
	src, err := bounded(ctx, m.cfg.Timeout, "reading the sample", func(ctx context.Context) (side, error) { return read(ctx, srcClient, keys, m.absolute) })
	if err != nil {
		return v, fmt.Errorf("source: %w", err)
	}
	dst, err := bounded(ctx, m.cfg.Timeout, "reading the sample", func(ctx context.Context) (side, error) { return read(ctx, m.dstClient, keys, m.dst.getOK) })
	if err != nil {
		return v, fmt.Errorf("destination: %w", err)
	}
	problem := func(key, why string) {
		if len(v.Problems) < maxExamples {
			v.Problems = append(v.Problems, keyname.Mask(key)+": "+why)
		}
	}
	v.Sampled = len(keys)
	for i, key := range keys {
		sv, dv := src.values[i], dst.values[i]
		switch {
		case !dv.ok && !sv.ok:
			v.Gone++
			continue
		case !dv.ok:
			v.Missing++
			problem(key, "missing on the destination")
			continue
		}
		plain, err := m.cfg.Sealer.OpenFor(nil, key, []byte(dv.s), 0)
		if err != nil {
			v.Mismatched++
			problem(key, "the destination's value does not decrypt")
			continue
		}
		srcPlain := []byte(nil)
		if sv.ok {
			if p, err := m.cfg.Sealer.OpenFor(nil, key, []byte(sv.s), 0); err == nil {
				srcPlain = p
			} else {
				srcPlain = []byte(sv.s)
			}
		}
		switch {
		case srcPlain != nil && string(plain) == string(srcPlain):
			drift := dst.deadlines[i] - src.deadlines[i]
			if (dst.deadlines[i] == 0) != (src.deadlines[i] == 0) || drift > maxDriftMs || drift < -maxDriftMs {
				v.Mismatched++
				problem(key, fmt.Sprintf("expires at %s on the destination, %s on the source", when(dst.deadlines[i]), when(src.deadlines[i])))
				continue
			}
			v.Matched++
			v.TTLMaxDriftMs = max(v.TTLMaxDriftMs, drift, -drift)
		case sha256.Sum256(plain) == m.sample.digests[i]:
			v.ChangedOnSource++
		default:
			v.Mismatched++
			problem(key, "the destination's value is not what was copied")
		}
		clear(plain)
	}
	if v.ChangedOnSource > 0 {
		v.Warnings = append(v.Warnings, fmt.Sprintf("%d sampled keys changed on the source after they were copied: clients still write to it; run again with --overwrite once they have moved", v.ChangedOnSource))
	}
	v.OK = v.Missing == 0 && v.Mismatched == 0
	return v, nil
}

func when(deadline int64) string {
	if deadline == 0 {
		return "never"
	}
	return time.UnixMilli(deadline).UTC().Format("15:04:05.000")
}

// read gets the values and deadlines of keys in one pipeline, a GET for
// each rather than one MGET, which a cluster refuses across slots.
func read(ctx context.Context, c rueidis.Client, keys []string, absolute bool) (side, error) {
	var cmds rueidis.Commands
	for _, k := range keys {
		cmds = append(cmds, c.B().Get().Key(k).Build())
		if absolute {
			cmds = append(cmds, c.B().Pexpiretime().Key(k).Build())
		} else {
			cmds = append(cmds, c.B().Pttl().Key(k).Build())
		}
	}
	sent := time.Now().UnixMilli()
	res := c.DoMulti(ctx, cmds...)
	s := side{values: make([]value, len(keys)), deadlines: make([]int64, len(keys))}
	for i := range keys {
		str, err := res[2*i].ToString()
		switch {
		case err == nil:
			s.values[i] = value{s: str, ok: true}
		case rueidis.IsRedisNil(err), isWrongType(err):
		default:
			return side{}, err
		}
		d, err := res[2*i+1].AsInt64()
		switch {
		case err != nil:
			return side{}, err
		case d < 0:
			s.deadlines[i] = 0
		case absolute:
			s.deadlines[i] = d
		default:
			s.deadlines[i] = sent + d
		}
	}
	return s, nil
}

// isWrongType: the key holds another type now, which MGET would have read
// as missing.
func isWrongType(err error) bool {
	_, ok := rueidis.IsRedisErr(err)
	return ok && strings.HasPrefix(err.Error(), "WRONGTYPE")
}
