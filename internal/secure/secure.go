// Package secure makes random identifiers and secrets and compares and
// hashes them. Every secret orgid hands out comes from here.
package secure

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"strings"
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ID returns prefix + "_" + 20 random lowercase base32 characters (100 bits),
// e.g. "usr_k3x...". Without a prefix it is just the random part.
func ID(prefix string) string {
	var b [13]byte
	rand.Read(b[:])
	s := idEncoding.EncodeToString(b[:])[:20]
	if prefix == "" {
		return s
	}
	return prefix + "_" + s
}

// TokenLen is the length of a Token.
const TokenLen = 43

// Token returns a 256-bit random secret, base64url without padding (TokenLen characters).
func Token() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Hash returns the SHA-256 of a high-entropy secret. Secrets made by Token
// need no slow hash: guessing 256 bits is hopeless either way.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// Equal compares two byte strings in constant time.
func Equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

// EqualString compares two strings in constant time.
func EqualString(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// Slug lowercases s and joins its words (runs of letters and digits) with "-".
func Slug(s string) string {
	var words []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			words = append(words, cur.String())
			cur.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			cur.WriteRune(r)
		} else {
			flush()
		}
	}
	flush()
	return strings.Join(words, "-")
}
