package redsafe

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// buildTLSConfig turns TLSOptions into a tls.Config, loading and checking
// the files it names. Problems become findings, so that Validate can report
// them without connecting. own is the CA file's certificates alone (nil
// without a CA file): what a node the seeds did not name is verified
// against.
func buildTLSConfig(o TLSOptions, host string, minVersion uint16, r *Report) (cfg *tls.Config, own *x509.CertPool) {
	cfg = &tls.Config{
		MinVersion: minVersion,
		ServerName: o.ServerName,
		// Resumed sessions skip the certificate exchange and the expensive
		// signature, so reconnects cost a round trip rather than a handshake.
		ClientSessionCache: tls.NewLRUClientSessionCache(64),
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}

	roots, err := x509.SystemCertPool()
	if err != nil {
		roots = x509.NewCertPool()
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		own = x509.NewCertPool()
		switch {
		case err != nil:
			r.add("tls.ca-file", SeverityError, "point "+EnvTLSCACert+" at a readable PEM file, such as the ca.crt that `redsafe certs` writes",
				"cannot read the CA bundle: %v", pathError(err))
		case !own.AppendCertsFromPEM(pem):
			r.add("tls.ca-file", SeverityError, "point "+EnvTLSCACert+" at a PEM file of CA certificates",
				"the CA bundle %s holds no PEM certificate", o.CAFile)
		default:
			roots.AppendCertsFromPEM(pem)
		}
	}
	cfg.RootCAs = roots

	switch {
	case o.CertFile != "" && o.KeyFile == "":
		r.add("tls.client-cert", SeverityError, "set "+EnvTLSKey+" to the client certificate's key, or unset "+EnvTLSCert,
			"a client certificate is set without its key")
	case o.CertFile == "" && o.KeyFile != "":
		r.add("tls.client-cert", SeverityError, "set "+EnvTLSCert+" to the client certificate, or unset "+EnvTLSKey,
			"a client key is set without its certificate")
	case o.CertFile != "":
		pair, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			r.add("tls.client-cert", SeverityError, "check "+EnvTLSCert+" and "+EnvTLSKey+" name a matching PEM certificate and key",
				"cannot load the client certificate: %v", pathError(err))
			break
		}
		cfg.Certificates = []tls.Certificate{pair}
		if fi, err := os.Stat(o.KeyFile); err == nil && fi.Mode().Perm()&0o077 != 0 {
			r.add("tls.key-permissions", SeverityWarning, "chmod 600 "+o.KeyFile,
				"the client key %s is readable by other users (mode %04o)", o.KeyFile, fi.Mode().Perm())
		}
	}

	switch o.Verify {
	case VerifyOptional:
		// Verify the chain against the configured CA only, without the host
		// name: the documented meaning of ssl_cert_reqs=optional.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = verifyChainOnly(own)
	case VerifyNone:
		cfg.InsecureSkipVerify = true
	}
	return cfg, own
}

func verifyChainOnly(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if roots == nil {
			return errors.New("no CA configured to verify the server certificate")
		}
		if len(cs.PeerCertificates) == 0 {
			return errors.New("server sent no certificate")
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter})
		return err
	}
}

// pathError keeps the path and reason of a file error, without Go's
// "open " prefix noise.
func pathError(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %v", pe.Path, pe.Err)
	}
	return err.Error()
}
