package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/orgid/orgid/storage"
)

// Identity tokens (DESIGN §3): organizations' authentication keys and the
// users their identity services sign in.

const authKeyColumns = `tenant_id, kid, organization_id, alg, public_jwk, status, created_at, last_used_at, revoked_at`

var (
	// A taken kid fails the primary key (ErrAlreadyExists), a missing
	// organization the foreign key (ErrNotFound).
	sqlCreateAuthKey = query(`INSERT INTO organization_auth_keys (` + authKeyColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`)
	// sqlGetAuthKey is on the identity-token hot path: the key by primary
	// key and its organization by primary key, in one round trip. The
	// organization's columns come first so that scanOrganization reads
	// them; the key's follow.
	sqlGetAuthKey = query(`SELECT ` + qualify("o", organizationColumns) + `,
		k.alg, k.public_jwk, k.status, k.created_at, k.last_used_at, k.revoked_at
		FROM organization_auth_keys k
		JOIN organizations o ON o.tenant_id = k.tenant_id AND o.id = k.organization_id
		WHERE k.tenant_id = $1 AND k.kid = $2`)
	// By the (tenant_id, organization_id, created_at, kid) index.
	sqlListAuthKeys = query(`SELECT ` + authKeyColumns + ` FROM organization_auth_keys
		WHERE tenant_id = $1 AND organization_id = $2 ORDER BY created_at, kid`)
	// Revoking is a compare-and-set on status, so that of two concurrent
	// revocations exactly one changes the row.
	sqlRevokeAuthKey = query(`UPDATE organization_auth_keys SET status = 'revoked', revoked_at = $4
		WHERE tenant_id = $1 AND organization_id = $2 AND kid = $3 AND status = 'active'`)
	// What a revocation that matched no row found instead.
	sqlAuthKeyStatus = query(`SELECT status FROM organization_auth_keys
		WHERE tenant_id = $1 AND organization_id = $2 AND kid = $3`)
	// Only ever moves last_used_at forward: concurrent sign-ins that
	// finish out of order leave the latest time.
	sqlTouchAuthKey = query(`UPDATE organization_auth_keys SET last_used_at = $3
		WHERE tenant_id = $1 AND kid = $2 AND last_used_at < $3`)

	// A linked subject fails the primary key (ErrAlreadyExists), a missing
	// user the foreign key (ErrNotFound).
	sqlCreateExternalIdentity = query(`INSERT INTO external_identities (tenant_id, provider_id, subject, user_id, created_at)
		VALUES ($1, $2, $3, $4, $5)`)
	// On the identity-token hot path: one primary-key lookup.
	sqlGetExternalIdentity = query(`SELECT user_id, created_at FROM external_identities
		WHERE tenant_id = $1 AND provider_id = $2 AND subject = $3`)
)

// CreateAuthKey stores k. ErrAlreadyExists when k.KID is taken in the
// tenant, by any organization; ErrNotFound when the organization does not
// exist. A key without a valid JSON public JWK is refused.
func (s *Store) CreateAuthKey(ctx context.Context, k storage.AuthKey) error {
	const op = "create auth key"
	if !json.Valid(k.PublicJWK) {
		return failf(op, errInvalid, "public JWK is not valid JSON")
	}
	_, err := s.write().exec(ctx, sqlCreateAuthKey,
		k.TenantID, k.KID, k.OrganizationID, k.Alg, k.PublicJWK, string(k.Status),
		toMicros(k.CreatedAt), toMicros(k.LastUsedAt), toMicros(k.RevokedAt))
	return wrap(op, err)
}

// GetAuthKey returns the key kid, active or revoked, with its
// organization, in one query. ErrNotFound.
func (s *Store) GetAuthKey(ctx context.Context, tenantID, kid string) (storage.AuthKey, storage.Organization, error) {
	k := storage.AuthKey{TenantID: tenantID, KID: kid}
	var (
		status                 string
		created, used, revoked int64
	)
	row := s.read().queryRow(ctx, sqlGetAuthKey, tenantID, kid)
	o, err := scanOrganization(orgAndMore{row, []any{&k.Alg, &k.PublicJWK, &status, &created, &used, &revoked}})
	if err != nil {
		return storage.AuthKey{}, storage.Organization{}, wrap("get auth key", err)
	}
	k.OrganizationID, k.Status = o.ID, storage.AuthKeyStatus(status)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMicros(created), fromMicros(used), fromMicros(revoked)
	return k, o, nil
}

// ListAuthKeys returns the organization's keys, oldest first; none for an
// organization without keys or no such organization.
func (s *Store) ListAuthKeys(ctx context.Context, tenantID, orgID string) ([]storage.AuthKey, error) {
	const op = "list auth keys"
	rows, err := s.read().query(ctx, sqlListAuthKeys, tenantID, orgID)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var keys []storage.AuthKey
	for rows.Next() {
		k, err := scanAuthKey(rows)
		if err != nil {
			return nil, wrap(op, err)
		}
		keys = append(keys, k)
	}
	return keys, wrap(op, rows.Err())
}

func scanAuthKey(sc scanner) (storage.AuthKey, error) {
	var (
		k                      storage.AuthKey
		status                 string
		created, used, revoked int64
	)
	err := sc.Scan(&k.TenantID, &k.KID, &k.OrganizationID, &k.Alg, &k.PublicJWK, &status, &created, &used, &revoked)
	if err != nil {
		return storage.AuthKey{}, err
	}
	k.Status = storage.AuthKeyStatus(status)
	k.CreatedAt, k.LastUsedAt, k.RevokedAt = fromMicros(created), fromMicros(used), fromMicros(revoked)
	return k, nil
}

// RevokeAuthKey marks orgID's active key kid revoked at at, by one
// compare-and-set UPDATE. ErrNotFound when orgID has no key kid (another
// organization's key included); ErrConflict (nothing written) when it is
// revoked already.
func (s *Store) RevokeAuthKey(ctx context.Context, tenantID, orgID, kid string, at time.Time) error {
	const op = "revoke auth key"
	if at.IsZero() {
		// revoked_at 0 means not revoked.
		return failf(op, errInvalid, "zero revocation time")
	}
	w := s.write()
	res, err := w.exec(ctx, sqlRevokeAuthKey, tenantID, orgID, kid, toMicros(at))
	return casByStatus(ctx, op, w, res, err, "key is %s already", sqlAuthKeyStatus, tenantID, orgID, kid)
}

// TouchAuthKey moves the key's LastUsedAt forward to at. An older (or
// equal) time, and a key that no longer exists, change nothing and are no
// error: this is a best-effort write after a sign-in.
func (s *Store) TouchAuthKey(ctx context.Context, tenantID, kid string, at time.Time) error {
	_, err := s.write().exec(ctx, sqlTouchAuthKey, tenantID, kid, toMicros(at))
	return wrap("touch auth key", err)
}

// GetExternalIdentity returns the link of (providerID, subject), by
// primary key. ErrNotFound.
func (s *Store) GetExternalIdentity(ctx context.Context, tenantID, providerID, subject string) (storage.ExternalIdentity, error) {
	x := storage.ExternalIdentity{TenantID: tenantID, ProviderID: providerID, Subject: subject}
	var created int64
	err := s.read().queryRow(ctx, sqlGetExternalIdentity, tenantID, providerID, subject).Scan(&x.UserID, &created)
	if err != nil {
		return storage.ExternalIdentity{}, wrap("get external identity", err)
	}
	x.CreatedAt = fromMicros(created)
	return x, nil
}

// CreateExternalIdentity links x.UserID to (x.ProviderID, x.Subject).
// ErrAlreadyExists when that subject is linked already; ErrNotFound when
// the user does not exist.
func (s *Store) CreateExternalIdentity(ctx context.Context, x storage.ExternalIdentity) error {
	_, err := s.write().exec(ctx, sqlCreateExternalIdentity,
		x.TenantID, x.ProviderID, x.Subject, x.UserID, toMicros(x.CreatedAt))
	return wrap("create external identity", err)
}
