package redsafe

import (
	"crypto/rand"
	"math"
	"strings"
	"unicode"
)

// PasswordBits is a conservative estimate of a password's entropy in bits:
//
//	bits = effective length × log2(pool)
//
// The pool is the sum of the sizes of the character classes that appear:
// 26 lower-case, 26 upper-case, 10 digits, 33 ASCII symbols and space, and
// 100 for anything outside ASCII. The effective length counts each run of one
// repeated character once, so "aaaa" weighs as much as "a". The estimate
// assumes the characters were chosen at random; a human-chosen password has
// far less, which is why placeholders and repeated patterns are refused
// separately.
func PasswordBits(password string) float64 {
	var lower, upper, digit, symbol, other bool
	length := 0
	var prev rune = -1
	for _, r := range password {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r < unicode.MaxASCII && unicode.IsPrint(r):
			symbol = true
		default:
			other = true
		}
		if r != prev {
			length++
		}
		prev = r
	}
	pool := 0
	for _, c := range []struct {
		present bool
		size    int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {symbol, 33}, {other, 100}} {
		if c.present {
			pool += c.size
		}
	}
	if pool < 2 {
		return 0
	}
	return float64(length) * math.Log2(float64(pool))
}

// placeholderPasswords are defaults and examples copied from documentation
// and sample files. They are compared after lower-casing and removing
// everything but letters and digits, so "Change-Me_In-Production" matches.
var placeholderPasswords = []string{
	"changemeinproduction", "securedefaultpassword", "password", "changeme", "changeit",
	"foobared", "redis", "redispassword", "secret", "default", "admin", "root", "letmein",
	"yourpassword", "yourpasswordhere", "yourredispassword", "replaceme", "example",
	"examplepassword", "test", "testpassword", "qwerty", "123456", "12345678", "123456789",
	"pass", "passw0rd", "p4ssw0rd", "mypassword", "supersecret", "topsecret", "todo", "fixme",
}

// placeholderMarkers refuse longer variants such as
// "please-change-me-before-deploying-0123456789abcdef".
var placeholderMarkers = []string{"changeme", "replaceme", "yourpassword", "placeholder", "insertpassword", "defaultpassword"}

func isPlaceholderPassword(password string) bool {
	var b strings.Builder
	for _, r := range strings.ToLower(password) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	norm := b.String()
	for _, p := range placeholderPasswords {
		if norm == p {
			return true
		}
	}
	for _, m := range placeholderMarkers {
		if strings.Contains(norm, m) {
			return true
		}
	}
	return false
}

// isRepeatedPattern reports whether password is one unit of up to eight
// characters repeated, like "aaaaaaaa" or "abcabcabcab": whatever its length,
// it has the entropy of the unit.
func isRepeatedPattern(password string) bool {
	r := []rune(password)
	for unit := 1; unit <= len(r)/2 && unit <= 8; unit++ {
		repeated := true
		for i := unit; i < len(r); i++ {
			if r[i] != r[i-unit] {
				repeated = false
				break
			}
		}
		if repeated {
			return true
		}
	}
	return false
}

// passwordAlphabet is safe unescaped in URLs, shells, env files and Redis
// ACL files, and gives 6 bits a character.
const passwordAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// GeneratePassword returns a random password of the policy's minimum length
// (48, 32, 24 or 12 characters) that passes the policy of env.
func GeneratePassword(env Environment) string {
	p := PolicyFor(env)
	for {
		b := make([]byte, p.MinPasswordLength)
		rand.Read(b) // never fails: crypto/rand aborts the program instead
		for i := range b {
			// 256 is a multiple of 64, so the modulo adds no bias.
			b[i] = passwordAlphabet[int(b[i])%len(passwordAlphabet)]
		}
		// A random draw can, rarely, look like a pattern; draw again then.
		if pw := string(b); len(passwordFindings(pw, p)) == 0 {
			return pw
		}
	}
}
