package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"time"

	"github.com/orgid/orgid/storage"
)

// Invitations into an organization (DESIGN §3), found by ID within their
// organization or by the SHA-256 of their current link's secret.

const invitationColumns = `tenant_id, id, organization_id, email, roles, token_hash, status, inviter_id,
	ttl_micros, expires_at, created_at, updated_at, accepted_by`

var (
	// A taken ID or token hash fails a unique key (ErrAlreadyExists), a
	// missing organization the foreign key (ErrNotFound).
	sqlCreateInvitation = query(`INSERT INTO invitations (` + invitationColumns + `, email_norm)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`)
	// By primary key; another organization's invitation is none of this one.
	sqlGetInvitation = query(`SELECT ` + invitationColumns + ` FROM invitations
		WHERE tenant_id = $1 AND id = $2 AND organization_id = $3`)
	// The invitation by its (tenant_id, token_hash) unique index and its
	// organization by primary key, in one round trip. The organization's
	// columns come first so that scanOrganization reads them.
	sqlGetInvitationByToken = query(`SELECT ` + qualify("o", organizationColumns) + `, ` + qualify("i", invitationColumns) + `
		FROM invitations i
		JOIN organizations o ON o.tenant_id = i.tenant_id AND o.id = i.organization_id
		WHERE i.tenant_id = $1 AND i.token_hash = $2`)
	// Oldest first, along the (tenant_id, organization_id, created_at, id)
	// index.
	sqlListInvitations = query(`SELECT ` + invitationColumns + ` FROM invitations
		WHERE tenant_id = $1 AND organization_id = $2 AND (created_at, id) > ($3, $4)
		ORDER BY created_at, id LIMIT $5`)
	// Renewal, revocation and acceptance are compare-and-set UPDATEs on
	// status: of concurrent ones, the first to write changes the row and
	// the others (on PostgreSQL after waiting for it) match nothing. A new
	// link hash that is taken fails the unique key (ErrAlreadyExists).
	sqlRenewInvitation = query(`UPDATE invitations SET token_hash = $4, expires_at = $5, updated_at = $6
		WHERE tenant_id = $1 AND organization_id = $2 AND id = $3 AND status = 'pending'`)
	sqlRevokeInvitation = query(`UPDATE invitations SET status = 'revoked', updated_at = $4
		WHERE tenant_id = $1 AND organization_id = $2 AND id = $3 AND status = 'pending'`)
	// Acceptance also needs the link to be the current one and unexpired.
	sqlAcceptInvitation = query(`UPDATE invitations SET status = 'accepted', accepted_by = $4, updated_at = $5
		WHERE tenant_id = $1 AND id = $2 AND token_hash = $3 AND status = 'pending' AND expires_at > $5`)
	// What a compare-and-set that matched no row found instead.
	sqlInvitationStatus = query(`SELECT status FROM invitations
		WHERE tenant_id = $1 AND organization_id = $2 AND id = $3`)
	sqlInvitationState = query(`SELECT status, token_hash, expires_at FROM invitations
		WHERE tenant_id = $1 AND id = $2`)
)

// CreateInvitation stores inv, pending unless it says otherwise, its
// roles sorted and without duplicates. ErrAlreadyExists when its ID or
// token hash is taken in the tenant; ErrNotFound when the organization
// does not exist.
func (s *Store) CreateInvitation(ctx context.Context, inv storage.Invitation) error {
	if inv.Status == "" {
		inv.Status = storage.InvitationPending
	}
	_, err := s.write().exec(ctx, sqlCreateInvitation,
		inv.TenantID, inv.ID, inv.OrganizationID, inv.Email, encodeList(sortedSet(inv.Roles)), inv.TokenHash,
		string(inv.Status), inv.InviterID, int64(inv.TTL/time.Microsecond), toMicros(inv.ExpiresAt),
		toMicros(inv.CreatedAt), toMicros(inv.UpdatedAt), inv.AcceptedBy, normEmail(inv.Email))
	return wrap("create invitation", err)
}

// GetInvitation returns orgID's invitation id. ErrNotFound.
func (s *Store) GetInvitation(ctx context.Context, tenantID, orgID, id string) (storage.Invitation, error) {
	var r invitationRow
	err := s.read().queryRow(ctx, sqlGetInvitation, tenantID, id, orgID).Scan(r.dest()...)
	if err != nil {
		return storage.Invitation{}, wrap("get invitation", err)
	}
	inv, err := r.invitation()
	return inv, wrap("get invitation", err)
}

// GetInvitationByToken returns the invitation whose current link has
// hash, whatever its status, with its organization, in one query.
// ErrNotFound.
func (s *Store) GetInvitationByToken(ctx context.Context, tenantID string, hash []byte) (storage.Invitation, storage.Organization, error) {
	const op = "get invitation by token"
	var r invitationRow
	o, err := scanOrganization(orgAndMore{s.read().queryRow(ctx, sqlGetInvitationByToken, tenantID, hash), r.dest()})
	if err != nil {
		return storage.Invitation{}, storage.Organization{}, wrap(op, err)
	}
	inv, err := r.invitation()
	if err != nil {
		return storage.Invitation{}, storage.Organization{}, wrap(op, err)
	}
	return inv, o, nil
}

