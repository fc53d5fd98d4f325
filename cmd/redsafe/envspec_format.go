package main

import (
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/redsafe/redsafe/internal/redact"
)

// envSpecView is what an envSpec prints: the password and the key are what
// the env file is for, and never what a debugging line shows.
type envSpecView struct {
	Environment  string
	Host         string
	Port         int
	Addrs        []string
	User         string
	Password     string
	PasswordFile string
	Key          string
	CAFile       string
	CertFile     string
	KeyFile      string
	MasterSet    string `json:",omitempty"`
	SentinelUser string `json:",omitempty"`
	// EncryptionKeyFile is a path, shown as it is.
	EncryptionKeyFile string `json:",omitempty"`
}

func (s envSpec) view() envSpecView {
	return envSpecView{Environment: string(s.Environment), Host: s.Host, Port: s.Port, Addrs: s.Addrs, User: s.User,
		Password: redact.Secret(s.Password), PasswordFile: s.PasswordFile, Key: redact.KeyID(s.Key),
		CAFile: s.CAFile, CertFile: s.CertFile, KeyFile: s.KeyFile, MasterSet: s.MasterSet, SentinelUser: s.SentinelUser,
		EncryptionKeyFile: s.EncryptionKeyFile}
}

func (s envSpec) String() string                { return redact.String("envSpec", s.view()) }
func (s envSpec) GoString() string              { return s.String() }
func (s envSpec) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String()) }
func (s envSpec) LogValue() slog.Value          { return redact.LogValue(s.view()) }
func (s envSpec) MarshalJSON() ([]byte, error)  { return json.Marshal(s.view()) }
