package adminapi

import (
	"encoding/json"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/orgid/orgid/internal/manage"
	"github.com/orgid/orgid/storage"
)

// organizationRequest is the body of POST, PUT and PATCH on an
// organization; absent fields are not changed.
type organizationRequest struct {
	Name        *string         `json:"name"`
	Slug        *string         `json:"slug"`
	Description *string         `json:"description"`
	LogoURL     *string         `json:"logo_url"`
	LogoDarkURL *string         `json:"logo_dark_url"`
	CustomData  json.RawMessage `json:"custom_data"`
	MFARequired *bool           `json:"mfa_required"`
	MFAPolicy   *string         `json:"mfa_policy"`
}

func (b organizationRequest) input() manage.OrganizationInput {
	return manage.OrganizationInput{
		Name: b.Name, Slug: b.Slug, Description: b.Description, LogoURL: b.LogoURL, LogoDarkURL: b.LogoDarkURL,
		CustomData: b.CustomData, MFARequired: b.MFARequired, MFAPolicy: b.MFAPolicy,
	}
}

const (
	msgNoOrganization = "no such organization"
	msgSlugTaken      = "an organization with this slug already exists"
)

func (h *Handler) listOrganizations(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	return listed(r, func(p storage.Page) ([]storage.Organization, string, error) {
		return h.m.ListOrganizations(r.Context(), c.tenant.ID, p)
	}, viewOrganization)
}

func (h *Handler) createOrganization(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body organizationRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	o, err := h.m.CreateOrganization(r.Context(), c.tenant.ID, c.actor, body.input())
	if err != nil {
		return 0, nil, conflict(err, "slug", msgSlugTaken)
	}
	return http.StatusCreated, viewOrganization(o), nil
}

func (h *Handler) getOrganization(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	o, err := h.m.GetOrganization(r.Context(), c.tenant.ID, mux.Vars(r)["orgId"])
	if err != nil {
		return 0, nil, notFound(err, msgNoOrganization)
	}
	return http.StatusOK, viewOrganization(o), nil
}

// updateOrganization serves PUT and PATCH alike: both change only the
// fields given (DESIGN §4).
func (h *Handler) updateOrganization(w http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	var body organizationRequest
	if err := decode(w, r, &body); err != nil {
		return 0, nil, err
	}
	o, err := h.m.UpdateOrganization(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"], body.input())
	if err != nil {
		return 0, nil, notFound(conflict(err, "slug", msgSlugTaken), msgNoOrganization)
	}
	return http.StatusOK, viewOrganization(o), nil
}

func (h *Handler) deleteOrganization(_ http.ResponseWriter, r *http.Request, c *call) (int, any, error) {
	if err := h.m.DeleteOrganization(r.Context(), c.tenant.ID, c.actor, mux.Vars(r)["orgId"]); err != nil {
		return 0, nil, notFound(err, msgNoOrganization)
	}
	return http.StatusNoContent, nil, nil
}
