package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/orgid/orgid/storage"
)

// Just-in-time provisioning rules (DESIGN §3): the email domains an
// organization provisions the new users of, and the roles it gives them.

var (
	// The organization by primary key (it must exist), its roles row if
	// any and its domains by the (tenant_id, organization_id, domain)
	// index: a row per domain, or one with a NULL domain for an
	// organization without any. r.roles is NULL when never set.
	sqlGetJITRule = query(`SELECT r.roles, d.domain FROM organizations o
		LEFT JOIN jit_roles r ON r.tenant_id = o.tenant_id AND r.organization_id = o.id
		LEFT JOIN jit_email_domains d ON d.tenant_id = o.tenant_id AND d.organization_id = o.id
		WHERE o.tenant_id = $1 AND o.id = $2`)
	// The rule of the organization that lists a domain, in one round
	// trip: the domain by primary key, then that organization's roles and
	// all its domains, a row per domain. No row: no organization lists it.
	sqlFindJITRule = query(`SELECT d.organization_id, r.roles, od.domain FROM jit_email_domains d
		JOIN jit_email_domains od ON od.tenant_id = d.tenant_id AND od.organization_id = d.organization_id
		LEFT JOIN jit_roles r ON r.tenant_id = d.tenant_id AND r.organization_id = d.organization_id
		WHERE d.tenant_id = $1 AND d.domain = $2`)
	// Which organization lists a domain, if any.
	sqlJITDomainOwner   = query(`SELECT organization_id FROM jit_email_domains WHERE tenant_id = $1 AND domain = $2`)
	sqlDeleteJITDomains = query(`DELETE FROM jit_email_domains WHERE tenant_id = $1 AND organization_id = $2`)
	sqlAddJITDomain     = query(`INSERT INTO jit_email_domains (tenant_id, domain, organization_id) VALUES ($1, $2, $3)`)
	// One statement; a missing organization fails the foreign key
	// (ErrNotFound).
	sqlSetJITRoles = query(`INSERT INTO jit_roles (tenant_id, organization_id, roles) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, organization_id) DO UPDATE SET roles = excluded.roles`)
)

// GetJITRule returns the organization's rule: its domains sorted, and
// its roles, nil when never set. ErrNotFound when there is no such
// organization.
func (s *Store) GetJITRule(ctx context.Context, tenantID, orgID string) (storage.JITRule, error) {
	const op = "get JIT rule"
	rows, err := s.read().query(ctx, sqlGetJITRule, tenantID, orgID)
	if err != nil {
		return storage.JITRule{}, wrap(op, err)
	}
	defer rows.Close()
	r := storage.JITRule{TenantID: tenantID, OrganizationID: orgID}
	found := false
	for rows.Next() {
		var roles, domain sql.NullString
		if err := rows.Scan(&roles, &domain); err != nil {
			return storage.JITRule{}, wrap(op, err)
		}
		if !found {
			if r.Roles, err = decodeJITRoles(roles); err != nil {
				return storage.JITRule{}, wrap(op, err)
			}
			found = true
		}
		if domain.Valid {
			r.EmailDomains = append(r.EmailDomains, domain.String)
		}
	}
	if err := rows.Err(); err != nil {
		return storage.JITRule{}, wrap(op, err)
	}
	if !found {
		return storage.JITRule{}, failf(op, storage.ErrNotFound, "no such organization")
	}
	// Sorted in Go: ORDER BY follows the database's collation, which on
	// PostgreSQL need not be byte order.
	slices.Sort(r.EmailDomains)
	return r, nil
}

// FindJITRule returns the rule of the organization that lists domain.
// ErrNotFound when none does.
func (s *Store) FindJITRule(ctx context.Context, tenantID, domain string) (storage.JITRule, error) {
	const op = "find JIT rule"
	rows, err := s.read().query(ctx, sqlFindJITRule, tenantID, domain)
	if err != nil {
		return storage.JITRule{}, wrap(op, err)
	}
	defer rows.Close()
	r := storage.JITRule{TenantID: tenantID}
	found := false
	for rows.Next() {
		var (
			orgID, od string
			roles     sql.NullString
		)
		if err := rows.Scan(&orgID, &roles, &od); err != nil {
			return storage.JITRule{}, wrap(op, err)
		}
		if !found {
			r.OrganizationID = orgID
			if r.Roles, err = decodeJITRoles(roles); err != nil {
				return storage.JITRule{}, wrap(op, err)
			}
			found = true
		}
		r.EmailDomains = append(r.EmailDomains, od)
	}
	if err := rows.Err(); err != nil {
		return storage.JITRule{}, wrap(op, err)
	}
	if !found {
		return storage.JITRule{}, failf(op, storage.ErrNotFound, "no organization lists %q", domain)
	}
	slices.Sort(r.EmailDomains)
	return r, nil
}

// SetJITEmailDomains replaces the organization's domains in one
// transaction. ErrAlreadyExists, writing nothing, when another
// organization of the tenant lists one of them; ErrNotFound when there is
// no such organization.
//
// The check that no other organization lists a domain comes before any
// write, and under the tenant row's lock (as CreateRole takes it), so
// that domain changes of one tenant take turns and the check holds on
// PostgreSQL too: the primary key never has to refuse an insert, which
// would abort a PostgreSQL transaction that the caller may have begun.
func (s *Store) SetJITEmailDomains(ctx context.Context, tenantID, orgID string, domains []string) error {
	const op = "set JIT email domains"
	domains = sortedSet(domains)
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		res, err := w.exec(ctx, sqlLockTenant, tenantID)
		if err := oneRow(op, "tenant", res, err); err != nil {
			return err
		}
		res, err = w.exec(ctx, sqlLockOrganization, tenantID, orgID)
		if err := oneRow(op, "organization", res, err); err != nil {
			return err
		}
		for _, d := range domains {
			var owner string
			err := w.queryRow(ctx, sqlJITDomainOwner, tenantID, d).Scan(&owner)
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return wrap(op, err)
			case owner != orgID:
				return failf(op, storage.ErrAlreadyExists, "domain %q is listed by another organization", d)
			}
		}
		if _, err := w.exec(ctx, sqlDeleteJITDomains, tenantID, orgID); err != nil {
			return wrap(op, err)
		}
		for _, d := range domains {
			if _, err := w.exec(ctx, sqlAddJITDomain, tenantID, d, orgID); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

// SetJITRoles replaces the organization's default roles, stored sorted
// and without duplicates; nil is stored as none. ErrNotFound when there
// is no such organization.
func (s *Store) SetJITRoles(ctx context.Context, tenantID, orgID string, roles []string) error {
	_, err := s.write().exec(ctx, sqlSetJITRoles, tenantID, orgID, encodeList(sortedSet(roles)))
	return wrap("set JIT roles", err)
}

// decodeJITRoles reads jit_roles.roles: nil when there is no row (never
// set), and a non-nil list, empty or not, when there is.
func decodeJITRoles(roles sql.NullString) ([]string, error) {
	if !roles.Valid {
		return nil, nil
	}
	v, err := decodeList(roles.String)
	if err != nil {
		return nil, err
	}
	if v == nil {
		v = []string{}
	}
	return v, nil
}
