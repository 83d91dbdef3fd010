package manage

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"

	"github.com/go-jose/go-jose/v4"
)

// Limits on an application's JWK Set (private_key_jwt, RFC 7523 §2.2).
const (
	maxJWKSBytes = 64 << 10
	// maxJWKSKeys leaves room for a key rollover (old and new) with some
	// to spare, and bounds what a client assertion is checked against.
	maxJWKSKeys = 10
	minRSABits  = 2048
)

// privateJWKMembers are the members that carry private or symmetric key
// material (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2): a set that holds
// one is a leaked private key, not a registration mistake to repair.
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// checkJWKS validates the JWK Set (RFC 7517 §5) of an application that
// authenticates with private_key_jwt and returns it re-encoded from the
// parsed keys, so that only what was checked is stored. Every key must be
// a public signing key orgid verifies — EC P-256 (ES256), RSA of at least
// 2048 bits (RS256) or Ed25519 (EdDSA), the algorithms it signs with
// itself (DESIGN §7) — and have a kid of its own, so that the kid of a
// client assertion names exactly one key.
func checkJWKS(field string, raw json.RawMessage) ([]byte, error) {
	if len(raw) > maxJWKSBytes {
		return nil, fieldErr(field, "must be at most %d bytes of JSON", maxJWKSBytes)
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' || json.Unmarshal(raw, &set) != nil {
		return nil, fieldErr(field, `must be a JWK Set: {"keys": [...]}`)
	}
	switch {
	case len(set.Keys) == 0:
		return nil, fieldErr(field, "must hold at least one key")
	case len(set.Keys) > maxJWKSKeys:
		return nil, fieldErr(field, "must hold at most %d keys", maxJWKSKeys)
	}
	out := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, 0, len(set.Keys))}
	kids := map[string]bool{}
	for i, kr := range set.Keys {
		k, err := checkJWK(kr)
		if err != nil {
			return nil, fieldErr(field, "key %d: %s", i, err.Error())
		}
		if kids[k.KeyID] {
			return nil, fieldErr(field, "key %d: kid %q is used by another key of the set", i, k.KeyID)
		}
		kids[k.KeyID] = true
		out.Keys = append(out.Keys, k)
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fieldErr(field, "cannot be encoded again: %s", err.Error())
	}
	return b, nil
}

// jwkProblem is why one key of a set is refused, in words for the client.
type jwkProblem string

func (p jwkProblem) Error() string { return string(p) }

func checkJWK(raw json.RawMessage) (jose.JSONWebKey, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return jose.JSONWebKey{}, jwkProblem("is not a JSON object")
	}
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			return jose.JSONWebKey{}, jwkProblem(`holds private or symmetric key material ("` + m + `"): register the public key only, and replace a private key that was sent anywhere`)
		}
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		// go-jose's words name the member that is wrong; they carry no
		// secret (the key is public) and help the client fix it.
		return jose.JSONWebKey{}, jwkProblem("is not a valid JWK: " + err.Error())
	}
	if !k.Valid() || !k.IsPublic() {
		return jose.JSONWebKey{}, jwkProblem("is not a public key")
	}
	if k.KeyID == "" {
		return jose.JSONWebKey{}, jwkProblem(`has no "kid"`)
	}
	if k.Use != "" && k.Use != "sig" {
		return jose.JSONWebKey{}, jwkProblem(`has "use" ` + k.Use + `; it must be "sig" or absent`)
	}
	var alg string
	switch key := k.Key.(type) {
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return jose.JSONWebKey{}, jwkProblem("is an EC key on a curve other than P-256")
		}
		alg = string(jose.ES256)
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return jose.JSONWebKey{}, jwkProblem("is an RSA key shorter than 2048 bits")
		}
		alg = string(jose.RS256)
	case ed25519.PublicKey:
		alg = string(jose.EdDSA)
	default:
		return jose.JSONWebKey{}, jwkProblem("is not an EC P-256, RSA or Ed25519 public key")
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return jose.JSONWebKey{}, jwkProblem(`has "alg" ` + k.Algorithm + "; this key signs with " + alg)
	}
	return k, nil
}
