package envfile

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	in := `# comment
REDIS_URL=rediss://h:6380/0
export REDIS_PASSWORD='p@ss:w%rd #not a comment'
QUOTED="a \"b\" \$c"
  SPACED = plain value # trailing comment
EMPTY=
`
	got, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"REDIS_URL":      "rediss://h:6380/0",
		"REDIS_PASSWORD": "p@ss:w%rd #not a comment",
		"QUOTED":         `a "b" $c`,
		"SPACED":         "plain value",
		"EMPTY":          "",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d vars %v, want %d", len(got), got, len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestParseErrorsHideValues(t *testing.T) {
	for _, in := range []string{"NOEQUALS", "1BAD=x", "P='s3cr3tvalue", `P="s3cr3tvalue`} {
		_, err := Parse(strings.NewReader(in))
		if err == nil {
			t.Errorf("Parse(%q) succeeded", in)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("error %q quotes the value", err)
		}
	}
}

func TestQuoteRoundTrip(t *testing.T) {
	for _, v := range []string{"", "plain", "p@ss:w%rd", "it's", `a"b'c$d\e` + "`f`", "# hash", " lead"} {
		got, err := Parse(strings.NewReader("V=" + Quote(v) + "\n"))
		if err != nil {
			t.Fatalf("Quote(%q): %v", v, err)
		}
		if got["V"] != v {
			t.Errorf("Quote(%q) read back as %q", v, got["V"])
		}
	}
}
