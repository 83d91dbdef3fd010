package mfa

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
)

// Recovery codes are shown once after enrolment and each one replaces a
// TOTP code once (DESIGN §3 MFA).
const (
	// RecoveryCodeCount is how many codes an enrolment gets.
	RecoveryCodeCount = 10
	// recoveryCodeLen is the characters in a code, without the hyphen.
	recoveryCodeLen = 10
	// maxRecoveryInput bounds the input HashRecoveryCode looks at.
	maxRecoveryInput = 64
)

// recoveryAlphabet is RFC 4648 base32 in lower case: 32 symbols, so one
// random byte masked to 5 bits picks one uniformly. It has no 0, 1, 8 or 9,
// so o, l, i and b cannot be mistaken for digits.
const recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// NewRecoveryCodes returns RecoveryCodeCount distinct codes formatted for
// display ("xxxxx-xxxxx") and their hashes (HashRecoveryCode with key) for
// storage, in the same order.
func NewRecoveryCodes(key []byte) (codes []string, hashes [][]byte) {
	seen := make(map[string]bool, RecoveryCodeCount)
	for len(codes) < RecoveryCodeCount {
		raw := make([]byte, recoveryCodeLen)
		rand.Read(raw) // never returns an error (crypto/rand, Go 1.24+)
		for i, b := range raw {
			raw[i] = recoveryAlphabet[b&31]
		}
		s := string(raw)
		if seen[s] { // 2^-50 per pair; kept so the count is a guarantee
			continue
		}
		seen[s] = true
		codes = append(codes, s[:5]+"-"+s[5:])
		hashes = append(hashes, hashNormalised(key, s))
	}
	return codes, hashes
}

// HashRecoveryCode normalises a code as a user may type it (any case,
// spaces and hyphens anywhere) and returns its HMAC-SHA256 under key, the
// value the store keeps and looks up. It returns false, without hashing,
// for input that cannot be a code: a wrong length or a character outside
// the alphabet (only ASCII is accepted: no Unicode case folding).
//
// A fast hash is enough here, unlike for passwords: codes are random, not
// chosen by people. But 50 bits are within reach of a GPU given the
// hashes, so the hash is keyed: key is derived from the master key
// (keys.Sealer.DeriveKey("mfa/recovery")), and a copy of the database
// alone does not let anyone test guesses.
func HashRecoveryCode(key []byte, code string) ([]byte, bool) {
	if len(code) > maxRecoveryInput {
		return nil, false
	}
	out := make([]byte, 0, recoveryCodeLen)
	for i := 0; i < len(code); i++ {
		b := code[i]
		switch {
		case b == ' ' || b == '\t' || b == '-':
			continue
		case b >= 'A' && b <= 'Z':
			b += 'a' - 'A'
		}
		if !inAlphabet(b) || len(out) == recoveryCodeLen {
			return nil, false
		}
		out = append(out, b)
	}
	if len(out) != recoveryCodeLen {
		return nil, false
	}
	return hashNormalised(key, string(out)), true
}

func inAlphabet(b byte) bool {
	return (b >= 'a' && b <= 'z') || (b >= '2' && b <= '7')
}

func hashNormalised(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}
