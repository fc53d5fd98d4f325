package bench

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/internal/resp"
)

// Machine describes where a run happened.
type Machine struct {
	CPU        string  `json:"cpu"`
	Cores      int     `json:"cores"`
	GOMAXPROCS int     `json:"gomaxprocs"`
	MemoryGiB  float64 `json:"memory_gib,omitempty"`
	OS         string  `json:"os"`
	Arch       string  `json:"arch"`
	Kernel     string  `json:"kernel,omitempty"`
	Go         string  `json:"go"`
	Redis      string  `json:"redis,omitempty"` // the server's version
	// Server says which server: a local one started for the run, or the
	// environment's (its URL without credentials).
	Server   string `json:"server"`
	Duration string `json:"duration"` // measured per stack per cell
	Slices   int    `json:"slices"`   // alternating slices per cell, at most
	Started  string `json:"started"`
}

// DescribeMachine fills in what this process can tell about the machine.
func DescribeMachine() Machine {
	m := Machine{
		Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version(),
		Started: time.Now().UTC().Format(time.RFC3339),
	}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if kb, err := strconv.ParseFloat(strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB"), 64); err == nil {
		m.MemoryGiB = float64(int(kb/(1<<20)*10+0.5)) / 10
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the value of the first "name : value" line of a /proc
// file.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		k, v, ok := strings.Cut(s.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// ServerVersion asks the server its version with HELLO, which every
// authenticated user may send.
func ServerVersion(o redsafe.Options) string {
	conn, err := o.Connection()
	if err != nil {
		return ""
	}
	c, err := resp.DialTimeout(conn.Addr, conn.TLS, dialTimeout)
	if err != nil {
		return ""
	}
	defer c.Close()
	user := conn.Username
	if user == "" {
		user = "default"
	}
	v, err := c.DoValue("HELLO", "2", "AUTH", user, conn.Password)
	if err != nil || v.Type != '*' {
		return ""
	}
	for i := 0; i+1 < len(v.Elems); i += 2 {
		if v.Elems[i].Str == "version" {
			return v.Elems[i+1].Str
		}
	}
	return ""
}
