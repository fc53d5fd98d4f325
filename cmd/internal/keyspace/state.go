package keyspace

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// stateVersion changes when the file's meaning does; older files are
// refused rather than misread.
const stateVersion = 1

// State is the checkpoint of a job: where its walk stands and what it has
// counted so far. It never holds a key name, a value or a secret, so the
// file only tells a reader how far a job got.
type State[C any] struct {
	Version int    `json:"version"`
	Job     string `json:"job"` // "rotate-key", "migrate"
	// Scope says what the job runs on (servers, databases, pattern, key
	// ids); a resume must have the same scope.
	Scope   string `json:"scope"`
	DBIndex int    `json:"db_index"`      // index into the job's list of databases
	Cursor  uint64 `json:"cursor,string"` // SCAN cursor to continue at in that database
	Done    bool   `json:"done"`          // the walk completed; nothing to resume
	Counts  C      `json:"counts"`        // of the batches before Cursor
	// Server is the master the cursor was read on, for a job reached
	// through Sentinels (see On); "" otherwise.
	Server  string    `json:"server,omitempty"`
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
}

// StateMode is the permission of a state file. It holds no secret, but
// it says what a server holds and how an operation went.
const StateMode fs.FileMode = 0o600

// SaveState writes s to path atomically: a reader, or a resume after the
// process is killed at any moment, sees either the previous checkpoint or
// this one, whole. The data is on disk before the rename, so a crash of
// the machine does not leave an empty file either.
func SaveState[C any](path string, s *State[C]) error {
	s.Version = stateVersion
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write the state file: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(StateMode); err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: the rename itself is already atomic
		d.Close()
	}
	return nil
}

// On records that the walk continues on server (a master reached through
// Sentinels) and reports whether it had to start over: when the
// checkpoint was read on another server, its cursor is rewound to the
// start of the first walk and its counts to zero. A SCAN cursor is a
// position in one server's hash table, which another server (with its own
// hash seed) orders differently; and the last writes the old master
// acknowledged may not have reached the new one (replication is
// asynchronous). The jobs' writes are idempotent, so the second pass
// finds what survived done and does the rest.
func (s *State[C]) On(server string) (restarted bool) {
	if s.Server != "" && s.Server != server && !s.Done {
		var zero C
		s.DBIndex, s.Cursor, s.Counts, restarted = 0, 0, zero, true
	}
	s.Server = server
	return restarted
}

// writable checks that SaveState can create path, leaving nothing behind.
func writable(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("cannot write the state file: %w", err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// LoadState reads the checkpoint at path. A missing file is an error that
// matches fs.ErrNotExist.
func LoadState[C any](path, job string) (*State[C], error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s State[C]
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s is not a redsafe state file (%v); remove it to start over", path, err)
	}
	switch {
	case s.Version != stateVersion:
		return nil, fmt.Errorf("%s was written by another version of redsafe (state version %d); remove it to start over", path, s.Version)
	case s.Job != job:
		return nil, fmt.Errorf("%s is the state of `redsafe %s`, not of `redsafe %s`; name another file with --state", path, s.Job, job)
	}
	return &s, nil
}

// Checkpoint is how a job starts from its state file.
type Checkpoint[C any] struct {
	Path   string // "" keeps no state (dry runs)
	Job    string
	Scope  string
	Resume bool
	Now    func() time.Time // default time.Now
}

// ErrInterruptedRun is matched by the error Open returns when a run that
// did not finish left its checkpoint and --resume was not given.
var ErrInterruptedRun = errors.New("an interrupted run left a checkpoint")

// Open returns the state to start from: the checkpoint when resuming, or a
// fresh one. It refuses to overwrite the checkpoint of an unfinished run
// unless told to resume, and to resume a checkpoint of another scope. A
// resume without a state file starts from the beginning (resumed false).
func (c Checkpoint[C]) Open() (s *State[C], resumed bool, err error) {
	now := c.Now
	if now == nil {
		now = time.Now
	}
	fresh := &State[C]{Job: c.Job, Scope: c.Scope, Started: now()}
	if c.Path == "" {
		return fresh, false, nil
	}
	old, err := LoadState[C](c.Path, c.Job)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fresh, false, nil
	case err != nil:
		return nil, false, err
	case old.Scope != c.Scope:
		if !c.Resume && old.Done {
			return fresh, false, nil
		}
		return nil, false, fmt.Errorf("%s belongs to another run (%s), not to this one (%s); name another file with --state, or remove it", c.Path, old.Scope, c.Scope)
	case c.Resume:
		return old, true, nil
	case old.Done:
		return fresh, false, nil
	}
	return nil, false, fmt.Errorf("%w in %s (updated %s); continue it with --resume, or remove the file to start over",
		ErrInterruptedRun, c.Path, old.Updated.Local().Format(time.DateTime))
}
