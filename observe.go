package redsafe

import "time"

// The Cache's side of Observer. Every helper checks for a nil Observer
// first, so that a Cache without one pays a nil check and nothing else: no
// clock read and no allocation on the hot path.

// begin starts timing an operation; the zero time when nothing observes.
func (c *Cache) begin() time.Time {
	if c.obs == nil {
		return time.Time{}
	}
	return time.Now()
}

// done reports an operation started by begin.
func (c *Cache) done(command string, start time.Time, err error) {
	if c.obs != nil {
		c.obs.Operation(command, time.Since(start), ClassifyError(err))
	}
}

// encrypted reports a seal started by begin.
func (c *Cache) encrypted(start time.Time) {
	if c.obs != nil {
		c.obs.Encrypt(time.Since(start))
	}
}

// decrypted reports an open started by begin, and its failure if any.
func (c *Cache) decrypted(start time.Time, err error) {
	if c.obs == nil {
		return
	}
	c.obs.Decrypt(time.Since(start))
	if err != nil {
		c.obs.DecryptFailure(err)
	}
}

// observeValidation reports the validation result of an Open.
func observeValidation(obs Observer, r Report) {
	if obs != nil {
		obs.Validated(r, r.OK() && r.has(insecureOverrideID))
	}
}
