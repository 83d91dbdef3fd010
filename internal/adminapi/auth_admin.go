package adminapi

import (
	"errors"
	"net/http"
	"slices"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// admin authorizes a management API call (DESIGN §4): a token of this
// tenant for its API ({issuer}/api) with scope management. An
// application's token also needs the application to still exist and hold
// the tenant role admin, so that deleting the application or taking the
// role away stops its tokens at once rather than when they expire.
func (h *Handler) admin(next endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, _ := httpx.Tenant(r.Context())
		tok, err := h.verify(r, tenant.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if !slices.Contains(tok.Audience, h.cfg.Issuer(tenant.ID)+"/api") || !slices.Contains(tok.Scopes, ScopeManagement) {
			e := newError(http.StatusForbidden, "insufficient-scope", "the token is not for the management API: it needs audience "+h.cfg.Issuer(tenant.ID)+"/api and scope management")
			e.header = insufficientScope(ScopeManagement)
			h.fail(w, r, e)
			return
		}
		if tok.ClientID != "" && tok.Subject == tok.ClientID {
			app, err := h.cfg.Manage.GetApplication(r.Context(), tenant.ID, tok.ClientID)
			if errors.Is(err, storage.ErrNotFound) || (err == nil && !slices.Contains(app.TenantRoles, storage.TenantRoleAdmin)) {
				h.fail(w, r, invalidToken("the application that holds this token may no longer use the management API"))
				return
			}
			if err != nil {
				h.fail(w, r, err)
				return
			}
		}
		h.run(w, r, next, &call{tenant: tenant, actor: manage.Actor{ID: tok.Subject, RequestID: httpx.RequestID(r.Context())}})
	})
}
