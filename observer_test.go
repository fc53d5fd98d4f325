package redsafe

import (
	"testing"

	"github.com/redsafe/redsafe/seal"
)

// TestObservingAllocatesNothing: what every operation runs for metrics
// allocates nothing, without an Observer and with one, on success and on a
// refused value. (Classifying other errors may; they are not the hot path.)
func TestObservingAllocatesNothing(t *testing.T) {
	for name, obs := range map[string]Observer{"nil": nil, "nop": NopObserver{}} {
		c := &Cache{obs: obs}
		refused := &DecryptError{Err: seal.ErrAuthentication}
		for _, err := range []error{nil, ErrNotFound, refused} {
			var sealErr error
			if err == refused {
				sealErr = refused.Err
			}
			allocs := testing.AllocsPerRun(1000, func() {
				start := c.begin()
				c.encrypted(start)
				c.decrypted(start, sealErr)
				c.done(CommandGet, start, err)
			})
			if allocs != 0 {
				t.Errorf("observer %s, error %v: %v allocations per operation", name, err, allocs)
			}
		}
	}
}
