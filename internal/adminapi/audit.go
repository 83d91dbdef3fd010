package adminapi

import (
	"net/http"

	"github.com/orgid/orgid/storage"
)

func (h *Handler) listAudit(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	q := r.URL.Query()
	f := storage.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	return listed(r, func(p storage.Page) ([]storage.AuditEntry, string, error) {
		return h.m.ListAudit(r.Context(), c.tenant.ID, f, p)
	}, viewAudit)
}
