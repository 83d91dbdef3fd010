package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"time"
)

var (
	sqlDeleteGrantTokens = query(`DELETE FROM refresh_tokens WHERE tenant_id = $1 AND grant_id = $2`)
	// Revoking twice keeps the later expiry: a revocation must outlive the
	// last token it covers.
	sqlRevoke = query(`INSERT INTO revocations (tenant_id, id, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant_id, id) DO UPDATE SET expires_at =
			CASE WHEN excluded.expires_at > revocations.expires_at THEN excluded.expires_at ELSE revocations.expires_at END`)
	// IsRevoked asks about up to isRevokedSlots ids with one prepared
	// statement, padding with repeats of the last id; typically it is the
	// grant ID and the jti of one access token.
	sqlIsRevoked = query(isRevokedSQL(isRevokedSlots))
)

const isRevokedSlots = 4

func isRevokedSQL(n int) string {
	var b strings.Builder
	b.WriteString(`SELECT COUNT(*) FROM revocations WHERE tenant_id = $1 AND id IN (`)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+2))
	}
	b.WriteString(`)`)
	return b.String()
}

// RevokeGrant deletes every refresh token of the grant and records the
// grant ID as revoked until until, in one transaction. It is idempotent and
// works before any token of the grant exists.
func (s *Store) RevokeGrant(ctx context.Context, tenantID, grantID string, until time.Time) error {
	const op = "revoke grant"
	return s.inTx(ctx, func(tx *Store) error {
		w := tx.write()
		if _, err := w.exec(ctx, sqlDeleteGrantTokens, tenantID, grantID); err != nil {
			return wrap(op, err)
		}
		_, err := w.exec(ctx, sqlRevoke, tenantID, grantID, toMicros(until))
		return wrap(op, err)
	})
}

// RevokeToken records one access token's jti as revoked until until.
func (s *Store) RevokeToken(ctx context.Context, tenantID, jti string, until time.Time) error {
	_, err := s.write().exec(ctx, sqlRevoke, tenantID, jti, toMicros(until))
	return wrap("revoke token", err)
}

// IsRevoked reports whether any of ids is revoked, in one query.
func (s *Store) IsRevoked(ctx context.Context, tenantID string, ids ...string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	r, q := s.read(), sqlIsRevoked
	args := make([]any, 0, 1+max(len(ids), isRevokedSlots))
	args = append(args, tenantID)
	for _, id := range ids {
		args = append(args, id)
	}
	if len(ids) <= isRevokedSlots {
		for len(args) < 1+isRevokedSlots {
			args = append(args, ids[len(ids)-1])
		}
	} else {
		r, q = r.uncached(), isRevokedSQL(len(ids))
	}
	var n int
	if err := r.queryRow(ctx, q, args...).Scan(&n); err != nil {
		return false, wrap("is revoked", err)
	}
	return n > 0, nil
}
