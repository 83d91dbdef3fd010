package sqlstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/orgid/orgid/storage"
)

// Usage counters (DESIGN §5 "Billing": monthly active users and tokens
// issued per application), written by the batchers of internal/usage on
// every replica.

var (
	// Additive: of concurrent adds to one row, PostgreSQL makes the later
	// ones wait for the row lock and then add to what the first wrote;
	// SQLite has one writer. The row is written only while its
	// organization (or, for the tenant level '', its tenant) exists, so a
	// batch holding the usage of an organization deleted meanwhile goes
	// through instead of failing on it forever. The CASTs give
	// PostgreSQL the parameters' types, which a SELECT list does not.
	sqlAddUsageTokens = query(`INSERT INTO usage_tokens (tenant_id, organization_id, month, client_id, tokens)
		SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS BIGINT)
		WHERE EXISTS (SELECT 1 FROM organizations WHERE tenant_id = $1 AND id = $2)
			OR ($2 = '' AND EXISTS (SELECT 1 FROM tenants WHERE id = $1))
		ON CONFLICT (tenant_id, organization_id, month, client_id)
		DO UPDATE SET tokens = usage_tokens.tokens + excluded.tokens`)
	// Idempotent: an active user is one row however often recorded.
	sqlAddActiveUser = query(`INSERT INTO usage_active_users (tenant_id, organization_id, month, user_id)
		SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT)
		WHERE EXISTS (SELECT 1 FROM organizations WHERE tenant_id = $1 AND id = $2)
			OR ($2 = '' AND EXISTS (SELECT 1 FROM tenants WHERE id = $1))
		ON CONFLICT (tenant_id, organization_id, month, user_id) DO NOTHING`)
	// Along the primary keys' (tenant_id, organization_id, month) prefix.
	sqlListUsage = query(`SELECT month, client_id, tokens FROM usage_tokens
		WHERE tenant_id = $1 AND organization_id = $2 AND month >= $3 AND month <= $4`)
	sqlCountActiveUsers = query(`SELECT month, COUNT(*) FROM usage_active_users
		WHERE tenant_id = $1 AND organization_id = $2 AND month >= $3 AND month <= $4
		GROUP BY month`)
)

// AddUsage adds counts and records active users in one transaction. Rows
// are written in key order, so that two replicas flushing overlapping
// batches take their PostgreSQL row locks in the same order and never
// deadlock; counts of one key are summed first, and counts of zero or
// less are skipped.
func (s *Store) AddUsage(ctx context.Context, counts []storage.UsageCount, users []storage.ActiveUser) error {
	const op = "add usage"
	counts = mergeUsage(counts)
	users = slices.Clone(users)
	slices.SortFunc(users, func(a, b storage.ActiveUser) int {
		return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.OrganizationID, b.OrganizationID),
			cmp.Compare(a.Month, b.Month), cmp.Compare(a.UserID, b.UserID))
	})
	if len(counts) == 0 && len(users) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		for _, c := range counts {
			if _, err := w.exec(ctx, sqlAddUsageTokens, c.TenantID, c.OrganizationID, c.Month, c.ClientID, c.Tokens); err != nil {
				return wrap(op, err)
			}
		}
		for i, u := range users {
			if i > 0 && u == users[i-1] {
				continue
			}
			if _, err := w.exec(ctx, sqlAddActiveUser, u.TenantID, u.OrganizationID, u.Month, u.UserID); err != nil {
				return wrap(op, err)
			}
		}
		return nil
	})
}

// mergeUsage returns counts in key order, one per key with the sum of
// its Tokens, without those that add nothing.
func mergeUsage(counts []storage.UsageCount) []storage.UsageCount {
	out := slices.Clone(counts)
	slices.SortFunc(out, compareUsageKey)
	merged := out[:0]
	for _, c := range out {
		if n := len(merged); n > 0 && compareUsageKey(merged[n-1], c) == 0 {
			merged[n-1].Tokens += c.Tokens
			continue
		}
		merged = append(merged, c)
	}
	return slices.DeleteFunc(merged, func(c storage.UsageCount) bool { return c.Tokens <= 0 })
}

func compareUsageKey(a, b storage.UsageCount) int {
	return cmp.Or(cmp.Compare(a.TenantID, b.TenantID), cmp.Compare(a.OrganizationID, b.OrganizationID),
		cmp.Compare(a.Month, b.Month), cmp.Compare(a.ClientID, b.ClientID))
}

// ListUsage returns the organization's token counts for months fromMonth
// to toMonth inclusive, by month then client ID.
func (s *Store) ListUsage(ctx context.Context, tenantID, orgID, fromMonth, toMonth string) ([]storage.UsageCount, error) {
	const op = "list usage"
	rows, err := s.read().query(ctx, sqlListUsage, tenantID, orgID, fromMonth, toMonth)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	var out []storage.UsageCount
	for rows.Next() {
		c := storage.UsageCount{TenantID: tenantID, OrganizationID: orgID}
		if err := rows.Scan(&c.Month, &c.ClientID, &c.Tokens); err != nil {
			return nil, wrap(op, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, err)
	}
	// Sorted in Go: ORDER BY follows the database's collation, which on
	// PostgreSQL need not be byte order.
	slices.SortFunc(out, compareUsageKey)
	return out, nil
}

// CountActiveUsers returns the organization's number of active users per
// month, for months fromMonth to toMonth inclusive.
func (s *Store) CountActiveUsers(ctx context.Context, tenantID, orgID, fromMonth, toMonth string) (map[string]int, error) {
	const op = "count active users"
	rows, err := s.read().query(ctx, sqlCountActiveUsers, tenantID, orgID, fromMonth, toMonth)
	if err != nil {
		return nil, wrap(op, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			month string
			n     int
		)
		if err := rows.Scan(&month, &n); err != nil {
			return nil, wrap(op, err)
		}
		out[month] = n
	}
	return out, wrap(op, rows.Err())
}
