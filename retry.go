package redsafe

import (
	"errors"
	"time"

	"github.com/redis/rueidis"
)

// retryDelay is rueidis's retry schedule for reads on a broken connection
// (exponential from 1 µs, at most 1 s), except that a reply the guard
// refused is not retried: the server would send the same reply again, and
// each attempt would dial, handshake and transfer it anew until the
// caller's deadline, which would then be all the caller learns. A negative
// delay stops rueidis retrying. The schedule has no jitter: one client
// per process retries, so there is no herd to spread out.
func retryDelay(attempts int, _ rueidis.Completed, err error) time.Duration {
	if errors.Is(err, ErrReplyRefused) {
		return -1
	}
	base := time.Duration(1<<min(attempts, 20)) * time.Microsecond
	return min(time.Second, base+base/2)
}
