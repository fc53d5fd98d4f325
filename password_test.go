package redsafe

import (
	"math"
	"strings"
	"testing"
)

// TestPasswordBits checks the estimate exactly: the test computes each
// value with the same float64 operations as the formula in PasswordBits'
// doc, so any change to the pool sizes, the classes or the run rule fails.
func TestPasswordBits(t *testing.T) {
	tests := []struct {
		pw   string
		want float64
	}{
		{"", 0}, // no class, no pool
		{"a", 1 * math.Log2(26)},
		{"aaaaaaaa", 1 * math.Log2(26)}, // one run of one character: effective length 1
		{"aaaabbbb", 2 * math.Log2(26)}, // two runs
		{"abab", 4 * math.Log2(26)},     // only consecutive repeats collapse
		{"abcdefgh", 8 * math.Log2(26)},
		{"abcDEF12", 8 * math.Log2(62)},
		{"ab!D", 4 * math.Log2(26+26+33)},
		{"a b", 3 * math.Log2(26+33)}, // space is a symbol
		{"aab", 2 * math.Log2(26)},
		{"ü1", 2 * math.Log2(110)},
		{"12345678", 8 * math.Log2(10)},
	}
	for _, tt := range tests {
		if got := PasswordBits(tt.pw); got != tt.want {
			t.Errorf("PasswordBits(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}

func TestPlaceholderPasswords(t *testing.T) {
	for _, pw := range []string{"change-me-in-production", "CHANGE_ME_IN_PRODUCTION", "secure_default_password",
		"password", "Password!", "foobared", "please-changeme-0123456789abcdefghijklmnopqrstuv", "your_password_here"} {
		if !isPlaceholderPassword(pw) {
			t.Errorf("%q not recognised as a placeholder", pw)
		}
	}
	for _, pw := range []string{"Zt8Kp3vQ9wLm2Xr7", GeneratePassword(Production)} {
		if isPlaceholderPassword(pw) {
			t.Errorf("%q wrongly taken for a placeholder", pw)
		}
	}
}

func TestRepeatedPattern(t *testing.T) {
	for _, pw := range []string{"aaaaaaaaaaaa", "abababababab", "abcabcabcab", "Xy1!Xy1!Xy1!Xy1!", "12345678123456781"} {
		if !isRepeatedPattern(pw) {
			t.Errorf("%q not recognised as repeated", pw)
		}
	}
	for _, pw := range []string{"abcabcabcabd", "Zt8Kp3vQ9wLm2Xr7", "a", "123456789abcdefgh123456789abcdefgh"} {
		if isRepeatedPattern(pw) {
			t.Errorf("%q wrongly taken for a repeated pattern", pw)
		}
	}
}

func TestGeneratePasswordMeetsPolicy(t *testing.T) {
	for env, n := range map[Environment]int{Production: 48, Staging: 32, Development: 24, Testing: 12} {
		seen := map[string]bool{}
		for range 50 {
			pw := GeneratePassword(env)
			if len(pw) != n || strings.Trim(pw, passwordAlphabet) != "" {
				t.Fatalf("%s: %q has length %d or foreign characters; want %d", env, pw, len(pw), n)
			}
			if fs := passwordFindings(pw, PolicyFor(env)); len(fs) > 0 {
				t.Fatalf("%s: generated password fails the policy: %+v", env, fs)
			}
			if seen[pw] {
				t.Fatalf("%s: duplicate password", env)
			}
			seen[pw] = true
		}
	}
}
