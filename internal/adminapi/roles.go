package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

type permissionRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

type roleRequest struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Permissions *[]string `json:"permissions"`
}

func (b roleRequest) input() (manage.RoleInput, error) {
	if b.Permissions == nil {
		return manage.RoleInput{}, fieldError(http.StatusUnprocessableEntity, "invalid-value", "permissions", "is required (an empty list is fine)")
	}
	return manage.RoleInput{Name: b.Name, Description: b.Description, Permissions: *b.Permissions}, nil
}

func (h *Handler) listPermissions(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Permission, string, error) {
		return h.m.ListPermissions(r.Context(), c.tenant.ID, p)
	}, viewPermission)
}

func (h *Handler) createPermission(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body permissionRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	perm, err := h.m.CreatePermission(r.Context(), c.tenant.ID, c.actor, body.Name, body.Description)
	if err != nil {
		return 0, nil, conflict(err, "name", "a permission with this name already exists")
	}
	return http.StatusCreated, viewPermission(perm), nil
}

func (h *Handler) listTemplateRoles(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Role, string, error) {
		return h.m.ListTemplateRoles(r.Context(), c.tenant.ID, p)
	}, viewRole)
}

func (h *Handler) createTemplateRole(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body roleRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	in, err := body.input()
	if err != nil {
		return 0, nil, err
	}
	role, err := h.m.CreateTemplateRole(r.Context(), c.tenant.ID, c.actor, in)
	if err != nil {
		return 0, nil, conflict(err, "name", "a role with this name already exists in the template or an organization")
	}
	return http.StatusCreated, viewRole(role), nil
}

func (h *Handler) listOrganizationRoles(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Role, string, error) {
		roles, next, err := h.m.ListOrganizationRoles(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"], p)
		return roles, next, notFound(err, msgNoOrganization)
	}, viewRole)
}

func (h *Handler) createOrganizationRole(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body roleRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	in, err := body.input()
	if err != nil {
		return 0, nil, err
	}
	role, err := h.m.CreateOrganizationRole(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], in)
	if err != nil {
		return 0, nil, notFound(conflict(err, "name", "a role with this name already exists in the template or this organization"), msgNoOrganization)
	}
	return http.StatusCreated, viewRole(role), nil
}
