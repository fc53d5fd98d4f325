package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Report is the output of `redsafe bench`, and its --json form.
type Report struct {
	Machine   Machine     `json:"machine"`
	Results   []Result    `json:"results"`
	Handshake []Handshake `json:"handshake"`
}

// WriteJSON writes r indented, with empty lists as [] rather than null.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Results == nil {
		r.Results = []Result{}
	}
	if r.Handshake == nil {
		r.Handshake = []Handshake{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Failures counts the failed operations of a run, the cells (stack,
// workload, size, callers) they happened in, and describes the first.
func (r Report) Failures() (ops uint64, cells int, first string) {
	for _, res := range r.Results {
		if res.Errors == 0 {
			continue
		}
		ops += res.Errors
		cells++
		if first == "" {
			first = fmt.Sprintf("%s %s %s, %d callers: %s", res.Stack, res.Workload, SizeName(res.Size), res.Callers, res.FirstError)
		}
	}
	return ops, cells, first
}

// Ratio is one cell seen from redsafe: its throughput over the baseline's
// and over go-redis+fernet-go's, each the median of the paired per-round
// ratios (PairedRatio). A ratio is 0 when its stack did not run.
type Ratio struct {
	Workload, Size, Callers string
	Redsafe                 float64 // redsafe (Fernet) / plaintext
	Sealed                  float64 // redsafe-sealed / plaintext
	GoRedis                 float64 // go-redis+fernet-go / plaintext
	OverGoRedis             float64 // redsafe / go-redis+fernet-go
	LocalCache              float64 // redsafe+localcache / plaintext; 0 when not run
}

// Ratios summarises the results per cell, in the order they ran.
func (r Report) Ratios() []Ratio {
	type cell struct {
		workload      string
		size, callers int
	}
	var order []cell
	by := map[cell]map[string]Result{}
	for _, res := range r.Results {
		c := cell{res.Workload, res.Size, res.Callers}
		if by[c] == nil {
			by[c] = map[string]Result{}
			order = append(order, c)
		}
		by[c][res.Stack] = res
	}
	var out []Ratio
	for _, c := range order {
		m := by[c]
		if _, ok := m[StackPlaintext]; !ok {
			continue
		}
		out = append(out, Ratio{Workload: c.workload, Size: SizeName(c.size), Callers: fmt.Sprint(c.callers),
			Redsafe: m[StackRedsafe].RatioToPlaintext, Sealed: m[StackSealed].RatioToPlaintext,
			GoRedis: m[StackGoRedis].RatioToPlaintext, LocalCache: m[StackLocalCache].RatioToPlaintext,
			OverGoRedis: PairedRatio(m[StackRedsafe].RoundOpsPerSec, m[StackGoRedis].RoundOpsPerSec).Median})
	}
	return out
}

// WriteTable writes the readable report: the setting, the ratios first,
// every measurement, and the handshakes.
func (r Report) WriteTable(w io.Writer) {
	m := r.Machine
	fmt.Fprintf(w, "redsafe bench: %s", m.Server)
	if m.Redis != "" {
		fmt.Fprintf(w, ", redis %s", m.Redis)
	}
	fmt.Fprintf(w, "\nmachine: %s\n", m.Summary())
	fmt.Fprintf(w, "each stack ran %s per cell, in %d alternating slices\n\n", m.Duration, m.Slices)

	fmt.Fprintln(w, "throughput relative to plaintext values through the same client (rueidis),")
	fmt.Fprintln(w, "median over the rounds of each round's ratio:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tsize\tcallers\tredsafe\tredsafe-sealed\tgo-redis+fernet-go\tredsafe / go-redis\tredsafe+localcache\t")
	for _, ra := range r.Ratios() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", ra.Workload, ra.Size, ra.Callers,
			ratio(ra.Redsafe), ratio(ra.Sealed), ratio(ra.GoRedis), ratio(ra.OverGoRedis), ratio(ra.LocalCache))
	}
	tw.Flush()

	workload := ""
	for _, res := range r.Results {
		if res.Workload != workload {
			workload = res.Workload
			tw.Flush()
			fmt.Fprintf(w, "\n%s: %s\n", workload, WorkloadAbout(workload))
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "size\tcallers\tstack\tops/s\tp50 µs\tp99 µs\tp99.9 µs\twire B/op\tclient CPU µs/op\tvs plaintext\terrors\t")
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.1f\t%.1f\t%.1f\t%s\t%.1f\t%.2f\t%d\t\n",
			SizeName(res.Size), res.Callers, res.Stack, FormatCount(res.OpsPerSec),
			res.P50US, res.P99US, res.P999US, FormatCount(res.WireBytesPerOp), res.ClientCPUUSPerOp,
			res.RatioToPlaintext, res.Errors)
	}
	tw.Flush()

	if len(r.Handshake) > 0 {
		fmt.Fprintln(w, "\nnew connection: TCP connect, TLS handshake, AUTH and PING, one at a time:")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "certificate\thandshake\ttls\tmedian µs\tp90 µs\tresumed\t")
		for _, h := range r.Handshake {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.0f\t%d/%d\t\n", h.Cert, h.Mode, h.TLS, h.MedianUS, h.P90US, h.Resumed, h.Samples)
		}
		tw.Flush()
	}
}

// Summary is the machine on one line.
func (m Machine) Summary() string {
	var parts []string
	cpu := m.CPU
	if cpu == "" {
		cpu = "CPU"
	}
	parts = append(parts, fmt.Sprintf("%d × %s", m.Cores, cpu))
	if m.MemoryGiB > 0 {
		parts = append(parts, fmt.Sprintf("%.1f GiB", m.MemoryGiB))
	}
	osName := m.OS + "/" + m.Arch
	if m.Kernel != "" {
		osName += " " + m.Kernel
	}
	parts = append(parts, osName, m.Go, fmt.Sprintf("GOMAXPROCS %d", m.GOMAXPROCS))
	return strings.Join(parts, ", ")
}

func ratio(f float64) string {
	if f == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", f)
}
