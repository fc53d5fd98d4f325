package termsafe

import "testing"

// Code points that unicode.IsPrint calls printable but that a terminal
// draws as nothing: a server could hide or pad text with them as with a
// zero-width space, so they are escaped too.
func TestEscapeBlankPrintables(t *testing.T) {
	for in, want := range map[string]string{
		"ok\u3164\u3164":    `ok\u3164\u3164`,    // Hangul filler
		"\u115f\u1160x":     `\u115f\u1160x`,     // Hangul choseong/jungseong fillers
		"\uffa0":            `\uffa0`,            // halfwidth Hangul filler
		"a\u034fb":          `a\u034fb`,          // combining grapheme joiner
		"a\u17b4\u17b5b":    `a\u17b4\u17b5b`,    // Khmer inherent vowels
		"a\u180bb":          `a\u180bb`,          // Mongolian free variation selector
		"a\ufe0fb":          `a\ufe0fb`,          // variation selector
		"a\U000e0100b":      `a\U000e0100b`,      // variation selector supplement
		"caf\u00e9 \u0301x": "caf\u00e9 \u0301x", // visible accents are kept
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}
