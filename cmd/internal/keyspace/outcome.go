package keyspace

import "time"

// Outcome is what every job's report says about the run as a whole.
type Outcome struct {
	// Resumed: the run continued from a checkpoint.
	Resumed bool `json:"resumed"`
	// Complete: the walk reached the end.
	Complete bool `json:"complete"`
	// AlreadyDone: a resume found that the checkpointed run had finished;
	// the counts are that run's.
	AlreadyDone   bool    `json:"already_done,omitempty"`
	Seconds       float64 `json:"seconds"`
	KeysPerSecond float64 `json:"keys_per_second"`
	// Failovers are the moves of the master (reached through Sentinels)
	// that the run followed.
	Failovers []Failover `json:"failovers,omitempty"`

	started time.Time
}

// Begin opens the checkpoint and fills o. When the checkpointed run had
// finished, o says so and the state's counts are final. Otherwise it
// makes sure that the state file can be written, so that a job stops
// before it changes anything rather than after its first batch.
func (c Checkpoint[C]) Begin(o *Outcome) (*State[C], error) {
	st, resumed, err := c.Open()
	if err != nil {
		return nil, err
	}
	*o = Outcome{Resumed: resumed, Complete: st.Done, AlreadyDone: st.Done, started: time.Now()}
	if c.Path != "" && !st.Done {
		if err := writable(c.Path); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// Finish records how long the run took and its rate, for the keys it
// handled itself.
func (o *Outcome) Finish(keys int64) {
	o.Seconds = time.Since(o.started).Seconds()
	if o.Seconds > 0 {
		o.KeysPerSecond = float64(keys) / o.Seconds
	}
}
