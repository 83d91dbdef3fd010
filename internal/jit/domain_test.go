package jit

import (
	"errors"
	"strings"
	"testing"
)

var normalizeDomainTests = []struct {
	in, want string // want "" means refused
}{
	{"example.com", "example.com"},
	{"Example.COM", "example.com"},
	{"ACME.TEST", "acme.test"},
	{"Bücher.example", "xn--bcher-kva.example"},
	{"BÜCHER.Example", "xn--bcher-kva.example"},
	{"xn--bcher-kva.example", "xn--bcher-kva.example"},
	{"XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"},
	{"example.com.", "example.com"},
	{"  example.com  ", "example.com"},
	{"\texample.com.\n", "example.com"},
	{"mail.eu.example.co.uk", "mail.eu.example.co.uk"},
	{"a-b.example", "a-b.example"},
	{strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com"},

	{"", ""},
	{"   ", ""},
	{".", ""},
	{"com", ""},
	{"com.", ""},
	{"localhost", ""},
	{"a@b.com", ""},
	{"@b.com", ""},
	{"exa mple.com", ""},
	{"exa/mple.com", ""},
	{"-bad-.com", ""},
	{"bad-.com", ""},
	{"-bad.com", ""},
	{strings.Repeat("a", 64) + ".com", ""},
	{"..", ""},
	{"foo..bar", ""},
	{".example.com", ""},
	{"example.com..", ""},
	{"a..", ""},
	{"exa_mple.com", ""},
	// Invalid UTF-8 (found by FuzzNormalizeDomain).
	{"\xda.0", ""},
	{"b\xfccher.example", ""},
}

func TestNormalizeDomain(t *testing.T) {
	for _, tc := range normalizeDomainTests {
		got, err := NormalizeDomain(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidDomain) {
				t.Errorf("NormalizeDomain(%q) = %q, %v; want ErrInvalidDomain", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("NormalizeDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestEmailDomain(t *testing.T) {
	for _, tc := range []struct {
		in, want string // want "" means refused
	}{
		{"Ann@ACME.test", "acme.test"},
		{"ann@acme.test", "acme.test"},
		{"ann@Bücher.example", "xn--bcher-kva.example"},
		{"ann@acme.test.", "acme.test"},
		// The domain is after the last @.
		{`"a@b"@acme.test`, "acme.test"},

		{"", ""},
		{"ann", ""},
		{"acme.test", ""},
		{"@x.com", ""},
		{"ann@", ""},
		{"ann@com", ""},
		{"ann@localhost", ""},
		{"ann@exa mple.com", ""},
	} {
		got, err := EmailDomain(tc.in)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalidDomain) {
				t.Errorf("EmailDomain(%q) = %q, %v; want ErrInvalidDomain", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("EmailDomain(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestIsPublicMailDomain(t *testing.T) {
	for _, tc := range []struct {
		d    string
		want bool
	}{
		{"gmail.com", true},
		{"outlook.com", true},
		{"proton.me", true},
		{"acme.test", false},
		{"mail.gmail.com", false},
		{"", false},
	} {
		if got := IsPublicMailDomain(tc.d); got != tc.want {
			t.Errorf("IsPublicMailDomain(%q) = %v, want %v", tc.d, got, tc.want)
		}
	}
}

// A normalised domain is lowercase ASCII with at least two labels and no
// trailing dot, and normalises to itself.
func FuzzNormalizeDomain(f *testing.F) {
	for _, tc := range normalizeDomainTests {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		d, err := NormalizeDomain(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidDomain) {
				t.Fatalf("NormalizeDomain(%q): error %v is not ErrInvalidDomain", in, err)
			}
			return
		}
		for i := range len(d) {
			if c := d[i]; c >= 0x80 || ('A' <= c && c <= 'Z') {
				t.Fatalf("NormalizeDomain(%q) = %q: not lowercase ASCII", in, d)
			}
		}
		if strings.HasSuffix(d, ".") {
			t.Fatalf("NormalizeDomain(%q) = %q: trailing dot", in, d)
		}
		if !strings.Contains(d, ".") {
			t.Fatalf("NormalizeDomain(%q) = %q: a single label", in, d)
		}
		again, err := NormalizeDomain(d)
		if err != nil || again != d {
			t.Fatalf("NormalizeDomain(%q) = %q, but NormalizeDomain(%q) = %q, %v", in, d, d, again, err)
		}
	})
}
