package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// Signing algorithms (RFC 7518 §3.1, RFC 8037 §3.1). OpenID Connect Core
// §15.1 requires every OP to support RS256; keep it enabled.
const (
	RS256 = string(jose.RS256)
	ES256 = string(jose.ES256)
	EdDSA = string(jose.EdDSA)
)

// ErrUnsupportedAlgorithm is returned for an algorithm this package does
// not make keys for, or that the Manager was not configured with.
var ErrUnsupportedAlgorithm = errors.New("keys: unsupported signing algorithm")

// SupportedAlgorithms lists the algorithms this package can make keys for.
func SupportedAlgorithms() []string { return []string{RS256, ES256, EdDSA} }

func supported(alg string) bool { return slices.Contains(SupportedAlgorithms(), alg) }

// generateKey makes a fresh key pair for alg: RSA 2048 for RS256 (the
// minimum RFC 7518 §3.3 allows), P-256 for ES256, Ed25519 for EdDSA.
func generateKey(alg string) (crypto.Signer, error) {
	switch alg {
	case RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, fmt.Errorf("%w: %q", ErrUnsupportedAlgorithm, alg)
}

// keyID names a key by its RFC 7638 JWK thumbprint (SHA-256, base64url).
// It is derived from the public key, so a kid can never name two different
// keys, and a private key can be checked against its kid after unsealing.
func keyID(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	sum, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("keys: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(sum), nil
}

// publicJWK is the public half of a signing key as published in the JWKS
// (RFC 7517 §4: "use" sig, "alg", "kid").
func publicJWK(pub crypto.PublicKey, kid, alg string) jose.JSONWebKey {
	return jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: alg, Use: "sig"}
}
