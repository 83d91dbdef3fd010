package adminapi

import (
	"errors"
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/httpx"
	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// member authorizes an organization self-service call: an organization
// token for the organization in the path (audience
// urn:orgid:organization:{orgId}, claim organization_id), whose subject is
// a member now — read from the store on every request, so a removed
// member or role stops working at once — and holds permission both in
// their current roles and in the token's scope.
//
// A token for another organization, an organization that does not exist
// and a subject who is not a member get the same 403, so that
// organizations cannot be probed (DESIGN §3).
func (h *Handler) member(permission string, next endpoint) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, _ := httpx.Tenant(r.Context())
		orgID := mux.Vars(r)["orgId"]
		tok, err := h.verify(r, tenant.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		denied := newError(http.StatusForbidden, "forbidden", "the organization does not exist or you are not a member of it")
		if tok.OrganizationID != orgID || !slices.Contains(tok.Audience, h.cfg.OrganizationAudience(orgID)) {
			h.fail(w, r, denied)
			return
		}
		access, err := h.cfg.Manage.MemberAccess(r.Context(), tenant.ID, orgID, tok.Subject)
		if errors.Is(err, storage.ErrNotFound) {
			h.fail(w, r, denied)
			return
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		// What the caller may do is what they hold now and the token
		// was granted: a token narrowed by scope stays narrow.
		var held []string
		for _, p := range access.Permissions {
			if slices.Contains(tok.Scopes, p) {
				held = append(held, p)
			}
		}
		if !slices.Contains(held, permission) {
			e := newError(http.StatusForbidden, "insufficient-permission", "this needs the permission "+permission)
			e.header = insufficientScope(permission)
			h.fail(w, r, e)
			return
		}
		h.run(w, r, next, &call{tenant: tenant, actor: manage.Actor{
			ID: tok.Subject, RequestID: httpx.RequestID(r.Context()), Limit: &manage.Limit{Permissions: held},
		}})
	})
}
