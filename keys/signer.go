package keys

import (
	"crypto"
	"fmt"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// Token types for the JWS "typ" header.
const (
	// TypeJWT marks ID tokens (RFC 7519 §5.1).
	TypeJWT = "JWT"
	// TypeAccessToken marks JWT access tokens (RFC 9068 §2.1), so that an
	// access token cannot be passed off as an ID token or the reverse.
	TypeAccessToken = "at+jwt"
)

// Signer signs tokens with one tenant's active key for one algorithm. It
// is immutable apart from its cache of go-jose signers and safe for
// concurrent use; a Manager hands out the same Signer until the key
// rotates.
type Signer struct {
	kid string
	alg jose.SignatureAlgorithm
	key crypto.Signer
	// byTyp caches one jose.Signer per "typ" header value: go-jose bakes the
	// headers into the signer, and building one per token would be waste.
	byTyp sync.Map // string → jose.Signer
}

// newSigner wraps a private key. It builds the signers for the two token
// types orgid issues up front, which also proves that key fits alg.
func newSigner(kid, alg string, key crypto.Signer) (*Signer, error) {
	s := &Signer{kid: kid, alg: jose.SignatureAlgorithm(alg), key: key}
	for _, typ := range []string{TypeJWT, TypeAccessToken} {
		if _, err := s.joseSigner(typ); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// KeyID is the key's "kid".
func (s *Signer) KeyID() string { return s.kid }

// Algorithm is the JWS "alg" the key signs with.
func (s *Signer) Algorithm() jose.SignatureAlgorithm { return s.alg }

// Sign returns payload as a compact JWS (RFC 7515 §7.1) whose protected
// header holds "alg", "kid" and, unless typ is empty, "typ": TypeJWT for
// ID tokens, TypeAccessToken for access tokens. typ should be a constant:
// each distinct value keeps a signer cached for the key's lifetime.
func (s *Signer) Sign(payload []byte, typ string) (string, error) {
	js, err := s.joseSigner(typ)
	if err != nil {
		return "", err
	}
	jws, err := js.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return jws.CompactSerialize()
}

func (s *Signer) joseSigner(typ string) (jose.Signer, error) {
	if js, ok := s.byTyp.Load(typ); ok {
		return js.(jose.Signer), nil
	}
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	// A JSONWebKey with a KeyID makes go-jose put "kid" in the protected header.
	js, err := jose.NewSigner(jose.SigningKey{
		Algorithm: s.alg,
		Key:       jose.JSONWebKey{Key: s.key, KeyID: s.kid, Algorithm: string(s.alg)},
	}, opts)
	if err != nil {
		return nil, fmt.Errorf("keys: signer for key %s (%s): %w", s.kid, s.alg, err)
	}
	actual, _ := s.byTyp.LoadOrStore(typ, js)
	return actual.(jose.Signer), nil
}
