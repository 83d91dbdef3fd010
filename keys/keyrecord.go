package keys

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/orgid/orgid/storage"
)

// sealAAD binds a sealed private key to its row: the same ciphertext under
// another tenant or kid does not open.
func sealAAD(tenantID, kid string) []byte { return []byte(tenantID + "/" + kid) }

// newKey generates a key pair for alg and returns it as tenantID's record
// in state: the private key as PKCS#8 DER sealed under the master key, the
// public key as a JWK.
func (m *Manager) newKey(tenantID, alg string, state storage.KeyState, now time.Time) (storage.SigningKey, error) {
	priv, err := generateKey(alg)
	if err != nil {
		return storage.SigningKey{}, err
	}
	kid, err := keyID(priv.Public())
	if err != nil {
		return storage.SigningKey{}, err
	}
	pub, err := json.Marshal(publicJWK(priv.Public(), kid, alg))
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: encode public key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return storage.SigningKey{}, fmt.Errorf("keys: encode private key: %w", err)
	}
	sealed, err := m.sealer.Seal(der, sealAAD(tenantID, kid))
	clear(der)
	if err != nil {
		return storage.SigningKey{}, err
	}
	return storage.SigningKey{
		TenantID:   tenantID,
		ID:         kid,
		Algorithm:  alg,
		State:      state,
		PrivateKey: sealed,
		PublicJWK:  pub,
		CreatedAt:  now,
	}, nil
}

// openKey unseals k's private key and checks that it is the key its kid
// names, so that a row whose columns were mixed up never signs.
func (m *Manager) openKey(k storage.SigningKey) (crypto.Signer, error) {
	der, err := m.sealer.Open(k.PrivateKey, sealAAD(k.TenantID, k.ID))
	if err != nil {
		return nil, fmt.Errorf("keys: private key %s of tenant %s: %w", k.ID, k.TenantID, err)
	}
	defer clear(der)
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: private key %s of tenant %s: %w", k.ID, k.TenantID, err)
	}
	priv, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("keys: private key %s of tenant %s: %T cannot sign", k.ID, k.TenantID, parsed)
	}
	if kid, err := keyID(priv.Public()); err != nil || kid != k.ID {
		return nil, fmt.Errorf("keys: private key of tenant %s does not match its kid %s", k.TenantID, k.ID)
	}
	return priv, nil
}

// parsePublic decodes k's public JWK and refuses one that carries private
// material or disagrees with the record, since it goes straight into the JWKS.
func parsePublic(k storage.SigningKey) (*jose.JSONWebKey, error) {
	var jwk jose.JSONWebKey
	if err := json.Unmarshal(k.PublicJWK, &jwk); err != nil {
		return nil, fmt.Errorf("keys: public key %s of tenant %s: %w", k.ID, k.TenantID, err)
	}
	var bad error
	switch {
	case !jwk.IsPublic():
		bad = errors.New("holds private material")
	case jwk.KeyID != k.ID:
		bad = fmt.Errorf("has kid %q", jwk.KeyID)
	case jwk.Algorithm != k.Algorithm:
		bad = fmt.Errorf("has alg %q, the record says %q", jwk.Algorithm, k.Algorithm)
	}
	if bad != nil {
		return nil, fmt.Errorf("keys: public key %s of tenant %s %w", k.ID, k.TenantID, bad)
	}
	return &jwk, nil
}
