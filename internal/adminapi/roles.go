package adminapi

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
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
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	perms, next, err := h.m.ListPermissions(r.Context(), c.tenant.ID, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listOf(perms, next, viewPermission), nil
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
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	roles, next, err := h.m.ListTemplateRoles(r.Context(), c.tenant.ID, p)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, listOf(roles, next, viewRole), nil
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
	p, err := page(r)
	if err != nil {
		return 0, nil, err
	}
	roles, next, err := h.m.ListOrganizationRoles(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"], p)
	if err != nil {
		return 0, nil, notFound(err, msgNoOrganization)
	}
	return http.StatusOK, listOf(roles, next, viewRole), nil
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
