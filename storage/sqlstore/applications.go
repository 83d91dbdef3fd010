package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"

	"github.com/orgid/orgid/storage"
)

const applicationColumns = `tenant_id, client_id, name, type, secret_hash, redirect_uris, post_logout_redirect_uris,
	organization_id, tenant_roles, jwks, id_token_alg, created_at`

var (
	sqlCreateApplication = query(`INSERT INTO applications (` + applicationColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`)
	sqlGetApplication   = query(`SELECT ` + applicationColumns + ` FROM applications WHERE tenant_id = $1 AND client_id = $2`)
	sqlListApplications = query(`SELECT ` + applicationColumns + ` FROM applications
		WHERE tenant_id = $1 AND (created_at, client_id) > ($2, $3)
		ORDER BY created_at, client_id LIMIT $4`)
	sqlDeleteApplication = query(`DELETE FROM applications WHERE tenant_id = $1 AND client_id = $2`)
	// Refresh tokens have no foreign key to applications; the (tenant_id,
	// client_id) index finds them.
	sqlDeleteApplicationTokens = query(`DELETE FROM refresh_tokens WHERE tenant_id = $1 AND client_id = $2`)
)

// CreateApplication stores a new OAuth client; ErrAlreadyExists when the
// client ID is taken in the tenant.
func (s *Store) CreateApplication(ctx context.Context, a storage.Application) error {
	const op = "create application"
	jwks, err := encodeJWKS(op, a.JWKS)
	if err != nil {
		return err
	}
	_, err = s.write().exec(ctx, sqlCreateApplication,
		a.TenantID, a.ClientID, a.Name, string(a.Type), nullBytes(a.SecretHash),
		encodeList(a.RedirectURIs), encodeList(a.PostLogoutRedirectURIs),
		nullString(a.OrganizationID), encodeList(a.TenantRoles), jwks, a.IDTokenAlg, toMicros(a.CreatedAt))
	return wrap(op, err)
}

// GetApplication returns the tenant's client clientID, or ErrNotFound.
func (s *Store) GetApplication(ctx context.Context, tenantID, clientID string) (storage.Application, error) {
	a, err := scanApplication(s.read().queryRow(ctx, sqlGetApplication, tenantID, clientID))
	return a, wrap("get application", err)
}

// ListApplications pages through the tenant's applications, oldest first
// (ties by client ID).
func (s *Store) ListApplications(ctx context.Context, tenantID string, p storage.Page) ([]storage.Application, string, error) {
	return s.listApplicationPage(ctx, "list applications", cursorApplications, sqlListApplications, p, tenantID)
}

// listApplicationPage runs q, a keyset-paged query of applications oldest
// first whose arguments are filter, then the cursor's time and client ID
// and the row limit, and returns the page with the next page's token.
func (s *Store) listApplicationPage(ctx context.Context, op, cursor, q string, p storage.Page, filter ...any) ([]storage.Application, string, error) {
	after, err := decodeCursor(op, cursor, p, firstAscending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, q, append(filter, after.at, after.id, limit+1)...)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var as []storage.Application
	for rows.Next() {
		a, err := scanApplication(rows)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	as, next := pageEnd(cursor, as, limit, func(a storage.Application) pageKey {
		return pageKey{toMicros(a.CreatedAt), a.ClientID}
	})
	return as, next, nil
}

// DeleteApplication removes the client, its refresh tokens and its links
// to organizations (with their roles; the foreign keys cascade) in one
// transaction. ErrNotFound when there is no such client.
func (s *Store) DeleteApplication(ctx context.Context, tenantID, clientID string) error {
	const op = "delete application"
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlDeleteApplication, tenantID, clientID)
		if err := oneRow(op, "application", res, err); err != nil {
			return err
		}
		_, err = w.exec(ctx, sqlDeleteApplicationTokens, tenantID, clientID)
		return wrap(op, err)
	})
}

func scanApplication(sc scanner) (storage.Application, error) {
	var (
		a                                   storage.Application
		typ, redirects, logouts, tenantRole string
		org, jwks                           sql.NullString
		created                             int64
	)
	err := sc.Scan(&a.TenantID, &a.ClientID, &a.Name, &typ, &a.SecretHash, &redirects, &logouts,
		&org, &tenantRole, &jwks, &a.IDTokenAlg, &created)
	if err != nil {
		return storage.Application{}, err
	}
	a.Type = storage.ApplicationType(typ)
	a.OrganizationID = org.String
	if jwks.Valid {
		a.JWKS = []byte(jwks.String)
	}
	a.CreatedAt = fromMicros(created)
	if a.RedirectURIs, err = decodeList(redirects); err != nil {
		return storage.Application{}, err
	}
	if a.PostLogoutRedirectURIs, err = decodeList(logouts); err != nil {
		return storage.Application{}, err
	}
	if a.TenantRoles, err = decodeList(tenantRole); err != nil {
		return storage.Application{}, err
	}
	return a, nil
}

// encodeJWKS stores a key set document as JSON text; nil and empty are NULL
// (no key set). A value that is not valid JSON is refused (errInvalid):
// callers validate the keys, so this only guards what is stored.
func encodeJWKS(op string, v []byte) (sql.NullString, error) {
	if len(v) == 0 {
		return sql.NullString{}, nil
	}
	if !json.Valid(v) {
		return sql.NullString{}, failf(op, errInvalid, "jwks is not valid JSON")
	}
	return sql.NullString{String: string(v), Valid: true}, nil
}
