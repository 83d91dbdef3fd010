// Command identity-service is a minimal identity service for orgid's
// identity tokens (docs/identity-services.md): it signs one identity token
// for a user with an organization's authentication key and prints it.
//
//	go run ./docs/examples/identity-service \
//	    -key auth-key.pem -kid "$KID" -provider-id "$PROVIDER_ID" \
//	    -sub user-42 -email ada@example.com -nonce "$NONCE"
//
// The key is the private_key_pem orgid returned when the key was created
// (PKCS#8; PKCS#1 RSA and SEC 1 EC keys are read too). The algorithm
// follows from the key: ES256 for P-256, RS256 for RSA, EdDSA for Ed25519.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
)

func main() {
	keyPath := flag.String("key", "", "path to the authentication key's private PEM (required)")
	kid := flag.String("kid", "", "the key's kid, as orgid returned it (required)")
	providerID := flag.String("provider-id", "", "the organization's provider_id, the token's iss (required)")
	sub := flag.String("sub", "", "the user's ID in the identity service (required)")
	nonce := flag.String("nonce", "", "a nonce from POST {issuer}/identity/nonces (required)")
	email := flag.String("email", "", "the user's email (optional)")
	emailVerified := flag.Bool("email-verified", false, "assert that the email is verified (enables just-in-time provisioning by domain)")
	name := flag.String("name", "", "the user's display name (optional)")
	lifetime := flag.Duration("lifetime", 5*time.Minute, "exp − iat; orgid accepts at most 10m")
	flag.Parse()
	if *keyPath == "" || *kid == "" || *providerID == "" || *sub == "" || *nonce == "" {
		fmt.Fprintln(os.Stderr, "identity-service: -key, -kid, -provider-id, -sub and -nonce are required")
		flag.Usage()
		os.Exit(2)
	}
	key, alg, err := readKey(*keyPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "identity-service:", err)
		os.Exit(1)
	}
	now := time.Now()
	claims := map[string]any{
		"iss":   *providerID,
		"sub":   *sub,
		"nonce": *nonce,
		"iat":   now.Unix(),
		"exp":   now.Add(*lifetime).Unix(),
	}
	if *email != "" {
		claims["email"] = *email
		claims["email_verified"] = *emailVerified
	}
	if *name != "" {
		claims["name"] = *name
	}
	tok, err := Sign(key, alg, *kid, claims)
	if err != nil {
		fmt.Fprintln(os.Stderr, "identity-service:", err)
		os.Exit(1)
	}
	fmt.Println(tok)
}

// Sign returns the compact JWS of claims, with alg, kid and typ JWT in
// its header.
func Sign(key crypto.Signer, alg jose.SignatureAlgorithm, kid string, claims map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

// readKey reads a private key PEM and picks the algorithm from its type.
func readKey(path string) (crypto.Signer, jose.SignatureAlgorithm, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, "", errors.New(path + ": no PEM block")
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return nil, "", errors.New(path + ": only P-256 EC keys (ES256) are accepted")
		}
		return k, jose.ES256, nil
	case *rsa.PrivateKey:
		return k, jose.RS256, nil
	case ed25519.PrivateKey:
		return k, jose.EdDSA, nil
	}
	return nil, "", fmt.Errorf("%s: unsupported key type %T", path, key)
}
