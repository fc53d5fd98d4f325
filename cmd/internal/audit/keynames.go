package audit

import (
	"fmt"
	"github.com/redsafe/redsafe"
	"github.com/redsafe/redsafe/cmd/internal/keyname"
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// keyNamePattern is one kind of secret that key names should not carry.
type keyNamePattern struct {
	kind     string
	severity redsafe.Severity
	find     func(name string) [][]int // every match, as [start, end)
}

var (
	jwtRE   = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*`)
	tokenRE = regexp.MustCompile(`(?i)bearer[ :_-]+[A-Za-z0-9._~+/-]{16,}|sk_(?:live|test)_[A-Za-z0-9]{16,}|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}`)
	emailRE = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`)
	// segmentRE splits key names at the usual separators.
	segmentRE = regexp.MustCompile(`[^:/|{}\s,;]+`)
)

var keyNamePatterns = []keyNamePattern{
	{"bearer tokens (JWT)", sevError, reFind(jwtRE)},
	{"API tokens", sevError, reFind(tokenRE)},
	{"email addresses", sevWarning, reFind(emailRE)},
	{"long random strings (session ids, tokens, hashes)", sevNotice, randomSegments},
}

func reFind(re *regexp.Regexp) func(string) [][]int {
	return func(name string) [][]int { return re.FindAllStringIndex(name, -1) }
}

// randomSegments finds segments of at least 24 characters from a token
// alphabet whose characters look random: about 3.5 bits of entropy per
// character or more (hex is 4, English words about 2.5-3).
func randomSegments(name string) [][]int {
	var out [][]int
	for _, loc := range segmentRE.FindAllStringIndex(name, -1) {
		seg := name[loc[0]:loc[1]]
		if len(seg) >= 24 && tokenAlphabet(seg) && entropy(seg) >= 3.5 {
			out = append(out, loc)
		}
	}
	return out
}

func tokenAlphabet(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_+/=.~", c)) {
			return false
		}
	}
	return true
}

// entropy is the Shannon entropy of s in bits per character.
func entropy(s string) float64 {
	counts := map[rune]float64{}
	for _, c := range s {
		counts[c]++
	}
	n := float64(utf8.RuneCountInString(s))
	h := 0.0
	for _, c := range counts {
		p := c / n
		h -= p * math.Log2(p)
	}
	return h
}

// keyNameFindings counts key names by the first kind they match, keeping
// one masked example of each.
type keyNameFindings struct {
	count   [4]int
	example [4]string
}

func (k *keyNameFindings) look(name string) {
	for i, p := range keyNamePatterns {
		if len(p.find(name)) > 0 {
			k.count[i]++
			if k.example[i] == "" {
				k.example[i] = keyname.Mask(name) // the one masking of key names
			}
			return
		}
	}
}

// finding summarises the matches in one finding at the worst severity, or
// returns nil when no name matched.
func (k *keyNameFindings) finding() *Finding {
	var parts []string
	var sev redsafe.Severity
	for i, p := range keyNamePatterns {
		if k.count[i] == 0 {
			continue
		}
		if sev == "" || p.severity.AtLeast(sev) {
			sev = p.severity
		}
		verb := "names look"
		if k.count[i] == 1 {
			verb = "name looks"
		}
		parts = append(parts, fmt.Sprintf("%d %s like %s, e.g. %s", k.count[i], verb, p.kind, k.example[i]))
	}
	if len(parts) == 0 {
		return nil
	}
	return &Finding{ID: "data.secret-in-keyname", Severity: sev,
		Message:  "key names carry secrets or personal data",
		Evidence: strings.Join(parts, "; ") + " (masked)",
		Fix: "key by a digest instead: e.g. session:<HMAC-SHA256(secret, token)> or user:<id>, never the token or email itself; " +
			"key names are not encrypted and are shown to anyone who may SCAN, in MONITOR, slowlog, ACL LOG and RDB files"}
}
