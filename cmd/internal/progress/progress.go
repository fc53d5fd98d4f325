// Package progress draws the progress line of the long CLI jobs (key
// rotation, migration) on stderr, as a bar redrawn in place on a terminal
// or as a line now and then for logs, and tells whether a writer is a
// terminal. It also formats counts with thousands separators for their
// reports.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Report is a job's position, reported after each batch.
type Report struct {
	// Fraction of the whole job's keyspace walked, 0 to 1.
	Fraction float64
	// Keys handled so far, including those of the run being resumed.
	Keys int64
	// Summary is a few counters in words, e.g. "1,200 rotated, 3 undecryptable".
	Summary string
}

// Mode is how progress is shown.
type Mode string

const (
	Auto  Mode = "auto"  // a bar on a terminal, lines otherwise
	Bar   Mode = "bar"   // one line redrawn in place
	Lines Mode = "lines" // a line now and then, for logs
	None  Mode = "none"
)

// ParseMode parses a --progress value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Auto, Bar, Lines, None:
		return m, nil
	}
	return "", fmt.Errorf("--progress %q: use auto, bar, lines or none", s)
}

// Printer draws progress on w, at a bounded rate: a bar at most ten times
// a second, lines at most once per LineEvery.
type Printer struct {
	w         io.Writer
	bar       bool
	off       bool
	LineEvery time.Duration // default 5s
	now       func() time.Time

	mu        sync.Mutex
	start     time.Time
	startFrac float64
	started   bool
	last      time.Time
	lastDrawn Report
	drawn     bool // a bar is on the screen
}

// NewPrinter returns a Printer for mode; Auto (or "") draws a bar when w is
// a terminal.
func NewPrinter(w io.Writer, mode Mode) *Printer {
	p := &Printer{w: w, LineEvery: 5 * time.Second, now: time.Now}
	switch mode {
	case None:
		p.off = true
	case Bar:
		p.bar = true
	case Auto, "":
		p.bar = IsTerminal(w)
	}
	return p
}

// IsTerminal reports whether w is a terminal. Asking the terminal driver
// (term.IsTerminal) rather than looking for a character device matters:
// /dev/null is a character device too, and a bar redrawn with \r into a log
// redirected there, or into a pipe, is noise.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Update reports progress; it draws only when enough time has passed.
func (p *Printer) Update(pr Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off {
		return
	}
	now := p.now()
	if !p.started {
		p.start, p.startFrac, p.started = now, pr.Fraction, true
	}
	every := p.LineEvery
	if p.bar {
		every = 100 * time.Millisecond
	}
	if !p.last.IsZero() && now.Sub(p.last) < every {
		return
	}
	p.last = now
	p.draw(pr, now)
}

// Finish clears the bar, if one is drawn. Lines mode prints a last line.
func (p *Printer) Finish(pr Report) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.off || !p.started {
		return
	}
	if p.bar {
		if p.drawn {
			fmt.Fprint(p.w, "\r\033[K")
			p.drawn = false
		}
		return
	}
	if pr != p.lastDrawn {
		p.draw(pr, p.now())
	}
}

func (p *Printer) draw(pr Report, now time.Time) {
	p.lastDrawn = pr
	frac := min(max(pr.Fraction, 0), 1)
	pct := fmt.Sprintf("%3.0f%%", 100*frac)
	eta := ""
	elapsed := now.Sub(p.start)
	if done := frac - p.startFrac; done > 0.001 && frac < 1 && elapsed > time.Second {
		left := time.Duration(float64(elapsed) * (1 - frac) / done)
		eta = " ETA " + left.Round(time.Second).String()
	}
	rate := ""
	if s := elapsed.Seconds(); s >= 1 {
		rate = fmt.Sprintf(" %s/s", Thousands(int64(float64(pr.Keys)/s)))
	}
	text := fmt.Sprintf("%s %s keys%s%s", pct, Thousands(pr.Keys), rate, eta)
	if pr.Summary != "" {
		text += "  " + pr.Summary
	}
	if p.bar {
		const width = 24
		filled := int(frac * width)
		fmt.Fprintf(p.w, "\r\033[K[%s%s] %s", strings.Repeat("#", filled), strings.Repeat("-", width-filled), text)
		p.drawn = true
		return
	}
	fmt.Fprintf(p.w, "progress: %s\n", text)
}

// Thousands formats n with commas: 1234567 is "1,234,567".
func Thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
