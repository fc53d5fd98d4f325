// Command perfdoc regenerates docs/PERFORMANCE.md: `make bench` runs it.
//
// It measures, on this machine and in one run, everything the document
// reports: the codec against the standard-library primitives and
// fernet-go (go test -bench ./internal/bench/ in the cmd module), the
// sealed format beside Fernet and the standard library's AES-256-GCM
// (package seal's benchmarks), the end-to-end stacks and the TLS
// handshakes (redsafe bench --local --json --plot), and a CPU profile of
// the encrypted end-to-end path (go test -cpuprofile ./internal/bench/,
// summarised with go tool pprof). Then it writes the document, targets and
// ratios first. The interpretation of the profile is prose kept in
// profile.md beside this file; the figures around it are measured.
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/redsafe/redsafe/cmd/internal/bench"
)

//go:embed profile.md
var profileNotes string

func main() {
	redsafeBin := flag.String("redsafe", "bin/redsafe", "the redsafe binary to run `bench --local` with")
	out := flag.String("out", "docs/PERFORMANCE.md", "the document to write")
	png := flag.String("png", "docs/bench.png", "the chart to write, beside the document")
	duration := flag.Duration("duration", 1500*time.Millisecond, "measured time per stack per cell of redsafe bench")
	sizes := flag.String("sizes", "100,1024,16384,262144", "value sizes of redsafe bench")
	callers := flag.String("callers", "1,16,256", "concurrent callers of redsafe bench")
	codecCount := flag.Int("codec-count", 3, "runs of each codec benchmark; the median is reported")
	flag.Parse()
	if err := run(*redsafeBin, *out, *png, *sizes, *callers, *duration, *codecCount); err != nil {
		fmt.Fprintf(os.Stderr, "perfdoc: %v\n", err)
		os.Exit(1)
	}
}

func run(redsafeBin, out, png, sizes, callers string, duration time.Duration, codecCount int) error {
	start := time.Now()
	work, err := os.MkdirTemp("", "redsafe-perfdoc-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	step("codec benchmarks (go test -bench ./internal/bench/ and github.com/redsafe/redsafe/seal, in the cmd module)")
	codec, err := runCodec(codecCount)
	if err != nil {
		return err
	}
	step("CPU profile of the encrypted end-to-end path (go test -cpuprofile ./internal/bench/)")
	prof, err := runProfile(work)
	if err != nil {
		return err
	}
	step(fmt.Sprintf("redsafe bench --local (sizes %s, callers %s, %v per stack per cell)", sizes, callers, duration))
	rep, err := runBench(redsafeBin, png, sizes, callers, duration)
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	writeDoc(&doc, docInput{codec: codec, codecRuns: codecCount, report: rep, profile: prof, png: relPath(out, png), took: time.Since(start)})
	if err := os.WriteFile(out, doc.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "perfdoc: wrote %s and %s in %s\n", out, png, time.Since(start).Round(time.Second))
	return nil
}

func step(what string) { fmt.Fprintf(os.Stderr, "perfdoc: %s\n", what) }

// runBench runs redsafe bench --local and decodes its JSON; its progress
// goes to stderr as it comes.
func runBench(bin, png, sizes, callers string, d time.Duration) (bench.Report, error) {
	var rep bench.Report
	cmd := exec.Command(bin, "bench", "--local", "--json", "--plot", png,
		"--sizes", sizes, "--callers", callers, "--duration", d.String(), "--handshakes", "50")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return rep, fmt.Errorf("%s bench: %w (build it with `make build`)", bin, err)
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return rep, fmt.Errorf("decoding the JSON of redsafe bench: %w", err)
	}
	return rep, nil
}

// goCmd runs the go command, its stderr passed through, and returns its
// output.
func goCmd(args ...string) ([]byte, error) {
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, tail(out, 2000))
	}
	return out, nil
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// relPath is target as the document at doc links to it.
func relPath(doc, target string) string {
	if r, err := filepath.Rel(filepath.Dir(doc), target); err == nil {
		return filepath.ToSlash(r)
	}
	return target
}
