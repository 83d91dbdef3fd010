package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/orgid/orgid/storage"
)

// Organizations' plans and billing requests (DESIGN §5 "Billing").

const billingRequestColumns = `tenant_id, id, organization_id, kind, plan, note, status,
	requested_by, created_at, resolved_by, resolved_at`

var (
	// The organization by primary key (it must exist) and its billing
	// row if any: NULLs when never set.
	sqlGetBilling = query(`SELECT b.plan, b.live, b.updated_at FROM organizations o
		LEFT JOIN organization_billing b ON b.tenant_id = o.tenant_id AND b.organization_id = o.id
		WHERE o.tenant_id = $1 AND o.id = $2`)
	// One statement; a missing organization fails the foreign key
	// (ErrNotFound).
	sqlSetBilling = query(`INSERT INTO organization_billing (tenant_id, organization_id, plan, live, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, organization_id) DO UPDATE
		SET plan = excluded.plan, live = excluded.live, updated_at = excluded.updated_at`)
	// A second open request of the organization meets the partial unique
	// index billing_requests_one_open and inserts nothing (no error: a
	// failed statement would abort the caller's PostgreSQL transaction);
	// a taken ID still fails the primary key (ErrAlreadyExists) and a
	// missing organization the foreign key (ErrNotFound). Of concurrent
	// inserts, PostgreSQL makes the later ones wait for the first and then
	// do nothing; SQLite has one writer.
	sqlCreateBillingRequest = query(`INSERT INTO billing_requests (` + billingRequestColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8, '', 0)
		ON CONFLICT (tenant_id, organization_id) WHERE status = 'open' DO NOTHING`)
	sqlGetBillingRequest = query(`SELECT ` + billingRequestColumns + ` FROM billing_requests
		WHERE tenant_id = $1 AND id = $2`)
	// Newest first, backwards along (tenant_id, created_at, id) or
	// (tenant_id, organization_id, created_at, id); $2 = '' lists every
	// status.
	sqlListBillingRequests = query(`SELECT ` + billingRequestColumns + ` FROM billing_requests
		WHERE tenant_id = $1 AND ($2 = '' OR status = $2) AND (created_at, id) < ($3, $4)
		ORDER BY created_at DESC, id DESC LIMIT $5`)
	sqlListOrgBillingRequests = query(`SELECT ` + billingRequestColumns + ` FROM billing_requests
		WHERE tenant_id = $1 AND organization_id = $6 AND ($2 = '' OR status = $2) AND (created_at, id) < ($3, $4)
		ORDER BY created_at DESC, id DESC LIMIT $5`)
	// The compare-and-set of a resolution: of concurrent ones the first
	// to write changes the row, and the others (on PostgreSQL after
	// waiting for it) match nothing. RETURNING reads the request as
	// resolved, for applying it.
	sqlResolveBillingRequest = query(`UPDATE billing_requests SET status = $3, resolved_by = $4, resolved_at = $5
		WHERE tenant_id = $1 AND id = $2 AND status = 'open'
		RETURNING ` + billingRequestColumns)
	sqlBillingRequestStatus = query(`SELECT status FROM billing_requests WHERE tenant_id = $1 AND id = $2`)
	// Approving a go_live makes the organization live; a change_plan
	// keeps its live flag (a change of plan is only asked for when live).
	sqlApplyBillingRequest = query(`INSERT INTO organization_billing (tenant_id, organization_id, plan, live, updated_at)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (tenant_id, organization_id) DO UPDATE
		SET plan = excluded.plan, live = (organization_billing.live OR excluded.live), updated_at = excluded.updated_at`)
)

// GetBilling returns the organization's billing, DefaultBilling when
// none was set. ErrNotFound when there is no such organization.
func (s *Store) GetBilling(ctx context.Context, tenantID, orgID string) (storage.Billing, error) {
	const op = "get billing"
	var (
		plan    *string
		live    *bool
		updated *int64
	)
	if err := s.read().queryRow(ctx, sqlGetBilling, tenantID, orgID).Scan(&plan, &live, &updated); err != nil {
		return storage.Billing{}, wrap(op, err)
	}
	b := storage.DefaultBilling(tenantID, orgID)
	if plan != nil {
		b.Plan, b.Live, b.UpdatedAt = *plan, *live, fromMicros(*updated)
	}
	return b, nil
}

// SetBilling sets the organization's plan, live flag and UpdatedAt.
// ErrNotFound when there is no such organization.
func (s *Store) SetBilling(ctx context.Context, b storage.Billing) error {
	_, err := s.write().exec(ctx, sqlSetBilling, b.TenantID, b.OrganizationID, b.Plan, b.Live, toMicros(b.UpdatedAt))
	return wrap("set billing", err)
}

// CreateBillingRequest stores r as an open request, by one INSERT.
// ErrConflict (nothing written) when the organization has an open request
// already; ErrAlreadyExists when r's ID is taken; ErrNotFound when there
// is no such organization.
func (s *Store) CreateBillingRequest(ctx context.Context, r storage.BillingRequest) error {
	const op = "create billing request"
	res, err := s.write().exec(ctx, sqlCreateBillingRequest, r.TenantID, r.ID, r.OrganizationID, string(r.Kind), r.Plan, r.Note,
		r.RequestedBy, toMicros(r.CreatedAt))
	n, err := affected(op, res, err)
	if err != nil {
		return err
	}
	if n == 0 {
		return failf(op, storage.ErrConflict, "the organization has an open billing request")
	}
	return nil
}

// GetBillingRequest returns the tenant's request id. ErrNotFound.
func (s *Store) GetBillingRequest(ctx context.Context, tenantID, id string) (storage.BillingRequest, error) {
	r, err := scanBillingRequest(s.read().queryRow(ctx, sqlGetBillingRequest, tenantID, id))
	return r, wrap("get billing request", err)
}

// ListBillingRequests pages through the tenant's requests, or orgID's
// when it is not "", with status unless it is "", newest first (ties by
// ID, descending).
func (s *Store) ListBillingRequests(ctx context.Context, tenantID, orgID string, status storage.BillingRequestStatus, p storage.Page) ([]storage.BillingRequest, string, error) {
	const op = "list billing requests"
	before, err := decodeCursor(op, cursorBillingReqs, p, firstDescending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	q, args := sqlListBillingRequests, []any{tenantID, string(status), before.at, before.id, limit + 1}
	if orgID != "" {
		q, args = sqlListOrgBillingRequests, append(args, orgID)
	}
	rows, err := s.read().query(ctx, q, args...)
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var rs []storage.BillingRequest
	for rows.Next() {
		r, err := scanBillingRequest(rows)
		if err != nil {
			return nil, "", wrap(op, err)
		}
		rs = append(rs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	rs, next := pageEnd(cursorBillingReqs, rs, limit, func(r storage.BillingRequest) pageKey {
		return pageKey{toMicros(r.CreatedAt), r.ID}
	})
	return rs, next, nil
}

// ResolveBillingRequest moves an open request to status by a
// compare-and-set UPDATE and, when it approves, applies the plan to the
// organization, in one transaction. ErrNotFound; ErrConflict (nothing
// written) when the request is not open.
func (s *Store) ResolveBillingRequest(ctx context.Context, tenantID, id string, status storage.BillingRequestStatus, by string, at time.Time) (storage.BillingRequest, error) {
	const op = "resolve billing request"
	if status != storage.BillingRequestApproved && status != storage.BillingRequestDeclined {
		return storage.BillingRequest{}, failf(op, errInvalid, "status %q is not approved or declined", status)
	}
	var r storage.BillingRequest
	err := s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		var err error
		r, err = scanBillingRequest(w.queryRow(ctx, sqlResolveBillingRequest, tenantID, id, string(status), by, toMicros(at)))
		if errors.Is(err, sql.ErrNoRows) {
			var current string
			if err := w.queryRow(ctx, sqlBillingRequestStatus, tenantID, id).Scan(&current); err != nil {
				return wrap(op, err) // no row: ErrNotFound
			}
			return failf(op, storage.ErrConflict, "billing request is %s", current)
		}
		if err != nil {
			return wrap(op, err)
		}
		if status != storage.BillingRequestApproved {
			return nil
		}
		_, err = w.exec(ctx, sqlApplyBillingRequest, tenantID, r.OrganizationID, r.Plan, r.Kind == storage.BillingGoLive, toMicros(at))
		return wrap(op, err)
	})
	if err != nil {
		return storage.BillingRequest{}, err
	}
	return r, nil
}

func scanBillingRequest(sc scanner) (storage.BillingRequest, error) {
	var (
		r                 storage.BillingRequest
		kind, status      string
		created, resolved int64
	)
	err := sc.Scan(&r.TenantID, &r.ID, &r.OrganizationID, &kind, &r.Plan, &r.Note, &status,
		&r.RequestedBy, &created, &r.ResolvedBy, &resolved)
	if err != nil {
		return storage.BillingRequest{}, err
	}
	r.Kind, r.Status = storage.BillingRequestKind(kind), storage.BillingRequestStatus(status)
	r.CreatedAt, r.ResolvedAt = fromMicros(created), fromMicros(resolved)
	return r, nil
}
