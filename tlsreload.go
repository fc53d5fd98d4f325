package redsafe

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// The CA file and the client certificate and key are read again, for
// every new connection, once one of them has changed, as REDIS_PASSWORD_FILE
// is: a renewed client certificate or a new CA bundle is used without a
// restart (`redsafe certs renew`, CA rotation). Connections already open
// keep the settings they were made with; a new one after a change gets a
// fresh session cache too, so no session resumed under the old roots
// skips the new ones. A file that cannot be read or parsed at that moment
// (half written, removed) leaves the last good settings in use.

// tlsBase is one generation of TLS settings, with the per-node configs
// made from it (dialer.tlsFor), bounded by maxNodeConfigs.
type tlsBase struct {
	cfg       *tls.Config
	ownCA     *x509.CertPool // the CA file alone; nil without one
	nodes     sync.Map       // addr → *tls.Config
	nodeCount atomic.Int64
}

// tlsFiles watches the files TLSOptions name.
type tlsFiles struct {
	opts       TLSOptions
	host       string
	minVersion uint16

	mu     sync.Mutex
	stamps [3]fileStamp // CAFile, CertFile, KeyFile, as last read
}

// fileStamp is what tells a changed file: its size and modification
// time (nanoseconds on the file systems that matter), from one stat.
type fileStamp struct {
	size    int64
	modTime time.Time
	ok      bool
}

func newTLSFiles(o TLSOptions, host string, minVersion uint16) *tlsFiles {
	if o.CAFile == "" && o.CertFile == "" {
		return nil
	}
	f := &tlsFiles{opts: o, host: host, minVersion: minVersion}
	f.stamps = f.stat()
	return f
}

func (f *tlsFiles) stat() [3]fileStamp {
	var out [3]fileStamp
	for i, p := range []string{f.opts.CAFile, f.opts.CertFile, f.opts.KeyFile} {
		if p == "" {
			continue
		}
		if fi, err := os.Stat(p); err == nil {
			out[i] = fileStamp{size: fi.Size(), modTime: fi.ModTime(), ok: true}
		}
	}
	return out
}

// refreshTLS returns the current TLS settings, rebuilding them first when
// a file they came from has changed and now reads well.
func (d *dialer) refreshTLS() *tlsBase {
	f := d.files
	if f == nil {
		return d.base.Load()
	}
	// One connection rebuilds; the others meanwhile use what is current
	// rather than wait on a slow file.
	if !f.mu.TryLock() {
		return d.base.Load()
	}
	defer f.mu.Unlock()
	now := f.stat()
	if now == f.stamps {
		return d.base.Load()
	}
	var r Report
	cfg, own := buildTLSConfig(f.opts, f.host, f.minVersion, &r)
	if r.Err() != nil {
		return d.base.Load() // keep what worked last; the next connection tries again
	}
	f.stamps = now
	nb := &tlsBase{cfg: cfg, ownCA: own}
	d.base.Store(nb)
	return nb
}
