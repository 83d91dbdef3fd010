package keys

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/internal/secure"
)

// Authentication keys (DESIGN §3 "Identity tokens") are the keys an
// organization's identity service signs identity tokens with. Unlike the
// signing keys above, orgid keeps only their public half: it either makes
// a pair and hands the private key out once, or registers a public key the
// organization brings.

// Bounds on an uploaded authentication key.
const (
	// maxAuthKeyBytes bounds a PEM or JWK: an RSA 8192 public key in
	// either form is under 2 KiB.
	maxAuthKeyBytes = 16 << 10
	// minAuthRSABits is RFC 7518 §3.3's minimum for RS256.
	minAuthRSABits = 2048
	// maxAuthRSABits bounds the cost of verifying one identity token.
	maxAuthRSABits = 8192
	// maxAuthKIDLen bounds a kid a JWK brings: it names the key in URLs
	// (DELETE …/keys/{kid}) and in every identity token's header.
	maxAuthKIDLen = 128
)

// AuthKeyError says why an authentication key is refused, in words safe
// to show the caller (the key is public, or was refused for being
// private, and the words never echo it). Field is "alg" when the
// requested algorithm is the problem and "key" when the key is.
type AuthKeyError struct {
	Field   string
	Message string
}

func (e *AuthKeyError) Error() string { return e.Message }

func keyErr(format string, args ...any) error {
	return &AuthKeyError{Field: "key", Message: fmt.Sprintf(format, args...)}
}

func algErr(format string, args ...any) error {
	return &AuthKeyError{Field: "alg", Message: fmt.Sprintf(format, args...)}
}

