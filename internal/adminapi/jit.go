package adminapi

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
)

// An organization's just-in-time provisioning rule (DESIGN §3, §4): its
// email domains and the roles new users of those domains get.

type jitDomainsRequest struct {
	EmailDomains []string `json:"email_domains"`
}

type jitDomainsView struct {
	EmailDomains []string `json:"email_domains"`
}

type jitRolesView struct {
	Roles []string `json:"roles"`
}

func (h *Handler) getJITEmailDomains(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	domains, err := h.m.JITEmailDomains(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoOrganization)
	}
	return http.StatusOK, jitDomainsView{EmailDomains: nonNil(domains)}, nil
}

func (h *Handler) setJITEmailDomains(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body jitDomainsRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	if body.EmailDomains == nil {
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", "email_domains", "is required (an empty list lists none)")
	}
	domains, err := h.m.SetJITEmailDomains(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], body.EmailDomains)
	if err != nil {
		return 0, nil, notFound(conflictOf(err), msgNoOrganization)
	}
	return http.StatusOK, jitDomainsView{EmailDomains: nonNil(domains)}, nil
}

func (h *Handler) getJITRoles(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	roles, err := h.m.JITRoles(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoOrganization)
	}
	return http.StatusOK, jitRolesView{Roles: nonNil(roles)}, nil
}

func (h *Handler) setJITRoles(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body rolesRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	if body.Roles == nil {
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", "roles", "is required (an empty list gives no roles)")
	}
	roles, err := h.m.SetJITRoles(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], body.Roles)
	if err != nil {
		return 0, nil, notFound(err, msgNoOrganization)
	}
	return http.StatusOK, jitRolesView{Roles: nonNil(roles)}, nil
}

// conflictOf answers a manage.ConflictError with its own words and field.
func conflictOf(err error) error {
	var ce *manage.ConflictError
	if errors.As(err, &ce) {
		return fieldError(http.StatusConflict, "already-exists", ce.Field, ce.Message)
	}
	return err
}
