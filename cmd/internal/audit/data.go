package audit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/seal"
)

// sample is what checkData saw. Values themselves are never kept: each is
// classified and dropped.
type sample struct {
	names      int // key names looked at
	strings    int // string values read
	plain      int // neither a Fernet nor a sealed token
	foreign    int // a token that the configured keys do not open
	fernet     int // Fernet tokens that opened
	sealed     int // sealed-format tokens (docs/FORMAT.md) that opened
	unreadable int // GET refused (key pattern)
	outside    int // names whose TYPE is refused: outside the user's key pattern
	secrets    keyNameFindings
}

// checkData samples the keyspace: data.unencrypted and
// data.secret-in-keyname. It reads with SCAN, TYPE and GET only.
func checkData(r *run) {
	if r.sess == nil {
		r.cannotSee("data.unencrypted", r.noSession)
		r.cannotSee("data.secret-in-keyname", r.noSession)
		return
	}
	s, err := r.sampleKeys()
	if err != nil {
		r.cannotSee("data.unencrypted", err.Error())
		r.cannotSee("data.secret-in-keyname", err.Error())
		return
	}
	r.sampled, r.plainData, r.namesOutside = true, s.plain, s.outside
	db := fmt.Sprintf("database %d", r.ep.db)
	switch {
	case s.strings == 0 && s.unreadable == 0:
		r.add("data.unencrypted", sevInfo, "no string values to sample",
			fmt.Sprintf("SCAN found %d keys in %s and no string value among them; nothing was judged", s.names, db),
			"run the audit again when the service has cached data")
	case s.plain > 0:
		r.add("data.unencrypted", sevError, "cached values are stored unencrypted",
			fmt.Sprintf("%d of %d sampled string values in %s (%.0f%%) are not Fernet or sealed tokens%s; %s; the values were not printed",
				s.plain, s.strings, db, 100*float64(s.plain)/float64(s.strings), s.extra(), s.shares()),
			"write values through redsafe (or seal them with package seal / Python's Fernet), and delete or re-write the plaintext keys; values in Redis are readable to anyone with GET, in RDB/AOF files and in backups")
	case s.strings == 0:
		r.cannotSee("data.unencrypted", fmt.Sprintf("GET was refused for the %d string values sampled", s.unreadable))
	default:
		what := "every sampled value is sealed"
		if s.foreign > 0 {
			what = fmt.Sprintf("every sampled value looks sealed; %d could not be opened with the configured keys, so their format is not verified", s.foreign)
		}
		r.add("data.unencrypted", sevInfo, what,
			fmt.Sprintf("%d string values sampled in %s%s; %s", s.strings, db, s.extra(), s.shares()),
			"nothing to do; after switching REDIS_ENCRYPTION_FORMAT, `redsafe rotate-key` converts the values still in the other format")
	}
	if f := s.secrets.finding(); f != nil {
		f.Evidence = fmt.Sprintf("of %d key names in %s: %s", s.names, db, f.Evidence)
		r.report.add(*f)
	}
}

// shares says how many of the sampled values are in each format: what is
// left for `redsafe rotate-key` to convert after a switch of format.
func (s sample) shares() string {
	pct := func(n int) float64 { return 100 * float64(n) / float64(max(s.strings, 1)) }
	return fmt.Sprintf("formats: %d Fernet (%.0f%%), %d sealed (%.0f%%), %d neither (%.0f%%), %d unverified (%.0f%%: tokens of keys this audit does not have)",
		s.fernet, pct(s.fernet), s.sealed, pct(s.sealed), s.plain, pct(s.plain), s.foreign, pct(s.foreign))
}