// ListInvitations pages through the organization's invitations, oldest
// first (ties by ID), whatever their status.
func (s *Store) ListInvitations(ctx context.Context, tenantID, orgID string, p storage.Page) ([]storage.Invitation, string, error) {
	const op = "list invitations"
	after, err := decodeCursor(op, cursorInvitations, p, firstAscending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, sqlListInvitations, tenantID, orgID, after.at, after.id, limit+1)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var invs []storage.Invitation
	for rows.Next() {
		var r invitationRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, "", wrap(op, err)
		}
		inv, err := r.invitation()
		if err != nil {
			return nil, "", wrap(op, err)
		}
		invs = append(invs, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	invs, next := pageEnd(cursorInvitations, invs, limit, func(inv storage.Invitation) pageKey {
		return pageKey{toMicros(inv.CreatedAt), inv.ID}
	})
	return invs, next, nil
}

// RenewInvitation gives a pending invitation, expired or not, a new link
// hash and expiry at at, by one compare-and-set UPDATE: the old link finds
// nothing any more. ErrNotFound when orgID has no invitation id;
// ErrConflict (nothing written) when it is accepted or revoked;
// ErrAlreadyExists when hash is another invitation's.
func (s *Store) RenewInvitation(ctx context.Context, tenantID, orgID, id string, hash []byte, expiresAt, at time.Time) error {
	const op = "renew invitation"
	w := s.write()
	res, err := w.exec(ctx, sqlRenewInvitation, tenantID, orgID, id, hash, toMicros(expiresAt), toMicros(at))
	return invitationCAS(ctx, op, w, res, err, tenantID, orgID, id)
}

// RevokeInvitation revokes a pending invitation, expired or not, at at,
// by one compare-and-set UPDATE. ErrNotFound when orgID has no invitation
// id; ErrConflict (nothing written) when it is accepted or revoked
// already.
func (s *Store) RevokeInvitation(ctx context.Context, tenantID, orgID, id string, at time.Time) error {
	const op = "revoke invitation"
	w := s.write()
	res, err := w.exec(ctx, sqlRevokeInvitation, tenantID, orgID, id, toMicros(at))
	return invitationCAS(ctx, op, w, res, err, tenantID, orgID, id)
}

// invitationCAS tells the outcome of a renewal or revocation that gave
// res and err (see casByStatus).
func invitationCAS(ctx context.Context, op string, w runner, res sql.Result, err error, tenantID, orgID, id string) error {
	return casByStatus(ctx, op, w, res, err, "invitation is %s", sqlInvitationStatus, tenantID, orgID, id)
}

// casByStatus tells the outcome of a compare-and-set UPDATE of one row
// that gave res and err: nil when it changed the row; when it did not,
// a second read of the row's status by statusQuery (args) tells
// ErrNotFound (no row) from ErrConflict (the row is not in the expected
// state; conflictf names its status). Only a refused change pays for the
// second read.
func casByStatus(ctx context.Context, op string, w runner, res sql.Result, err error, conflictf, statusQuery string, args ...any) error {
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var status string
	if err := w.queryRow(ctx, statusQuery, args...).Scan(&status); err != nil {
		return wrap(op, err) // no row: ErrNotFound
	}
	return failf(op, storage.ErrConflict, conflictf, status)
}

// AcceptInvitation marks the invitation accepted by userID at at, by one
// compare-and-set UPDATE that matches only a pending invitation,
// unexpired at at, whose link hash is still hash: of concurrent
// acceptances exactly one succeeds. ErrNotFound when there is no
// invitation id; ErrConflict (nothing written) otherwise.
func (s *Store) AcceptInvitation(ctx context.Context, tenantID, id string, hash []byte, userID string, at time.Time) error {
	const op = "accept invitation"
	w := s.write()
	res, err := w.exec(ctx, sqlAcceptInvitation, tenantID, id, hash, userID, toMicros(at))
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var (
		status  string
		current []byte
		expires int64
	)
	if err := w.queryRow(ctx, sqlInvitationState, tenantID, id).Scan(&status, &current, &expires); err != nil {
		return wrap(op, err) // no row: ErrNotFound
	}
	switch {
	case status != string(storage.InvitationPending):
		return failf(op, storage.ErrConflict, "invitation is %s", status)
	case !bytes.Equal(current, hash):
		return failf(op, storage.ErrConflict, "invitation link was replaced")
	default:
		return failf(op, storage.ErrConflict, "invitation has expired")
	}
}

// invitationRow is what a query of invitationColumns returns, before
// decoding.
type invitationRow struct {
	inv                            storage.Invitation
	roles, status                  string
	ttl, expires, created, updated int64
}

func (r *invitationRow) dest() []any {
	i := &r.inv
	return []any{&i.TenantID, &i.ID, &i.OrganizationID, &i.Email, &r.roles, &i.TokenHash, &r.status, &i.InviterID,
		&r.ttl, &r.expires, &r.created, &r.updated, &i.AcceptedBy}
}

func (r *invitationRow) invitation() (storage.Invitation, error) {
	inv := r.inv
	roles, err := decodeList(r.roles)
	if err != nil {
		return storage.Invitation{}, err
	}
	inv.Roles = roles
	inv.Status = storage.InvitationStatus(r.status)
	inv.TTL = time.Duration(r.ttl) * time.Microsecond
	inv.ExpiresAt, inv.CreatedAt, inv.UpdatedAt = fromMicros(r.expires), fromMicros(r.created), fromMicros(r.updated)
	return inv, nil
}
