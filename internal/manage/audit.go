package manage

import (
	"context"

	"github.com/orgid/orgid/storage"
)

// ListAudit pages through the tenant's audit log, newest first.
func (s *Service) ListAudit(ctx context.Context, tenant string, p storage.Page) ([]storage.AuditEntry, string, error) {
	return s.store.ListAudit(ctx, tenant, p)
}
