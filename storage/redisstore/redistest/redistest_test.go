package redistest

import "testing"

func TestMatchPattern(t *testing.T) {
	for in, want := range map[string]string{
		"orgidtest:ab12:": "orgidtest:ab12:*",
		`a*b?c[d]e\`:      `a\*b\?c\[d\]e\\*`,
	} {
		if got := matchPattern(in); got != want {
			t.Errorf("matchPattern(%q) = %q, want %q", in, got, want)
		}
	}
}
