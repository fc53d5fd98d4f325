package resp_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/redsafe/redsafe/internal/resp"
)

// TestFramerFixedLengthValues: rueidis reads a null as "_" and 2 bytes, a
// boolean as "#", 1 byte and 2 more, whatever they are. A null or boolean
// of any other length would be a line to the Framer and a header to
// rueidis ("_xx*-2\r\n": a negative array length, a panic in rueidis's
// reading goroutine), so it is refused, fed whole or byte by byte, and
// never with its '\n' let through.
func TestFramerFixedLengthValues(t *testing.T) {
	for _, in := range []string{"_xx*-2\r\n", "_\n:*-2\r\n", "_x\r\n", "#txx*-2\r\n", "#\r\n", "#tt\r\n", "*1\r\n_xx$-9\r\n"} {
		for _, step := range []int{len(in), 1} {
			f := resp.NewFramer(resp.Limits{})
			passed := 0
			var err error
			for i := 0; i < len(in) && err == nil; i += step {
				var n int
				n, err = f.Scan([]byte(in[i:min(i+step, len(in))]))
				passed += n
			}
			if !errors.Is(err, resp.ErrMalformed) {
				t.Errorf("Scan(%q) in steps of %d = %v, want ErrMalformed", in, step, err)
			} else if strings.Contains(in[:passed], "-") {
				t.Errorf("Scan(%q) in steps of %d let %q through", in, step, in[:passed])
			}
		}
	}
}

// TestFramerSubscribePush: a push confirming a subscription makes rueidis
// panic ("protocol bug") when the command it answers is not a SUBSCRIBE,
// which redsafe never sends; it is refused, fed whole or byte by byte,
// before the push is complete. The pushes Redis sends redsafe pass.
func TestFramerSubscribePush(t *testing.T) {
	scan := func(in string, step int) (int, error) {
		f := resp.NewFramer(resp.Limits{})
		passed := 0
		for i := 0; i < len(in); i += step {
			n, err := f.Scan([]byte(in[i:min(i+step, len(in))]))
			if passed += n; err != nil {
				return passed, err
			}
		}
		return passed, nil
	}
	for _, in := range []string{
		">3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n",
		">2\r\n+psubscribe\r\n:1\r\n",
		">2\r\n=10\r\nssubscribe\r\n:1\r\n",
		"|0\r\n>2\r\n$10\r\nssubscribe\r\n:1\r\n",
		">2\r\n|1\r\n+a\r\n+b\r\n$9\r\nsubscribe\r\n:1\r\n",
	} {
		for _, step := range []int{len(in), 1} {
			passed, err := scan(in, step)
			if !errors.Is(err, resp.ErrMalformed) {
				t.Errorf("Scan(%q) in steps of %d = %v, want ErrMalformed", in, step, err)
			} else if passed >= len(in)-len(":1\r\n") {
				t.Errorf("Scan(%q) in steps of %d let %q through", in, step, in[:passed])
			}
		}
	}
	for _, in := range []string{
		">2\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n",
		">2\r\n$10\r\ninvalidate\r\n_\r\n",
		">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n",
		">3\r\n$12\r\nsunsubscribe\r\n$1\r\nc\r\n:0\r\n",
		">2\r\n$10\r\nsubscribed\r\n:1\r\n",
		">2\r\n*1\r\n$9\r\nsubscribe\r\n:1\r\n",
		"*2\r\n$9\r\nsubscribe\r\n:1\r\n",
		"*1\r\n>2\r\n$9\r\nsubscribe\r\n:1\r\n",
	} {
		for _, step := range []int{len(in), 1} {
			if passed, err := scan(in, step); err != nil || passed != len(in) {
				t.Errorf("Scan(%q) in steps of %d = %d, %v; want it accepted", in, step, passed, err)
			}
		}
	}
}
