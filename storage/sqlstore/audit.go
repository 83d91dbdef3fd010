package sqlstore

import (
	"context"
	"encoding/json"

	"github.com/orgid/orgid/storage"
)

const auditColumns = `tenant_id, id, actor, action, target, request_id, details, created_at`

var (
	sqlAppendAudit = query(`INSERT INTO audit_log (` + auditColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`)
	// Newest first: backwards along the (tenant_id, created_at, id) index,
	// or, filtered by actor or target, along that column's index. $5..$8
	// are the filter's actor, target, action and the LIKE pattern of the
	// actions under it; '' matches all.
	sqlListAudit = query(`SELECT ` + auditColumns + ` FROM audit_log
		WHERE tenant_id = $1 AND (created_at, id) < ($2, $3)
		AND ($5 = '' OR actor = $5) AND ($6 = '' OR target = $6)
		AND ($7 = '' OR action = $7 OR action LIKE $8 ESCAPE '\')
		ORDER BY created_at DESC, id DESC LIMIT $4`)
)

// AppendAudit records an audit entry. ErrAlreadyExists when its ID is
// taken; ErrNotFound when the tenant does not exist.
func (s *Store) AppendAudit(ctx context.Context, e storage.AuditEntry) error {
	const op = "append audit entry"
	details, err := encodeObject(op, "details", e.Details)
	if err != nil {
		return err
	}
	_, err = s.write().exec(ctx, sqlAppendAudit,
		e.TenantID, e.ID, e.Actor, e.Action, e.Target, e.RequestID, details, toMicros(e.CreatedAt))
	return wrap(op, err)
}

// ListAudit pages through the tenant's audit log, newest first (ties by
// ID, descending), keeping the entries f matches.
func (s *Store) ListAudit(ctx context.Context, tenantID string, f storage.AuditFilter, p storage.Page) ([]storage.AuditEntry, string, error) {
	const op = "list audit log"
	before, err := decodeCursor(op, cursorAudit, p, firstDescending)
	if err != nil {
		return nil, "", err
	}
	limit := p.Limit()
	rows, err := s.read().query(ctx, sqlListAudit, tenantID, before.at, before.id, limit+1,
		f.Actor, f.Target, f.Action, likeEscaper.Replace(f.Action)+".%")
	if err != nil {
		return nil, "", wrap(op, err)
	}
	defer rows.Close()
	var es []storage.AuditEntry
	for rows.Next() {
		var (
			e       storage.AuditEntry
			details string
			created int64
		)
		if err := rows.Scan(&e.TenantID, &e.ID, &e.Actor, &e.Action, &e.Target, &e.RequestID, &details, &created); err != nil {
			return nil, "", wrap(op, err)
		}
		e.Details = json.RawMessage(details)
		e.CreatedAt = fromMicros(created)
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", wrap(op, err)
	}
	es, next := pageEnd(cursorAudit, es, limit, func(e storage.AuditEntry) pageKey {
		return pageKey{toMicros(e.CreatedAt), e.ID}
	})
	return es, next, nil
}
