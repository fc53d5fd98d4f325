package certs

import (
	"fmt"
	"os"

	"github.com/redsafe/redsafe/internal/secretfile"
)

// Modes are fixed: keys are secrets, certificates are public.
const (
	KeyFileMode  os.FileMode = secretfile.Mode
	CertFileMode os.FileMode = secretfile.PublicMode
)

// WriteKey writes a private key file with mode 0600.
func WriteKey(path string, pemData []byte) error { return write(path, pemData, KeyFileMode) }

// WriteCert writes a certificate file with mode 0644.
func WriteCert(path string, pemData []byte) error { return write(path, pemData, CertFileMode) }

// write replaces path atomically (secretfile.Replace): the umask cannot
// change the mode, a key is never briefly readable, a symlink at path is
// replaced and never followed, and readers never see a partial file.
func write(path string, data []byte, mode os.FileMode) error {
	if err := secretfile.Replace(path, data, mode); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}