// extra describes the tokens from other keys and the unreadable keys.
func (s sample) extra() string {
	var parts []string
	if s.foreign > 0 {
		parts = append(parts, fmt.Sprintf("%d more are tokens the configured keys do not open", s.foreign))
	}
	if s.unreadable > 0 {
		parts = append(parts, fmt.Sprintf("GET was refused for %d", s.unreadable))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// sampleKeys walks SCAN until it has Sample string values or 10×Sample
// names, whichever comes first.
func (r *run) sampleKeys() (sample, error) {
	var s sample
	maxNames := 10 * r.target.Sample
	cursor := "0"
	for {
		v, err := r.do("SCAN", cursor, "COUNT", "100")
		if err != nil || v.IsError() || len(v.Elems) != 2 {
			return s, errors.New("SCAN: " + why(v, err))
		}
		cursor = v.Elems[0].Str
		for _, k := range v.Elems[1].Elems {
			name := k.Str
			s.names++
			if !hashedName(r.target.Options, name) {
				s.secrets.look(name)
			}
			if s.strings+s.unreadable < r.target.Sample {
				if err := r.judgeValue(&s, name); err != nil {
					return s, err
				}
			}
			if s.names >= maxNames {
				return s, nil
			}
		}
		if cursor == "0" || (s.strings+s.unreadable >= r.target.Sample && s.names >= r.target.Sample) {
			return s, nil
		}
	}
}

// judgeValue reads one key if it holds a string and classifies the value.
func (r *run) judgeValue(s *sample, key string) error {
	t, err := r.do("TYPE", key)
	if err != nil {
		return err
	}
	if t.IsError() && strings.HasPrefix(t.Str, "NOPERM") {
		s.outside++ // SCAN listed a name this user may not touch
		return nil
	}
	if t.Str != "string" {
		return nil
	}
	v, err := r.do("GET", key)
	switch {
	case err != nil:
		return err
	case v.IsError():
		s.unreadable++
		return nil
	case v.Nil: // expired in between
		return nil
	}
	s.strings++
	kind := tokenKind(r.ep.sealer, key, []byte(v.Str))
	// Only a value that opened is counted in its format: a first byte
	// says little (0x91 starts a MessagePack array too).
	if f, _ := seal.TokenFormat([]byte(v.Str)); kind == ownToken && f == seal.Sealed {
		s.sealed++
	} else if kind == ownToken {
		s.fernet++
	}
	switch kind {
	case notToken:
		s.plain++
	case foreignToken:
		s.foreign++
	}
	return nil
}

type tokenClass int

const (
	ownToken tokenClass = iota
	foreignToken
	notToken
)

// tokenKind tells a Fernet token from anything else with package seal
// itself: a structurally valid token under an unknown key fails
// authentication, anything else is malformed. Without a configured key a
// throwaway key tells the same.
func tokenKind(s *seal.Sealer, name string, value []byte) tokenClass {
	if s == nil {
		s = seal.New(seal.GenerateKey())
	}
	_, err := s.OpenFor(nil, name, value, 0)
	switch {
	case err == nil, errors.Is(err, seal.ErrBadPadding):
		return ownToken
	case errors.Is(err, seal.ErrAuthentication):
		return foreignToken
	}
	return notToken
}

// checkPersistence: persistence.plaintext-dump.
func checkPersistence(r *run) {
	save, okSave := r.config("save")
	aof, okAOF := r.config("appendonly")
	if !okSave || !okAOF {
		r.cannotSee("persistence.plaintext-dump", r.configWhy())
		return
	}
	var on []string
	if strings.TrimSpace(save) != "" {
		on = append(on, "RDB snapshots (save "+strconv.Quote(save)+")")
	}
	if aof == "yes" {
		on = append(on, "the append-only file (appendonly yes)")
	}
	if len(on) == 0 {
		return
	}
	if !r.sampled {
		r.cannotSee("persistence.plaintext-dump", "persistence is on, but the values could not be sampled")
		return
	}
	if r.plainData == 0 {
		return
	}
	dir, _ := r.config("dir")
	r.add("persistence.plaintext-dump", sevError, "unencrypted values are written to disk",
		fmt.Sprintf("%s is on and %d sampled values are plaintext: they persist in %s and in every backup of it", strings.Join(on, " and "), r.plainData, orDefault(dir, "the data directory")),
		"encrypt the values (see data.unencrypted); for a cache, turn persistence off (`save \"\"`, `appendonly no`); otherwise keep dir on an encrypted volume with mode 0700 and protect the backups")
}

// hashedName reports whether name is a hashed key name of o's
// (HashedKeyPrefixes, docs/FORMAT.md): KeyPrefix, a configured prefix and
// 43 characters of URL-safe base64, the HMAC that hides what the name
// held. Such a name is the fix for a secret in a key name, not one.
func hashedName(o redsafe.Options, name string) bool {
	rest, ok := strings.CutPrefix(name, o.KeyPrefix)
	if !ok {
		return false
	}
	for _, p := range o.HashedKeyPrefixes {
		if p == "*" {
			p = ""
		}
		if h, ok := strings.CutPrefix(rest, p); ok && len(h) == 43 && strings.Trim(h, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == "" {
			return true
		}
	}
	return false
}
