package manage

import (
	"context"
	"strings"

	"github.com/orgid/orgid/storage"
)

// ListAudit pages through the tenant's audit log, newest first, keeping
// the entries f matches (its fields trimmed of surrounding space).
func (s *Service) ListAudit(ctx context.Context, tenant string, f storage.AuditFilter, p storage.Page) ([]storage.AuditEntry, string, error) {
	f.Actor, f.Target, f.Action = strings.TrimSpace(f.Actor), strings.TrimSpace(f.Target), strings.TrimSpace(f.Action)
	return s.store.ListAudit(ctx, tenant, f, p)
}
