package manage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/orgid/orgid/keys"
	"github.com/orgid/orgid/storage"
)

// AuthKeyRequest asks for an organization's new authentication key
// (DESIGN §3 "Identity tokens", §4): orgid makes a pair for Alg (ES256
// when empty), or registers the public key given as PublicKeyPEM or
// PublicJWK (one of them), whose algorithm Alg must then be when given.
type AuthKeyRequest struct {
	Alg          string
	PublicKeyPEM string
	PublicJWK    json.RawMessage
}

// CreatedAuthKey is a new authentication key with, when orgid made the
// pair, its private key in PKCS#8 PEM: in this answer only, never stored.
type CreatedAuthKey struct {
	storage.AuthKey
	PrivateKeyPEM []byte
}

// CreateAuthKey makes or registers an authentication key of orgID.
// ErrNotFound when there is no such organization; ErrAlreadyExists when
// an uploaded JWK's kid is taken in the tenant; a FieldError naming alg,
// public_key_pem or public_jwk for a key or algorithm that is refused.
func (s *Service) CreateAuthKey(ctx context.Context, tenant string, a Actor, orgID string, req AuthKeyRequest) (CreatedAuthKey, error) {
	jwk := bytes.TrimSpace(req.PublicJWK)
	if bytes.Equal(jwk, []byte("null")) {
		jwk = nil
	}
	var (
		out CreatedAuthKey
		err error
	)
	k := &out.AuthKey
	switch {
	case req.PublicKeyPEM != "" && len(jwk) > 0:
		return CreatedAuthKey{}, fieldErr("public_jwk", "give public_key_pem or public_jwk, not both")
	case req.PublicKeyPEM != "":
		k.PublicJWK, k.Alg, k.KID, err = keys.ParsePublicAuthKey([]byte(req.PublicKeyPEM), req.Alg)
		err = authKeyFieldErr(err, "public_key_pem")
	case len(jwk) > 0:
		if jwk[0] != '{' {
			return CreatedAuthKey{}, fieldErr("public_jwk", "must be a JWK (a JSON object)")
		}
		k.PublicJWK, k.Alg, k.KID, err = keys.ParsePublicAuthKey(jwk, req.Alg)
		err = authKeyFieldErr(err, "public_jwk")
	default:
		k.Alg = req.Alg
		if k.Alg == "" {
			k.Alg = keys.ES256
		}
		out.PrivateKeyPEM, k.PublicJWK, k.KID, err = keys.GenerateAuthKey(k.Alg)
		err = authKeyFieldErr(err, "alg")
	}
	if err != nil {
		return CreatedAuthKey{}, err
	}
	k.TenantID, k.OrganizationID, k.Status, k.CreatedAt = tenant, orgID, storage.AuthKeyActive, s.now()

	// The audit entry names the key, never its private half.
	c := &change{tenant: tenant, action: "auth_key.create", target: k.KID,
		details: map[string]any{"organization_id": orgID, "kid": k.KID, "alg": k.Alg, "generated": out.PrivateKeyPEM != nil}}
	err = s.write(ctx, a, c, func(tx storage.Store) error {
		if _, err := tx.GetOrganization(ctx, tenant, orgID); err != nil {
			return err
		}
		return tx.CreateAuthKey(ctx, *k)
	})
	if err != nil {
		return CreatedAuthKey{}, err
	}
	return out, nil
}

// authKeyFieldErr turns a refusal of package keys into a FieldError on
// the request's field (or on alg when the algorithm is the problem).
func authKeyFieldErr(err error, field string) error {
	var ke *keys.AuthKeyError
	if !errors.As(err, &ke) {
		return err
	}
	if ke.Field == "alg" {
		field = "alg"
	}
	return fieldErr(field, "%s", ke.Message)
}

// ListAuthKeys pages through orgID's authentication keys, oldest first,
// revoked ones included. ErrNotFound when there is no such organization.
func (s *Service) ListAuthKeys(ctx context.Context, tenant, orgID string, p storage.Page) ([]storage.AuthKey, string, error) {
	if _, err := s.store.GetOrganization(ctx, tenant, orgID); err != nil {
		return nil, "", err
	}
	list, err := s.store.ListAuthKeys(ctx, tenant, orgID)
	if err != nil {
		return nil, "", err
	}
	// Oldest first, as the store has them; the kid breaks ties.
	return pageOf("auth_keys", list, func(k storage.AuthKey) string {
		return fmt.Sprintf("%020d %s", k.CreatedAt.UnixMicro(), k.KID)
	}, p)
}

// RevokeAuthKey revokes orgID's key kid: identity tokens it signs are
// refused from then on. ErrNotFound when orgID has no such key;
// storage.ErrConflict when it is revoked already.
func (s *Service) RevokeAuthKey(ctx context.Context, tenant string, a Actor, orgID, kid string) error {
	c := &change{tenant: tenant, action: "auth_key.revoke", target: kid, details: map[string]any{"organization_id": orgID, "kid": kid}}
	err := s.write(ctx, a, c, func(tx storage.Store) error {
		return tx.RevokeAuthKey(ctx, tenant, orgID, kid, s.now())
	})
	if err == nil && s.authKeyRevoked != nil {
		s.authKeyRevoked(tenant, kid)
	}
	return err
}
