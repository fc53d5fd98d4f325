package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/keyspace"
	"github.com/redsafe/redsafe/cmd/internal/progress"
	"github.com/redsafe/redsafe/internal/termsafe"
)

// What rotate-key and migrate share: the environment contract, the
// connection, the sealer, Ctrl-C, progress and the report.

// exitInterrupted is the exit code after Ctrl-C or SIGTERM, as shells use
// for SIGINT; the checkpoint is saved and --resume continues.
const exitInterrupted = 130

// jobFlags are the flags of every keyspace job.
type jobFlags struct {
	envFile  *string
	match    *string
	count    *int
	rate     *float64
	dryRun   *bool
	state    *string
	resume   *bool
	asJSON   *bool
	progress *string
	timeout  *time.Duration
}

func (c *cli) jobFlagSet(cmd *command, stateFile string, defaultCount int) (*jobFlags, *flag.FlagSet) {
	fs := c.flags(cmd)
	return &jobFlags{
		envFile:  fs.String("env-file", "", ""),
		match:    fs.String("match", "", ""),
		count:    fs.Int("count", defaultCount, ""),
		rate:     fs.Float64("rate", 0, ""),
		dryRun:   fs.Bool("dry-run", false, ""),
		state:    fs.String("state", stateFile, ""),
		resume:   fs.Bool("resume", false, ""),
		asJSON:   fs.Bool("json", false, ""),
		progress: fs.String("progress", string(progress.Auto), ""),
		timeout:  fs.Duration("timeout", 5*time.Second, ""),
	}, fs
}

// check validates the shared flags; it returns a usage error.
func (f *jobFlags) check(fs *flag.FlagSet) error {
	switch {
	case *f.count < 1 || *f.count > 100_000:
		return fmt.Errorf("--count %d must be between 1 and 100000", *f.count)
	case math.IsNaN(*f.rate) || math.IsInf(*f.rate, 0) || *f.rate < 0:
		return fmt.Errorf("--rate %v: give keys per second, or 0 for no limit", *f.rate)
	case *f.dryRun && *f.resume:
		return errors.New("--dry-run keeps no state, so there is nothing to --resume")
	case *f.state == "":
		return errors.New("--state must name a file")
	case *f.timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	if _, err := progress.ParseMode(*f.progress); err != nil {
		return err
	}
	// Under a rate limit, small batches: a steady pace and frequent
	// checkpoints rather than bursts.
	if !isSet(fs, "count") {
		*f.count = keyspace.BatchFor(*f.rate, *f.count)
	}
	return nil
}

// isSet reports whether the command line gave the flag.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// diagnose replaces a failure to connect with the library's diagnosis,
// which names the cause (certificate, password, TLS version, ...) and the
// fix.
func diagnose(ctx context.Context, opts redsafe.Options, err error) error {
	var dial *keyspace.DialError
	if !errors.As(err, &dial) {
		return err
	}
	opts.Logger = quietLogger()
	cache, oerr := redsafe.Open(ctx, opts)
	if oerr != nil {
		return oerr
	}
	cache.Close()
	return err
}

// errText is an error for c.errorf and a job's JSON report, without the
// library's own prefix, and with what the server put in it (error replies)
// escaped.
func errText(err error) string {
	// Error() is one line; the fixes are fields, printed under it.
	return strings.ReplaceAll(escapeReplies(err).Error(), "redsafe: ", "") + fixLines(err)
}

// escapeReplies escapes what a server (migrate's source or destination,
// rotate-key's) may have put in err, for the terminal and the JSON report. The library's diagnosis
// keeps its own "fix:" line: only the error under it quotes the server.
func escapeReplies(err error) error {
	if ce, ok := err.(*redsafe.ConnectError); ok {
		escaped := *ce
		escaped.Err = termsafe.Error(ce.Err)
		return &escaped
	}
	return termsafe.Error(err)
}

// interrupts turns the first Ctrl-C or SIGTERM into a clean stop after the
// batch in progress, with the checkpoint saved; a second one cancels ctx.
func interrupts(ctx context.Context, stderr io.Writer) (context.Context, <-chan struct{}, func()) {
	ctx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			fmt.Fprintln(stderr, "\nstopping after the batch in progress (again to abort at once)")
			close(stop)
		case <-done:
			return
		}
		select {
		case <-sig:
			cancel()
		case <-done:
		}
	}()
	return ctx, stop, func() {
		signal.Stop(sig)
		close(done)
		cancel()
	}
}

// jobDisplay is what a job reports to, drawn on stderr.
type jobDisplay struct {
	report func(progress.Report) // after every batch
	note   func(string)          // an event worth a line of its own (a failover followed)
	finish func()                // ends the display
}

// progress returns the display of a job named cmd.
func (c *cli) progress(cmd, mode string) jobDisplay {
	m, _ := progress.ParseMode(mode)
	pr := progress.NewPrinter(c.stderr, m)
	var last progress.Report
	return jobDisplay{
		report: func(p progress.Report) { last = p; pr.Update(p) },
		// Finish clears a bar first, so that the line stands alone; the
		// next report draws it again.
		note:   func(s string) { pr.Finish(last); fmt.Fprintf(c.stderr, "%s: %s\n", cmd, s) },
		finish: func() { pr.Finish(last) },
	}
}

// jobResult is what the CLI adds to a job's JSON report.
type jobResult struct {
	OK    bool   `json:"ok"`
	State string `json:"state,omitempty"` // the checkpoint file, when one is kept
	Error string `json:"error,omitempty"`
}

// writeJobJSON prints res and then the fields of the job's report, as one
// object.
func writeJobJSON(w io.Writer, code int, state string, err error, report any) {
	res := jobResult{OK: code == 0, State: state}
	if err != nil {
		res.Error = errText(err)
	}
	head, _ := json.Marshal(res)
	body, merr := json.Marshal(report)
	if merr != nil || len(body) < 2 || body[0] != '{' {
		writeJSON(w, res)
		return
	}
	if len(body) > 2 {
		head = append(head[:len(head)-1], ',')
	} else {
		head = head[:len(head)-1]
	}
	var out bytes.Buffer
	json.Indent(&out, append(head, body[1:]...), "", "  ")
	out.WriteByte('\n')
	w.Write(out.Bytes())
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// writeFailovers lists the moves of the master a run followed.
func writeFailovers(w io.Writer, fs []keyspace.Failover) {
	for _, f := range fs {
		fmt.Fprintf(w, "followed a failover: master moved from %s to %s (a new master within %.1fs); the walk resumed there\n", f.From, f.To, f.Seconds)
	}
}

// row prints one line of a text report: a label, a count, a comment.
func row(w io.Writer, label string, n int64, comment string) {
	line := fmt.Sprintf("  %-20s %10s", label, progress.Thousands(n))
	if comment != "" {
		line += "  " + comment
	}
	fmt.Fprintln(w, line)
}
