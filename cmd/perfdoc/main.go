// Command perfdoc regenerates docs/PERFORMANCE.md: `make bench` runs it.
//
// It measures, on this machine and in one run, everything the document
// reports: the codec against the standard-library primitives and
// fernet-go (go test -bench ./internal/bench/ in the cmd module), the
// sealed format beside Fernet and the standard library's AES-256-GCM
// (package seal's benchmarks), the end-to-end stacks and the TLS
// handshakes (redsafe bench --local --json --plot), the cells of the
// end-to-end targets once more, longer and in more rounds (redsafe bench
// --local --cells ... --max-slices), and a CPU profile of
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
	"strconv"
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
	targetDuration := flag.Duration("target-duration", 8*time.Second, "measured time per stack per cell of the second pass over the cells of the end-to-end targets")
	sizes := flag.String("sizes", "100,1024,16384,262144", "value sizes of redsafe bench")
	callers := flag.String("callers", "1,16,256", "concurrent callers of redsafe bench")
	codecCount := flag.Int("codec-count", 3, "runs of each codec benchmark; the median is reported")
	flag.Parse()
	if err := run(*redsafeBin, *out, *png, *sizes, *callers, *duration, *targetDuration, *codecCount); err != nil {
		fmt.Fprintf(os.Stderr, "perfdoc: %v\n", err)
		os.Exit(1)
	}
}

func run(redsafeBin, out, png, sizes, callers string, duration, targetDuration time.Duration, codecCount int) error {
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
	rep, err := runBench(redsafeBin, "--plot", png, "--sizes", sizes, "--callers", callers, "--duration", duration.String(), "--handshakes", "50")
	if err != nil {
		return err
	}
	cells, maxSlices := cellsFlag(targetCells(allRatioGoals())), bench.Slices(targetDuration, bench.MaxSlices)
	step(fmt.Sprintf("redsafe bench --local over the cells of the end-to-end targets (%s, %v per stack per cell, up to %d rounds)", cells, targetDuration, maxSlices))
	targetRun, err := runBench(redsafeBin, "--cells", cells, "--duration", targetDuration.String(), "--max-slices", strconv.Itoa(maxSlices), "--handshakes", "0")
	if err != nil {
		return err
	}
	var doc bytes.Buffer
	writeDoc(&doc, docInput{codec: codec, codecRuns: codecCount, report: rep, targetRun: targetRun, profile: prof, png: relPath(out, png), took: time.Since(start)})
	if err := os.WriteFile(out, doc.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "perfdoc: wrote %s and %s in %s\n", out, png, time.Since(start).Round(time.Second))
	return nil
}

func step(what string) { fmt.Fprintf(os.Stderr, "perfdoc: %s\n", what) }

// runBench runs redsafe bench --local --json with the flags given and
// decodes its JSON; its progress goes to stderr as it comes.
func runBench(bin string, flags ...string) (bench.Report, error) {
	var rep bench.Report
	cmd := exec.Command(bin, append([]string{"bench", "--local", "--json"}, flags...)...)
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

// cellsFlag is the --cells argument of redsafe bench for cells.
func cellsFlag(cells []bench.Cell) string {
	items := make([]string, len(cells))
	for i, c := range cells {
		items[i] = c.String()
	}
	return strings.Join(items, ",")
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
