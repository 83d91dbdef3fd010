package mfa

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"testing"
)

func TestNewRecoveryCodes(t *testing.T) {
	codes, hashes := NewRecoveryCodes(testKey)
	if len(codes) != RecoveryCodeCount || len(hashes) != RecoveryCodeCount {
		t.Fatalf("got %d codes and %d hashes, want %d", len(codes), len(hashes), RecoveryCodeCount)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 11 || c[5] != '-' || strings.Trim(c[:5]+c[6:], recoveryAlphabet) != "" {
			t.Errorf("code %q is not xxxxx-xxxxx over %s", c, recoveryAlphabet)
		}
		if seen[c] {
			t.Errorf("code %q repeated", c)
		}
		seen[c] = true
		h, ok := HashRecoveryCode(testKey, c)
		if !ok || !bytes.Equal(h, hashes[i]) {
			t.Errorf("HashRecoveryCode(%q) = %x, %v; NewRecoveryCodes gave %x", c, h, ok, hashes[i])
		}
	}
	// A second set shares nothing with the first.
	again, _ := NewRecoveryCodes(testKey)
	for _, c := range again {
		if seen[c] {
			t.Errorf("code %q in two sets", c)
		}
	}
}

func TestHashRecoveryCode(t *testing.T) {
	m := hmac.New(sha256.New, testKey)
	m.Write([]byte("abcdefgh23"))
	want := m.Sum(nil)
	for _, s := range []string{
		"abcde-fgh23",
		"abcdefgh23",
		"ABCDE-FGH23",
		"AbCdE-fGh23",
		" abcde fgh23 ",
		"abcde - fgh23",
		"a-b-c-d-e-f-g-h-2-3",
		"\tabcde-fgh23\t",
		"--abcdefgh23--",
	} {
		h, ok := HashRecoveryCode(testKey, s)
		if !ok || !bytes.Equal(h, want) {
			t.Errorf("HashRecoveryCode(%q) = %x, %v; want %x", s, h, ok, want)
		}
	}
	for _, s := range []string{
		"",
		"-----",
		"abcde-fgh2",                           // 9
		"abcde-fgh234",                         // 11
		"abcde-fgh01",                          // 0, 1 are not in the alphabet
		"abcde-fgh89",                          // nor 8, 9
		"abcde_fgh23",                          // only hyphens and spaces are separators
		"abcde\nfgh23",                         // not a newline either
		"abcde-fgh2\u00e9",                     // é
		"abcde-fgh2\u212a",                     // Kelvin sign, which Unicode lowercases to k
		"\uff41bcde-fgh23",                     // full-width a
		"abcde\u00a0fgh23",                     // no-break space
		strings.Repeat(" ", 60) + "abcdefgh23", // over the input bound
	} {
		if h, ok := HashRecoveryCode(testKey, s); ok || h != nil {
			t.Errorf("HashRecoveryCode(%q) = %x, %v; want refused", s, h, ok)
		}
	}
}

// testKey stands for the key derived from the master key.
var testKey = []byte("0123456789abcdef0123456789abcdef")