// privateJWKMembers carry private or symmetric key material (RFC 7518
// §6.2.2, §6.3.2, §6.4; RFC 8037 §2).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// GenerateAuthKey makes an authentication key pair for alg (ES256 when
// empty; RS256 with RSA 2048; EdDSA with Ed25519). It returns the private
// key as PKCS#8 PEM (RFC 5958) — to be handed out once and never stored —
// the public key as a JWK with kid, alg and use "sig", and a fresh random
// kid.
func GenerateAuthKey(alg string) (privatePEM, jwkJSON []byte, kid string, err error) {
	if alg == "" {
		alg = ES256
	}
	if !supported(alg) {
		return nil, nil, "", algErr("must be ES256, RS256 or EdDSA")
	}
	key, err := generateKey(alg)
	if err != nil {
		return nil, nil, "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, "", fmt.Errorf("keys: encode authentication key: %w", err)
	}
	kid = newAuthKID()
	jwkJSON, err = json.Marshal(publicJWK(key.Public(), kid, alg))
	if err != nil {
		return nil, nil, "", fmt.Errorf("keys: encode authentication key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), jwkJSON, kid, nil
}

// newAuthKID is a random kid. It is not a thumbprint: one public key
// registered twice (by two organizations, say) is two keys, each naming
// its own organization.
func newAuthKID() string { return secure.ID("key") }

// ParsePublicAuthKey reads a public key an organization registers: a PEM
// "PUBLIC KEY" (PKIX, RFC 5280 §4.1.2.7) or "RSA PUBLIC KEY" (PKCS #1), or
// a JWK (RFC 7517). The key must be EC P-256 (ES256), RSA of 2048 to 8192
// bits (RS256) or Ed25519 (EdDSA); private and symmetric keys are refused.
// alg, when not empty, must be the key's algorithm (as must a JWK's own
// "alg"). The kid is the JWK's own when it brings one, otherwise a random
// one. The answer is the key re-encoded as a JWK with kid, alg and use
// "sig", so that only what was checked is stored. Refusals are
// *AuthKeyError.
func ParsePublicAuthKey(pemOrJWK []byte, alg string) (jwkJSON []byte, keyAlg, kid string, err error) {
	if alg != "" && !supported(alg) {
		return nil, "", "", algErr("must be ES256, RS256 or EdDSA")
	}
	in := bytes.TrimSpace(pemOrJWK)
	switch {
	case len(in) == 0:
		return nil, "", "", keyErr("is empty")
	case len(in) > maxAuthKeyBytes:
		return nil, "", "", keyErr("must be at most %d bytes", maxAuthKeyBytes)
	case bytes.Contains(in, []byte("PRIVATE KEY")):
		return nil, "", "", keyErr("is a private key: register the public key only, and replace a private key that was sent anywhere")
	}
	var (
		pub      crypto.PublicKey
		jwkAlg   string
		ownKID   string
		parseErr error
	)
	if in[0] == '{' {
		pub, jwkAlg, ownKID, parseErr = parseAuthJWK(in)
	} else {
		pub, parseErr = parseAuthPEM(in)
	}
	if parseErr != nil {
		return nil, "", "", parseErr
	}
	keyAlg, err = authKeyAlg(pub)
	if err != nil {
		return nil, "", "", err
	}
	if jwkAlg != "" && jwkAlg != keyAlg {
		return nil, "", "", keyErr(`has "alg" %s; this key signs with %s`, jwkAlg, keyAlg)
	}
	if alg != "" && alg != keyAlg {
		return nil, "", "", algErr("is %s, but this key signs with %s", alg, keyAlg)
	}
	kid = ownKID
	if kid == "" {
		kid = newAuthKID()
	}
	jwkJSON, err = json.Marshal(publicJWK(pub, kid, keyAlg))
	if err != nil {
		return nil, "", "", keyErr("cannot be encoded as a JWK")
	}
	return jwkJSON, keyAlg, kid, nil
}

func parseAuthPEM(in []byte) (crypto.PublicKey, error) {
	block, rest := pem.Decode(in)
	if block == nil {
		return nil, keyErr("is neither a PEM public key nor a JWK")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, keyErr("must hold one PEM block only")
	}
	switch block.Type {
	case "PUBLIC KEY":
		pub, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, keyErr("is not a valid PKIX public key")
		}
		return pub, nil
	case "RSA PUBLIC KEY":
		pub, err := x509.ParsePKCS1PublicKey(block.Bytes)
		if err != nil {
			return nil, keyErr("is not a valid PKCS #1 RSA public key")
		}
		return pub, nil
	}
	return nil, keyErr("is a PEM %q block; it must be a \"PUBLIC KEY\"", block.Type)
}

func parseAuthJWK(in []byte) (crypto.PublicKey, string, string, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(in, &members); err != nil {
		return nil, "", "", keyErr("is not a JSON object")
	}
	for _, m := range privateJWKMembers {
		if _, ok := members[m]; ok {
			return nil, "", "", keyErr(`holds private or symmetric key material ("%s"): register the public key only, and replace a private key that was sent anywhere`, m)
		}
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(in); err != nil {
		// go-jose's words name the member that is wrong; the key is
		// public, so they leak nothing.
		return nil, "", "", keyErr("is not a valid JWK: %s", err.Error())
	}
	if !k.Valid() || !k.IsPublic() {
		return nil, "", "", keyErr("is not a public key")
	}
	if k.Use != "" && k.Use != "sig" {
		return nil, "", "", keyErr(`has "use" %q; it must be "sig" or absent`, k.Use)
	}
	if _, ok := members["kid"]; ok {
		if err := checkAuthKID(k.KeyID); err != nil {
			return nil, "", "", err
		}
	}
	return k.Key, k.Algorithm, k.KeyID, nil
}

// checkAuthKID accepts 1 to 128 of RFC 3986's unreserved characters, so
// that a kid goes into a URL path and a JWT header as it is.
func checkAuthKID(kid string) error {
	if kid == "" || len(kid) > maxAuthKIDLen {
		return keyErr(`has a "kid" that is not 1 to %d characters long`, maxAuthKIDLen)
	}
	for _, c := range []byte(kid) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return keyErr(`has a "kid" with characters other than letters, digits and - . _ ~`)
		}
	}
	return nil
}

// authKeyAlg is the one algorithm a public key verifies: an
// authentication key signs with exactly one (RFC 7518 §3.4 ties ES256 to
// P-256; RFC 8037 §3.1 EdDSA to Ed25519 here).
func authKeyAlg(pub crypto.PublicKey) (string, error) {
	switch key := pub.(type) {
	case *ecdsa.PublicKey:
		if key.Curve != elliptic.P256() {
			return "", keyErr("is an EC key on a curve other than P-256")
		}
		return ES256, nil
	case *rsa.PublicKey:
		switch n := key.N.BitLen(); {
		case n < minAuthRSABits:
			return "", keyErr("is an RSA key of %d bits; it must have at least %d", n, minAuthRSABits)
		case n > maxAuthRSABits:
			return "", keyErr("is an RSA key of %d bits; it must have at most %d", n, maxAuthRSABits)
		}
		return RS256, nil
	case ed25519.PublicKey:
		return EdDSA, nil
	}
	return "", keyErr("is not an EC P-256, RSA or Ed25519 public key")
}
