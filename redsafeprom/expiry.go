package redsafeprom

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// certExpiry exports the days left on the server certificate. It stores
// the certificate's NotAfter and computes the days at each scrape, because
// a connection can live for weeks: a value computed at the handshake would
// stay frozen while the real deadline comes closer. Before any handshake,
// and without TLS, it exports nothing rather than a misleading number.
type certExpiry struct {
	desc     *prometheus.Desc
	notAfter atomic.Pointer[time.Time]
}

func newCertExpiry(desc *prometheus.Desc) *certExpiry { return &certExpiry{desc: desc} }

func (e *certExpiry) set(t time.Time) { e.notAfter.Store(&t) }

func (e *certExpiry) Describe(ch chan<- *prometheus.Desc) { ch <- e.desc }

func (e *certExpiry) Collect(ch chan<- prometheus.Metric) {
	if t := e.notAfter.Load(); t != nil {
		ch <- prometheus.MustNewConstMetric(e.desc, prometheus.GaugeValue, time.Until(*t).Hours()/24)
	}
}
