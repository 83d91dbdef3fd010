package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// linkRequest links an m2m application to the organization in the path;
// without roles it holds none there.
type linkRequest struct {
	ApplicationID string   `json:"application_id"`
	Roles         []string `json:"roles"`
}

const msgNoLink = "no such organization, or the application is not linked to it"

func (h *Handler) listApplicationLinks(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]manage.LinkedApplication, string, error) {
		links, next, err := h.m.ListApplicationLinks(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"], p)
		return links, next, notFound(err, msgNoOrganization)
	}, viewApplicationLink)
}

func (h *Handler) linkApplication(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body linkRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	l, err := h.m.LinkApplication(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], body.ApplicationID, body.Roles)
	if err != nil {
		return 0, nil, notFound(conflict(err, "application_id", "the application is linked to this organization already"), msgNoOrganization)
	}
	return http.StatusCreated, viewApplicationLink(l), nil
}

func (h *Handler) setApplicationLinkRoles(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body rolesRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	if body.Roles == nil {
		return 0, nil, fieldError(http.StatusUnprocessableEntity, "invalid-value", "roles", "is required (an empty list removes every role)")
	}
	v := mux.Vars(r)
	l, err := h.m.SetApplicationLinkRoles(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["appId"], body.Roles)
	if err != nil {
		return 0, nil, notFound(err, msgNoLink)
	}
	return http.StatusOK, viewApplicationLink(l), nil
}

func (h *Handler) unlinkApplication(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	v := mux.Vars(r)
	if err := h.m.UnlinkApplication(r.Context(), c.tenant.ID, c.actor, v["orgId"], v["appId"]); err != nil {
		return 0, nil, notFound(err, msgNoLink)
	}
	return http.StatusNoContent, nil, nil
}
