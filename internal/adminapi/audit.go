package adminapi

import "net/http"

func (h *Handler) listAudit(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	entries, next, err := h.m.ListAudit(r.Context(), c.tenant.ID, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listOf(entries, next, viewAudit), nil
}
