package migrate

import "github.com/redsafe/redsafe/cmd/internal/keyspace"

// Counts are the outcomes of a walk over the source. Every key SCAN
// returns ends in exactly one of Encrypted, AlreadyEncrypted, Restored,
// Existing, InSync, Left, Expired or Vanished, so they add up to Scanned.
// In a dry run they say what a run would do.
type Counts struct {
	// Scanned counts the keys SCAN returned on the source (a key may come
	// twice; a resumed run walks the interrupted batch again).
	Scanned int64 `json:"scanned"`
	// Encrypted string values were sealed with the primary key and written.
	Encrypted int64 `json:"encrypted"`
	// AlreadyEncrypted values were Fernet tokens of a configured key
	// already: they were written as they were (re-sealed under the primary
	// key, keeping their timestamp, when under a previous one), never
	// sealed twice.
	AlreadyEncrypted int64 `json:"already_encrypted"`
	// Restored keys of other types were copied with DUMP/RESTORE,
	// unencrypted (--allow-unencrypted-types).
	Restored int64 `json:"restored"`
	// Overwritten counts, among the written keys, those that replaced a
	// key the destination had (--overwrite).
	Overwritten int64 `json:"overwritten"`
	// Existing keys were left alone: the destination has the key, with
	// another value or of another type.
	Existing int64 `json:"existing"`
	// InSync keys were left alone because the destination already holds
	// the same value, as after an interrupted run.
	InSync int64 `json:"in_sync"`
	// Left counts the keys of other types that were not copied, by type.
	Left keyspace.TypeCounts `json:"left_types"`
	// Expired keys reached their TTL between the read and the write.
	Expired int64 `json:"expired"`
	// Vanished keys were deleted or expired between SCAN and the read.
	Vanished int64 `json:"vanished"`
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Scanned += o.Scanned
	c.Encrypted += o.Encrypted
	c.AlreadyEncrypted += o.AlreadyEncrypted
	c.Restored += o.Restored
	c.Overwritten += o.Overwritten
	c.Existing += o.Existing
	c.InSync += o.InSync
	c.Expired += o.Expired
	c.Vanished += o.Vanished
	c.Left.Merge(o.Left)
}

// Written is the number of keys written to the destination.
func (c Counts) Written() int64 { return c.Encrypted + c.AlreadyEncrypted + c.Restored }
